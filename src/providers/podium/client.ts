// Podium API v4 over the shared upstream client: the raw JSON shapes Podium
// answers with, and one typed call per endpoint the gateway uses (the
// account's token source, accounts/token-source.ts, authenticates and renews).
// Nothing here knows the unified model.
import { z } from 'zod';
import { createUpstreamClient, orNull, segment, type UpstreamClient } from '../http.js';
import type { AccountDeps } from '../provider.js';
import { budgetFor, budgetKey, type RateLimit } from '../rate-budget.js';
import { readBody } from '../validate.js';

/** Where an account's calls go and how fast they may. */
export interface PodiumEndpoint {
  readonly apiUrl: string;
  /** Client-side limit per account (the descriptor's rateLimit). */
  readonly limit: RateLimit;
}

export const PODIUM_VERSION = '2021.04.01';

export interface PodiumChannel {
  readonly type?: string | null;
  readonly identifier?: string | null;
}

export interface PodiumContact {
  readonly uid: string;
  readonly name?: string | null;
  readonly emails?: readonly string[] | null;
  readonly phoneNumbers?: readonly string[] | null;
  readonly channels?: ReadonlyArray<PodiumChannel & { readonly label?: string | null; readonly createdAt?: string | null; readonly updatedAt?: string | null }> | null;
  readonly conversations?: ReadonlyArray<{ readonly uid: string }> | null;
  readonly locations?: ReadonlyArray<{ readonly uid: string }> | null;
  readonly organization?: { readonly uid: string } | null;
  readonly createdAt?: string | null;
  readonly updatedAt?: string | null;
}

export interface PodiumConversation {
  readonly uid: string;
  readonly channel?: PodiumChannel | null;
  readonly closed?: boolean | null;
  readonly contactName?: string | null;
  readonly locationUid?: string | null;
  readonly assignedUserUid?: string | null;
  readonly assigneeUids?: readonly string[] | null;
  readonly createdAt?: string | null;
  readonly updatedAt?: string | null;
  readonly lastItemAt?: string | null;
}

export interface PodiumMessageItem {
  readonly uid?: string | null;
  readonly type?: string | null;
  readonly body?: string | null;
  readonly sendBody?: string | null;
  readonly createdAt?: string | null;
  readonly attachmentUrl?: string | null;
  readonly attachmentContentType?: string | null;
  readonly deliveryStatus?: string | null;
  readonly sourceType?: string | null;
  readonly encryptedAt?: string | null;
}

/** The message object, REST and webhook forms (`contact`, `sender`, `conversation.assignedUser` are webhook-only). */
export interface PodiumMessage {
  readonly uid?: string | null;
  readonly body?: string | null;
  readonly createdAt?: string | null;
  readonly failureReason?: string | null;
  readonly conversation?: {
    readonly uid?: string | null;
    readonly startedAt?: string | null;
    readonly assignedUserUid?: string | null;
    readonly assignedUser?: { readonly uid?: string | null; readonly name?: string | null } | null;
    readonly channel?: PodiumChannel | null;
  } | null;
  readonly location?: { readonly uid?: string | null; readonly organizationUid?: string | null } | null;
  readonly items?: readonly PodiumMessageItem[] | null;
  readonly webchatUrl?: string | null;
  /** Deprecated: the first attachment; `items[].attachmentUrl` replaces it. */
  readonly attachmentUrl?: string | null;
  readonly senderUid?: string | null;
  readonly contactName?: string | null;
  readonly contact?: { readonly uid?: string | null; readonly name?: string | null; readonly externalIdentifier?: string | null } | null;
  readonly sender?: { readonly uid?: string | null } | null;
}

export interface PodiumUser {
  readonly uid: string;
  readonly firstName?: string | null;
  readonly lastName?: string | null;
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly role?: string | null;
  readonly archived?: boolean | null;
  readonly locations?: ReadonlyArray<{ readonly uid: string }> | null;
  readonly createdAt?: string | null;
  readonly updatedAt?: string | null;
}

