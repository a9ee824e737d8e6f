// Podium API v4 over the shared upstream client: the raw JSON shapes Podium
// answers with, OAuth refresh-token renewal on 401, and one typed call per
// endpoint the gateway uses. Nothing here knows the unified model.
import type { PodiumApiConfig } from '../../config.js';
import { ProviderError } from '../../errors.js';
import { createUpstreamClient, type UpstreamAuth, type UpstreamClient } from '../http.js';
import type { ProviderDeps } from '../provider.js';
import { isRecord } from '../webhook-util.js';

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
  listContacts(page: PodiumPageQuery, filter: { readonly updatedAt?: string | null }): Promise<PodiumList<PodiumContact>>;
  /** `identifier` is a contact uid, a conversation uid, an E.164 phone or an email. Null on 404. */
  getContact(identifier: string): Promise<PodiumContact | null>;
  listConversations(page: PodiumPageQuery, filter: { readonly locationUid?: string | null }): Promise<PodiumList<PodiumConversation>>;
  getConversation(uid: string): Promise<PodiumConversation | null>;
  /** Newest first. */
  listMessages(conversationUid: string, page: PodiumPageQuery): Promise<PodiumList<PodiumMessage>>;
  getMessage(conversationUid: string, uid: string): Promise<PodiumMessage | null>;
  listUsers(page: PodiumPageQuery): Promise<PodiumList<PodiumUser>>;
  getUser(uid: string): Promise<PodiumUser | null>;
  listWebhooks(): Promise<readonly PodiumWebhook[]>;
  getWebhook(uid: string): Promise<PodiumWebhook | null>;
  createWebhook(body: PodiumWebhookCreate): Promise<PodiumWebhook>;
  updateWebhook(uid: string, body: PodiumWebhookUpdate): Promise<PodiumWebhook | null>;
  deleteWebhook(uid: string): Promise<PodiumWebhook | null>;
}

export function createPodiumClient(config: PodiumApiConfig, deps: ProviderDeps): PodiumClient {
  const common = { provider: 'PODIUM', timeoutMs: deps.upstream.timeoutMs, maxRetries: deps.upstream.maxRetries, onCall: deps.onCall } as const;
  const auth = createPodiumAuth(config, createUpstreamClient({ ...common, baseUrl: config.tokenUrl }));
  const upstream = createUpstreamClient({
    ...common,
    baseUrl: config.apiUrl,
    auth,
    defaultHeaders: { 'podium-version': PODIUM_VERSION },
    rateLimit: { requests: config.requestsPerMinute, perMs: 60_000 },
  });

  async function getData(path: string): Promise<unknown> {
    const res = await upstream.request({ path });
    return dataOf(res.body, 'GET', path);
  }

  async function one<T>(path: string): Promise<T | null> {
    try {
      return (await getData(path)) as T;
    } catch (err) {
      if (err instanceof ProviderError && err.failure === 'NOT_FOUND') return null;
      throw err;
    }
  }

  async function list<T>(path: string, page: PodiumPageQuery, filter: Record<string, string | null | undefined> = {}): Promise<PodiumList<T>> {
    const query = page.cursor ? { limit: page.limit, cursor: page.cursor } : { limit: page.limit, ...filter };
    const res = await upstream.request({ path, query });
    const data = dataOf(res.body, 'GET', path);
    if (!Array.isArray(data)) throw badResponse('GET', path, 'a data array');
    const meta = isRecord(res.body) && isRecord(res.body.metadata) ? res.body.metadata : {};
    return { data: data as T[], nextCursor: typeof meta.nextCursor === 'string' && meta.nextCursor ? meta.nextCursor : null };
  }

  async function write<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T | null> {
    try {
      const res = await upstream.request({ method, path, body });
      return dataOf(res.body, method, path) as T;
    } catch (err) {
      if (err instanceof ProviderError && err.failure === 'NOT_FOUND' && method !== 'POST') return null;
      throw err;
    }
  }

  const seg = encodeURIComponent;
  return {
    listContacts: (page, filter) => list('/v4/contacts', page, { updated_at: filter.updatedAt }),
    getContact: (identifier) => one(`/v4/contacts/${seg(identifier)}`),
    listConversations: (page, filter) => list('/v4/conversations', page, { locationUid: filter.locationUid }),
    getConversation: (uid) => one(`/v4/conversations/${seg(uid)}`),
    listMessages: (conversationUid, page) => list(`/v4/conversations/${seg(conversationUid)}/messages`, page),
    getMessage: (conversationUid, uid) => one(`/v4/conversations/${seg(conversationUid)}/messages/${seg(uid)}`),
    listUsers: (page) => list('/v4/users', page),
    getUser: (uid) => one(`/v4/users/${seg(uid)}`),
    async listWebhooks() {
      const data = await getData('/v4/webhooks');
      if (!Array.isArray(data)) throw badResponse('GET', '/v4/webhooks', 'a data array');
      return data as PodiumWebhook[];
    },
    getWebhook: (uid) => one(`/v4/webhooks/${seg(uid)}`),
    async createWebhook(body) {
      const created = await write<PodiumWebhook>('POST', '/v4/webhooks', body);
      if (!created) throw badResponse('POST', '/v4/webhooks', 'the created webhook');
      return created;
    },
    updateWebhook: (uid, body) => write('PUT', `/v4/webhooks/${seg(uid)}`, body),
    deleteWebhook: (uid) => write('DELETE', `/v4/webhooks/${seg(uid)}`),
  };
}

/**
 * Bearer auth with refresh-token renewal. Concurrent 401s share one refresh,
 * and a request whose token was already replaced by someone else's refresh
 * just retries: refreshing again would invalidate the token the others use.
 */
function createPodiumAuth(config: PodiumApiConfig, tokenEndpoint: UpstreamClient): UpstreamAuth {
  let accessToken = config.accessToken;
  let refreshToken = config.refreshToken;
  let inflight: Promise<boolean> | null = null;

  async function renew(): Promise<boolean> {
    if (!refreshToken || !config.clientId || !config.clientSecret) return false;
    try {
      const res = await tokenEndpoint.request({
        method: 'POST',
        path: '',
        body: { client_id: config.clientId, client_secret: config.clientSecret, grant_type: 'refresh_token', refresh_token: refreshToken },
      });
      const body = res.body;
      if (!isRecord(body) || typeof body.access_token !== 'string' || !body.access_token) {
        throw new Error('the answer has no access_token');
      }
      accessToken = body.access_token;
      if (typeof body.refresh_token === 'string' && body.refresh_token) refreshToken = body.refresh_token;
      return true;
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new ProviderError('PODIUM', 'UNAUTHORIZED', `Podium token refresh at ${config.tokenUrl} failed: ${detail}`);
    }
  }

  return {
    async headers(): Promise<Record<string, string>> {
      return accessToken ? { authorization: `Bearer ${accessToken}` } : {};
    },
    refresh(sentHeaders) {
      // Sent with a token someone else's refresh already replaced: just retry with the new one.
      const current = accessToken ? `Bearer ${accessToken}` : undefined;
      if (sentHeaders.authorization !== current) return Promise.resolve(true);
      inflight ??= renew().finally(() => {
        inflight = null;
      });
      return inflight;
    },
  };
}

function dataOf(body: unknown, method: string, path: string): unknown {
  if (!isRecord(body) || !('data' in body)) throw badResponse(method, path, 'a {data, metadata} envelope');
  return body.data;
}

function badResponse(method: string, path: string, expected: string): ProviderError {
  return new ProviderError('PODIUM', 'BAD_RESPONSE', `Podium ${method} ${path} answered without ${expected}`);
}
