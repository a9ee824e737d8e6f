// HighLevel (LeadConnector API v2) upstream calls through the shared client,
// and the raw JSON shapes they and the webhooks return. Every resource family
// needs its own `Version` header; a well-formed unknown id answers null.
import { z } from 'zod';
import { isRecord, str } from '../guards.js';
import { createUpstreamClient, orNull, segment, type UpstreamClient } from '../http.js';
import type { AccountDeps } from '../provider.js';
import { budgetFor, budgetKey, type RateLimit } from '../rate-budget.js';
import { readBody } from '../validate.js';

/** The `Version` header value each resource family requires (HighLevel API v2 reference). */
export const LEADCONNECTOR_VERSIONS = {
  conversations: '2021-04-15', // conversations and messages
  contacts: '2021-07-28',
  users: '2021-07-28',
} as const;

export interface RawContact {
  readonly id: string;
  readonly locationId?: string;
  readonly name?: string | null;
  readonly contactName?: string | null;
  readonly firstName?: string | null;
  readonly lastName?: string | null;
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly dateAdded?: string | null;
  readonly dateUpdated?: string | null;
  /** Search results only: the sort values to pass as `searchAfter` for the next page. */
  readonly searchAfter?: readonly unknown[];
  readonly [field: string]: unknown;
}

/** A `/conversations/search` item (`type` TYPE_*, dates epoch ms) or a GET (`type` 1–5, no dates). */
export interface RawConversation {
  readonly id: string;
  readonly locationId?: string;
  readonly contactId?: string;
  readonly assignedTo?: string | null;
  readonly type?: string | number;
  readonly fullName?: string | null;
  readonly contactName?: string | null;
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly lastMessageDate?: number | string | null;
  readonly dateAdded?: number | string | null;
  readonly dateUpdated?: number | string | null;
  readonly [field: string]: unknown;
}

/**
 * A message as REST returns it (`id`, `messageType` TYPE_*, call data under
 * `meta`) or as an InboundMessage / OutboundMessage webhook carries it
 * (`messageId`, `messageType` "SMS" / "Email" / "CALL" …, call and email data
 * at the top level).
 */
export interface RawMessage {
  readonly id?: string;
  readonly messageId?: string;
  readonly type?: string | number;
  readonly messageType?: string;
  readonly locationId?: string;
  readonly contactId?: string;
  readonly conversationId?: string;
  readonly dateAdded?: string;
  readonly body?: string;
  readonly direction?: string;
  readonly status?: string;
  readonly contentType?: string;
  readonly attachments?: readonly unknown[];
  readonly userId?: string;
  readonly callDuration?: number | string;
  readonly callStatus?: string;
  readonly meta?: { readonly callDuration?: number | string; readonly callStatus?: string; readonly [field: string]: unknown };
  readonly subject?: string;
  readonly from?: string;
  readonly to?: string | readonly string[];
  readonly cc?: string | readonly string[];
  readonly bcc?: string | readonly string[];
  readonly threadId?: string;
  readonly [field: string]: unknown;
}

/** ProviderOutboundMessage: a send request to a custom conversation provider, shaped unlike the other events. */
export interface RawProviderOutboundMessage {
  readonly type?: string; // "SMS" | "Email"
  readonly messageId?: string;
  readonly contactId?: string;
  readonly locationId?: string;
  readonly userId?: string;
  readonly phone?: string;
  readonly message?: string;
  readonly html?: string;
  readonly subject?: string;
  readonly emailFrom?: string;
  readonly emailTo?: string | readonly string[];
  readonly emailCc?: string | readonly string[];
  readonly emailBcc?: string | readonly string[];
  readonly attachments?: readonly unknown[];
  readonly [field: string]: unknown;
}

export interface RawUser {
  readonly id: string;
  readonly name?: string | null;
  readonly firstName?: string | null;
  readonly lastName?: string | null;
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly roles?: { readonly type?: string; readonly role?: string; readonly locationIds?: readonly string[] };
  readonly dateAdded?: string | null;
  readonly [field: string]: unknown;
}