export interface PodiumLocation {
  readonly uid: string;
  readonly name: string | null;
  readonly displayName: string | null;
  readonly organizationUid: string | null;
  readonly phoneNumber: string | null;
  readonly podiumPhoneNumber: string | null;
  readonly archived: boolean | null;
  readonly archivedAt: string | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export interface PodiumWebhook {
  readonly uid: string;
  readonly url: string | null;
  readonly secret?: string | null;
  readonly disabled: boolean;
  readonly eventTypes: readonly string[];
  readonly locationUid?: string | null;
  readonly organizationUid?: string | null;
  readonly createdAt?: string | null;
  readonly updatedAt?: string | null;
}

export interface PodiumWebhookCreate {
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly locationUid?: string;
  readonly organizationUid?: string;
  readonly secret?: string;
}

export interface PodiumWebhookUpdate {
  readonly url?: string;
  readonly eventTypes?: readonly string[];
  readonly secret?: string;
  readonly disabled?: boolean;
}

export interface PodiumList<T> {
  readonly data: readonly T[];
  readonly nextCursor: string | null;
}

/** `cursor` null = first page. Podium ignores every filter once a cursor is sent (the cursor carries them). */
export interface PodiumPageQuery {
  readonly limit: number;
  readonly cursor: string | null;
}

export interface PodiumClient {
  /** The upstream client itself, for calls kept beside their capability (send.ts). */
  readonly http: UpstreamClient;
  listContacts(page: PodiumPageQuery, filter: { readonly updatedAt?: string | null }): Promise<PodiumList<PodiumContact>>;
  /** `identifier` is a contact uid, a conversation uid, an E.164 phone or an email. Null on 404. */
  getContact(identifier: string): Promise<PodiumContact | null>;
  listConversations(page: PodiumPageQuery, filter: { readonly locationUid?: string | null }): Promise<PodiumList<PodiumConversation>>;
  getConversation(uid: string): Promise<PodiumConversation | null>;
  /** Newest first. */
  listMessages(conversationUid: string, page: PodiumPageQuery): Promise<PodiumList<PodiumMessage>>;
  getMessage(conversationUid: string, uid: string): Promise<PodiumMessage | null>;
  listUsers(page: PodiumPageQuery): Promise<PodiumList<PodiumUser>>;
  listLocations(page: PodiumPageQuery): Promise<PodiumList<{ readonly uid: string; readonly name?: string | null }>>;
  getUser(uid: string): Promise<PodiumUser | null>;
  listWebhooks(): Promise<readonly PodiumWebhook[]>;
  getWebhook(uid: string): Promise<PodiumWebhook | null>;
  createWebhook(body: PodiumWebhookCreate): Promise<PodiumWebhook>;
  updateWebhook(uid: string, body: PodiumWebhookUpdate): Promise<PodiumWebhook | null>;
  deleteWebhook(uid: string): Promise<PodiumWebhook | null>;
}

// Envelopes as Podium documents them; entities are checked for the keys adapters rely on.
const uidEntity = z.looseObject({ uid: z.string().min(1) });
const messageEntity = z.looseObject({ uid: z.string().nullish(), conversation: z.looseObject({ uid: z.string().nullish() }).nullish() });
const webhookEntity = z.looseObject({ uid: z.string().min(1), eventTypes: z.array(z.string()), disabled: z.boolean().nullish() });
// Built once per entity: zod compiles a schema on its first parse, so a schema
// made per call would be compiled again on every upstream answer.
const envelopes = <T extends z.ZodType>(entity: T) => ({
  one: z.looseObject({ data: entity }),
  many: z.looseObject({ data: z.array(entity), metadata: z.looseObject({ nextCursor: z.string().nullish() }).nullish() }),
});
const uidEnvelopes = envelopes(uidEntity);
const messageEnvelopes = envelopes(messageEntity);
const webhookEnvelopes = envelopes(webhookEntity);
type Envelopes = ReturnType<typeof envelopes>;

export function createPodiumClient(config: PodiumEndpoint, deps: AccountDeps): PodiumClient {
  const credential = deps.account.budget ?? `account:${deps.account.id}`;
  const upstream = createUpstreamClient({
    provider: 'PODIUM',
    timeoutMs: deps.upstream.timeoutMs,
    maxRetries: deps.upstream.maxRetries,
    onCall: deps.onCall,
    baseUrl: config.apiUrl,
    auth: deps.account.auth,
    defaultHeaders: { 'podium-version': PODIUM_VERSION },
    budget: budgetFor(deps.rateBudgets, budgetKey('PODIUM', config.apiUrl, credential), config.limit),
    onBudget: (remaining) => deps.onRateBudget?.('PODIUM', remaining),
  });

  /** `route` names the endpoint in errors; `path` is what is sent. */
  async function get<T>(route: string, path: string, entity: Envelopes): Promise<T | null> {
    const res = await orNull(upstream.request({ path, route }));
    return res && readBody<{ data: T }>('PODIUM', `GET ${route}`, entity.one, res.body).data;
  }

  async function list<T>(route: string, path: string, entity: Envelopes, page: PodiumPageQuery, filter: Record<string, string | null | undefined> = {}): Promise<PodiumList<T>> {
    const query = page.cursor ? { limit: page.limit, cursor: page.cursor } : { limit: page.limit, ...filter };
    const res = await upstream.request({ path, route, query });
    const body = readBody<{ data: T[]; metadata?: { nextCursor?: string | null } | null }>('PODIUM', `GET ${route}`, entity.many, res.body);
    return { data: body.data, nextCursor: body.metadata?.nextCursor || null };
  }

  async function write(method: 'POST' | 'PUT' | 'DELETE', route: string, path: string, body?: unknown): Promise<PodiumWebhook | null> {
    const pending = upstream.request({ method, path, route, body });
    // A POST that answers 404 is an error, not an unknown id.
    const res = method === 'POST' ? await pending : await orNull(pending);
    return res && readBody<{ data: PodiumWebhook }>('PODIUM', `${method} ${route}`, webhookEnvelopes.one, res.body).data;
  }

  const seg = segment;
  return {
    http: upstream,
    listContacts: (page, filter) => list('/v4/contacts', '/v4/contacts', uidEnvelopes, page, { updated_at: filter.updatedAt }),
    getContact: (identifier) => get('/v4/contacts/{identifier}', `/v4/contacts/${seg(identifier)}`, uidEnvelopes),
    listConversations: (page, filter) => list('/v4/conversations', '/v4/conversations', uidEnvelopes, page, { locationUid: filter.locationUid }),
    getConversation: (uid) => get('/v4/conversations/{uid}', `/v4/conversations/${seg(uid)}`, uidEnvelopes),
    listMessages: (conversationUid, page) =>
      list('/v4/conversations/{uid}/messages', `/v4/conversations/${seg(conversationUid)}/messages`, messageEnvelopes, page),
    getMessage: (conversationUid, uid) =>
      get('/v4/conversations/{conversationUid}/messages/{uid}', `/v4/conversations/${seg(conversationUid)}/messages/${seg(uid)}`, messageEnvelopes),
    listUsers: (page) => list('/v4/users', '/v4/users', uidEnvelopes, page),
    listLocations: (page) => list('/v4/locations', '/v4/locations', uidEnvelopes, page),
    getUser: (uid) => get('/v4/users/{uid}', `/v4/users/${seg(uid)}`, uidEnvelopes),
    async listWebhooks() {
      const res = await upstream.request({ path: '/v4/webhooks', route: '/v4/webhooks' });
      return readBody<{ data: PodiumWebhook[] }>('PODIUM', 'GET /v4/webhooks', webhookEnvelopes.many, res.body).data;
    },
    getWebhook: (uid) => get('/v4/webhooks/{uid}', `/v4/webhooks/${seg(uid)}`, webhookEnvelopes),
    async createWebhook(body) {
      return (await write('POST', '/v4/webhooks', '/v4/webhooks', body)) as PodiumWebhook;
    },
    updateWebhook: (uid, body) => write('PUT', '/v4/webhooks/{uid}', `/v4/webhooks/${seg(uid)}`, body),
    deleteWebhook: (uid) => write('DELETE', '/v4/webhooks/{uid}', `/v4/webhooks/${seg(uid)}`),
  };
}

