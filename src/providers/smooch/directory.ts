// Smooch's lists without a filter: its API cannot list all users or all
// conversations, so they come from the gateway's directory of what its
// webhooks, lookups and sends named in this account (src/directory/), newest
// activity first; each entity is still read from the API for its fields. What
// a lookup finds is recorded too, so it lists from then on.
import { forAccount, type AccountDirectory, type Sighting } from '../../directory/types.js';
import type { ContactRecord, ConversationRecord, PageRequest } from '../../model.js';
import type { ProviderDeps, ProviderPage } from '../provider.js';

export interface SmoochSeen {
  listContacts(page: PageRequest): Promise<ProviderPage<ContactRecord>>;
  listConversations(page: PageRequest): Promise<ProviderPage<ConversationRecord>>;
  /** Records what a lookup found; never fails the lookup (the directory is a convenience of listing). */
  noteContacts(records: readonly (ContactRecord | null | Error)[]): Promise<void>;
  noteConversations(records: readonly (ConversationRecord | null | Error)[]): Promise<void>;
}

export interface SmoochSeenLoaders {
  getContact(id: string): Promise<ContactRecord | null>;
  getConversation(id: string): Promise<ConversationRecord | null>;
}

/** Null without a directory (an adapter built outside the gateway): lists then refuse as before. */
export function createSmoochSeen(deps: Pick<ProviderDeps, 'directory'>, load: SmoochSeenLoaders): SmoochSeen | null {
  if (!deps.directory) return null;
  const seen: AccountDirectory = forAccount(deps.directory.store, 'SMOOCH', deps.directory.account);

  async function listFrom<T>(kind: Sighting['kind'], page: PageRequest, get: (id: string) => Promise<T | null>): Promise<ProviderPage<T>> {
    const listed = await seen.list(kind, { after: page.cursor, limit: Math.min(Math.max(page.limit, 1), 100) });
    const records = await Promise.all(listed.entries.map((e) => get(e.id)));
    // An entity the provider no longer knows (deleted user) is left out; its neighbours keep their cursors.
    const kept = listed.entries.flatMap((e, i) => (records[i] ? [{ record: records[i], cursor: e.cursor }] : []));
    return { items: kept.map((k) => k.record), nextCursor: listed.nextCursor, itemCursors: kept.map((k) => k.cursor) };
  }

  const note = async (sightings: Sighting[]): Promise<void> => {
    if (sightings.length > 0) await seen.record(sightings).catch(() => undefined);
  };

  return {
    listContacts: (page) => listFrom('contact', page, load.getContact),
    listConversations: (page) => listFrom('conversation', page, load.getConversation),
    noteContacts: (records) =>
      note(records.flatMap((c) => (c && !(c instanceof Error) ? [{ kind: 'contact' as const, id: c.id, activityAt: null, knownSince: c.updatedAt ?? c.createdAt }] : []))),
    noteConversations: (records) =>
      note(
        records.flatMap((c) =>
          c && !(c instanceof Error) ? [{ kind: 'conversation' as const, id: c.id, contactRef: c.contactRef, activityAt: null, knownSince: c.lastMessageAt ?? c.updatedAt ?? null }] : [],
        ),
      ),
  };
}