/** One condition of the advanced search's `filters[]` (HighLevel API v2 reference, Search Contacts). */
export interface ContactSearchFilter {
  readonly field: string;
  readonly operator: 'eq' | 'not_eq' | 'contains' | 'not_contains' | 'exists' | 'not_exists' | 'range';
  readonly value?: unknown;
}

export interface ContactSearch {
  readonly locationId: string;
  readonly pageLimit: number;
  readonly searchAfter?: readonly unknown[];
  readonly query?: string;
  readonly filters?: readonly ContactSearchFilter[];
}

export interface ConversationSearch {
  readonly locationId: string;
  readonly limit: number;
  readonly contactId?: string;
  readonly assignedTo?: string;
  /** Epoch ms: the sort value (lastMessageDate) of the last conversation already seen. */
  readonly startAfterDate?: number;
}

export interface MessagesPage {
  readonly lastMessageId: string | null;
  readonly nextPage: boolean;
  readonly messages: readonly RawMessage[];
}

export interface UserSearch {
  readonly companyId: string;
  readonly locationId?: string;
  readonly ids?: readonly string[];
  readonly skip?: number;
  readonly limit: number;
}

export interface LeadConnectorClient {
  /** The upstream client itself, for calls kept beside their capability (send.ts). */
  readonly http: UpstreamClient;
  searchContacts(search: ContactSearch): Promise<{ readonly contacts: readonly RawContact[]; readonly searchAfter: readonly unknown[] | null }>;
  getContact(id: string): Promise<RawContact | null>;
  searchConversations(search: ConversationSearch): Promise<{ readonly conversations: readonly RawConversation[] }>;
  getConversation(id: string): Promise<RawConversation | null>;
  listMessages(conversationId: string, page: { readonly lastMessageId: string | null; readonly limit: number }): Promise<MessagesPage>;
  getMessage(id: string): Promise<RawMessage | null>;
  searchUsers(search: UserSearch): Promise<{ readonly users: readonly RawUser[]; readonly count: number | null }>;
  getUser(id: string): Promise<RawUser | null>;
  /** GET /locations/{locationId}; null on 404. */
  getLocation(id: string): Promise<{ readonly id: string; readonly name?: string | null } | null>;
}

const idEntity = z.looseObject({ id: z.string().min(1) });
const contactSearchAnswer = z.looseObject({ contacts: z.array(idEntity), searchAfter: z.array(z.unknown()).nullish() });
const conversationSearchAnswer = z.looseObject({ conversations: z.array(idEntity) });
const messagesPage = z.looseObject({ lastMessageId: z.string().nullish(), nextPage: z.boolean().nullish(), messages: z.array(idEntity) });
const userSearchAnswer = z.looseObject({ users: z.array(idEntity), count: z.number().nullish() });

/** Where an account's calls go and how fast they may. */
export interface LeadConnectorEndpoint {
  readonly apiUrl: string;
  /** Client-side burst limit per app and location (the descriptor's rateLimit). */
  readonly limit: RateLimit;
}

