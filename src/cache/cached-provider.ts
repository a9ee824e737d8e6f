// A Provider whose reads go through the entity cache, beneath the per-request
// DataLoaders: contacts, conversations, messages and users by id, and list
// pages by their exact request. Webhook admin and the receiver pass through.
// Which counters each entry depends on is decided here, and `touched` says
// which counters an event bumps, so the two cannot drift apart.
import { createHash } from 'node:crypto';
import type { PageRequest } from '../model.js';
import type { BatchResult, Provider, ProviderPage } from '../providers/provider.js';
import type { CacheItem, EntityCache } from './entity-cache.js';

/** How long entries live, by kind; read per call so coverage changes apply at once. */
export interface CacheTtls {
  readonly entityMs: number;
  readonly usersMs: number;
}

/** What an event changed, in provider ids. */
export interface Touched {
  readonly conversationIds?: readonly string[];
  /** Some contact changed (contact events carry ids the cache cannot map to every alias it keys contacts by). */
  readonly contacts?: boolean;
  /** Some conversation changed without saying which (assignment, close). */
  readonly conversations?: boolean;
  /** The account itself went away (disconnected): every entry of it, and every answer built from one. */
  readonly account?: boolean;
}

/** Counter names under one provider credential's scope. */
function counters(scope: string) {
  return {
    contacts: `${scope}:g:contacts`,
    users: `${scope}:g:users`,
    conversations: `${scope}:g:conversations`,
    messages: `${scope}:g:messages`,
    conversation: (id: string) => `${scope}:g:conversation:${id}`,
    conversationMessages: (id: string) => `${scope}:g:messages:${id}`,
    account: `${scope}:g:account`,
  };
}

/** The counters to bump for what an event touched. */
export function touchedCounters(scope: string, touched: Touched): string[] {
  const c = counters(scope);
  const list: string[] = [];
  for (const id of touched.conversationIds ?? []) list.push(c.conversation(id), c.conversationMessages(id), c.conversations, c.messages);
  if (touched.contacts) list.push(c.contacts, c.conversations);
  if (touched.conversations) list.push(c.conversations);
  if (touched.account) list.push(c.account);
  return list;
}

/**
 * `scope` names the entries and the counters webhooks bump: each account has
 * its own (two accounts never share an entry, and a delivery routed to one
 * account leaves the others' entries alone).
 */
export function cacheProvider(inner: Provider, cache: EntityCache, scope: string, ttls: () => CacheTtls): Provider {
  const c = counters(scope);
  // Every entry also depends on the account's own counter, which its disconnection bumps.
  const entry = (kind: string, id: string, deps: readonly string[]): CacheItem => ({ key: `${scope}:${kind}:${id}`, counters: [...deps, c.account] });

  function byId<T>(entity: string, ids: readonly string[], deps: (id: string) => readonly string[], load: (ids: readonly string[]) => Promise<BatchResult<T>>, ttlMs: () => number): Promise<BatchResult<T>> {
    return cache.batch<T>(entity, ids.map((id) => entry(entity, id, deps(id))), (missing) => load(missing.map((i) => ids[i] as string)), ttlMs());
  }

  async function page<T>(entity: string, request: unknown, deps: readonly string[], load: () => Promise<ProviderPage<T>>, ttlMs: number): Promise<ProviderPage<T>> {
    const [answer] = await cache.batch<ProviderPage<T>>(entity, [entry(entity, digest(request), deps)], async () => [await load()], ttlMs);
    if (answer instanceof Error) throw answer;
    return answer as ProviderPage<T>;
  }

  return {
    ...inner,
    getContacts: (refs) => byId('contact', refs, () => [c.contacts], (ids) => inner.getContacts(ids), () => ttls().entityMs),
    getConversations: (ids) => byId('conversation', ids, (id) => [c.conversation(id)], (list) => inner.getConversations(list), () => ttls().entityMs),
    // A send's recipient depends on the contact (its name and address), not on the messages that bump the conversation.
    getRecipients: (ids) => byId('recipient', ids, () => [c.contacts], (list) => inner.getConversations(list), () => ttls().entityMs),
    getMessages: (ids) => byId('message', ids, () => [c.messages], (list) => inner.getMessages(list), () => ttls().entityMs),
    getUsers: (ids) => byId('user', ids, () => [c.users], (list) => inner.getUsers(list), () => ttls().usersMs),
    // A list can be ordered by activity (Smooch's, from the directory), which every message changes.
    listContacts: (request, filter) => page('contact-page', [request, filter], [c.contacts, c.conversations], () => inner.listContacts(request, filter), ttls().entityMs),
    listConversations: (request, filter) =>
      page('conversation-page', [request, filter], [c.conversations], () => inner.listConversations(request, filter), ttls().entityMs),
    listMessages: (conversationId: string, request: PageRequest) =>
      page('message-page', [conversationId, request], [c.conversationMessages(conversationId)], () => inner.listMessages(conversationId, request), ttls().entityMs),
    listUsers: (request) => page('user-page', request, [c.users], () => inner.listUsers(request), ttls().usersMs),
  };
}

/** A short stable key for a request object (argument order as written by this module). */
function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 22);
}
