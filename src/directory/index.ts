// The directory of what the gateway has seen (types.ts): MongoDB when the
// gateway has one, else in process; and what a stored webhook event adds to it.
import type { Db } from 'mongodb';
import type { ProviderName } from '../model.js';
import { createMemoryDirectory } from './memory.js';
import { createMongoDirectory } from './mongo.js';
import type { Directory, Sighting } from './types.js';

export type { AccountDirectory, Directory, DirectoryEntry, DirectoryKind, DirectoryPage, Sighting } from './types.js';
export { forAccount } from './types.js';
export { createMemoryDirectory } from './memory.js';
export { createMongoDirectory } from './mongo.js';

/** The account key of the environment's account, whose events carry no account. */
export const ENV_DIRECTORY_ACCOUNT = 'env';

/** `db`: the gateway's shared database, when it has one (its client is closed by its owner). */
export function createDirectory(config: { readonly mongodbUrl: string | null; readonly mongodbDb: string }, db: Db | null = null): Directory {
  if (config.mongodbUrl === null) return createMemoryDirectory();
  return db ? createMongoDirectory({ db }) : createMongoDirectory({ url: config.mongodbUrl, db: config.mongodbDb });
}

/** What ingest hands the directory: a stored event, as far as the directory reads it. */
export interface SeenEvent {
  readonly provider: ProviderName;
  readonly account?: string | null;
  readonly receivedAt: string;
  readonly message: { readonly conversationId: string | null; readonly contactRef: string | null; readonly createdAt: string | null } | null;
}

/**
 * The after-stored hook of the event pipeline (events/persist.ts): records the
 * contact and conversation every stored event names, for the providers that
 * list from the directory. It runs before the provider is answered, so a query
 * after the 200 lists them; a failure fails the delivery (the provider retries).
 */
export function recordSeenOnStored(directory: Directory, listsFromDirectory: (provider: ProviderName) => boolean): (batch: { readonly events: readonly SeenEvent[] }) => Promise<void> {
  return async ({ events }) => {
    const byAccount = new Map<string, { provider: ProviderName; account: string; sightings: Sighting[] }>();
    for (const event of events) {
      if (!event.message || !listsFromDirectory(event.provider)) continue;
      const account = event.account ?? ENV_DIRECTORY_ACCOUNT;
      const key = `${event.provider}:${account}`;
      const group = byAccount.get(key) ?? { provider: event.provider, account, sightings: [] };
      byAccount.set(key, group);
      const { conversationId, contactRef, createdAt } = event.message;
      const activityAt = createdAt ?? event.receivedAt;
      if (contactRef) group.sightings.push({ kind: 'contact', id: contactRef, activityAt });
      if (conversationId) group.sightings.push({ kind: 'conversation', id: conversationId, contactRef, activityAt });
    }
    await Promise.all([...byAccount.values()].map((g) => directory.record(g.provider, g.account, g.sightings)));
  };
}