export function createLeadConnectorClient(config: LeadConnectorEndpoint, deps: AccountDeps): LeadConnectorClient {
  const http: UpstreamClient = createUpstreamClient({
    provider: 'LEADCONNECTOR',
    baseUrl: config.apiUrl,
    // The account's token source (renewed ahead of expiry and on 401).
    auth: deps.account.auth,
    timeoutMs: deps.upstream.timeoutMs,
    maxRetries: deps.upstream.maxRetries,
    onCall: deps.onCall,
    // HighLevel's burst limit is per app and location (HighLevel API v2 reference, rate limits); its 429s are still retried.
    budget: budgetFor(deps.rateBudgets, budgetKey('LEADCONNECTOR', config.apiUrl, deps.account.budget ?? `account:${deps.account.id}`), config.limit),
    onBudget: (remaining) => deps.onRateBudget?.('LEADCONNECTOR', remaining),
  });

  /** `route` names the endpoint in traces when `path` carries ids. */
  async function get(version: string, path: string, query?: Record<string, string | number | undefined>, route = path): Promise<unknown> {
    return (await http.request({ path, route, query, headers: { Version: version } })).body;
  }

  /** The searches are POST reads: safe to retry on 5xx and timeouts. */
  async function post(version: string, path: string, body: unknown): Promise<unknown> {
    return (await http.request({ method: 'POST', path, route: path, body, idempotent: true, headers: { Version: version } })).body;
  }

  /** A single entity, wrapped (`{contact: {...}}`) or bare (the spec's conversation, message and user GETs); null on 404. */
  async function entity<T>(version: string, route: string, path: string, wrapper: string): Promise<T | null> {
    const body = await orNull(get(version, path, undefined, route));
    if (body === null) return null;
    const inner = isRecord(body) && isRecord(body[wrapper]) ? body[wrapper] : body;
    return readBody<T>('LEADCONNECTOR', `GET ${route}`, idEntity, inner);
  }

  const v = LEADCONNECTOR_VERSIONS;
  const seg = segment;

  return {
    http: http,
    async searchContacts(search) {
      const body = await post(v.contacts, '/contacts/search', search);
      const answer = readBody<{ contacts: RawContact[]; searchAfter?: unknown[] | null }>('LEADCONNECTOR', 'POST /contacts/search', contactSearchAnswer, body);
      return { contacts: answer.contacts, searchAfter: answer.searchAfter ?? null };
    },
    getContact: (id) => entity<RawContact>(v.contacts, '/contacts/{contactId}', `/contacts/${seg(id)}`, 'contact'),
    async searchConversations(search) {
      const body = await get(v.conversations, '/conversations/search', { ...search, sort: 'desc', sortBy: 'last_message_date' });
      return readBody<{ conversations: RawConversation[] }>('LEADCONNECTOR', 'GET /conversations/search', conversationSearchAnswer, body);
    },
    getConversation: (id) => entity<RawConversation>(v.conversations, '/conversations/{conversationId}', `/conversations/${seg(id)}`, 'conversation'),
    async listMessages(conversationId, page) {
      const body = await get(v.conversations, `/conversations/${seg(conversationId)}/messages`, {
        limit: page.limit,
        lastMessageId: page.lastMessageId ?? undefined,
      }, '/conversations/{conversationId}/messages');
      // The spec documents `{lastMessageId, nextPage, messages: []}`; live integrations report it nested one level down.
      const inner = isRecord(body) && isRecord(body.messages) ? body.messages : body;
      const answer = readBody<{ lastMessageId?: string | null; nextPage?: boolean | null; messages: RawMessage[] }>(
        'LEADCONNECTOR',
        'GET /conversations/{conversationId}/messages',
        messagesPage,
        inner,
      );
      return { lastMessageId: str(answer.lastMessageId), nextPage: answer.nextPage === true, messages: answer.messages };
    },
    getMessage: (id) => entity<RawMessage & { id: string }>(v.conversations, '/conversations/messages/{id}', `/conversations/messages/${seg(id)}`, 'message'),
    async searchUsers(search) {
      const { ids, ...rest } = search;
      const body = await get(v.users, '/users/search', { ...rest, ids: ids?.join(',') });
      const answer = readBody<{ users: RawUser[]; count?: number | null }>('LEADCONNECTOR', 'GET /users/search', userSearchAnswer, body);
      return { users: answer.users, count: answer.count ?? null };
    },
    getUser: (id) => entity<RawUser>(v.users, '/users/{userId}', `/users/${seg(id)}`, 'user'),
    getLocation: (id) => entity<{ id: string; name?: string | null }>(v.contacts, '/locations/{locationId}', `/locations/${seg(id)}`, 'location'),
  };
}
