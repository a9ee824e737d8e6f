// Sunshine Conversations v2 REST calls (paths under /v2/apps/{appId}) and the raw
// JSON shapes they answer with, as published in the official OpenAPI spec.
// Basic auth with the app key (key id : secret); 404 becomes null here so the
// adapter can answer "unknown" per key.
import { ProviderError } from '../../errors.js';
import { createUpstreamClient, type UpstreamClient } from '../http.js';
import type { SmoochApiConfig } from '../../config.js';
import type { ProviderDeps } from '../provider.js';

export interface RawMeta {
  readonly hasMore?: boolean;
  readonly afterCursor?: string;
  readonly beforeCursor?: string;
}

export interface RawIdentity {
  readonly type?: string;
  readonly value?: string;
}

export interface RawUser {
  readonly id: string;
  readonly externalId?: string | null;
  readonly signedUpAt?: string;
  readonly profile?: {
    readonly givenName?: string | null;
    readonly surname?: string | null;
    readonly email?: string | null;
    readonly avatarUrl?: string | null;
  };
  readonly identities?: readonly RawIdentity[];
}

export interface RawConversation {
  readonly id: string;
  readonly type?: 'personal' | 'sdkGroup' | string;
  readonly displayName?: string | null;
  readonly isDefault?: boolean;
  readonly lastUpdatedAt?: string | null;
  readonly createdAt?: string;
}

export interface RawParticipant {
  readonly id: string;
  readonly userId?: string;
  readonly userExternalId?: string | null;
}

export interface RawAuthor {
  readonly type?: 'user' | 'business' | string;
  readonly userId?: string;
  readonly displayName?: string;
  readonly avatarUrl?: string;
}

export interface RawContent {
  readonly type?: string;
  readonly text?: string;
  readonly mediaUrl?: string;
  readonly mediaType?: string;
}

export interface RawMessage {
  readonly id: string;
  readonly received?: string;
  readonly author?: RawAuthor;
  readonly content?: RawContent;
  readonly source?: { readonly type?: string; readonly integrationId?: string | null };
}

/** v1.1 webhook message (`messages[]` of `message:appUser` / `message:appMaker`). */
export interface RawV11Message {
  readonly _id?: string;
  readonly text?: string;
  readonly role?: string;
  readonly authorId?: string;
  readonly name?: string;
  readonly avatarUrl?: string;
  /** Unix seconds with a fraction, e.g. 1444348338.704. */
  readonly received?: number;
  readonly mediaUrl?: string;
  readonly mediaType?: string;
  readonly source?: { readonly type?: string };
}

/** v1.1 webhook body; `conversation` and `version` are absent in the documented example. */
export interface RawV11Payload {
  readonly trigger?: string;
  readonly app?: { readonly _id?: string };
  readonly messages?: readonly RawV11Message[];
  readonly appUser?: { readonly _id?: string; readonly userId?: string };
  readonly conversation?: { readonly _id?: string };
  /** Delivery events. */
  readonly message?: { readonly _id?: string };
  readonly destination?: { readonly type?: string };
  readonly error?: { readonly code?: string; readonly underlyingError?: { readonly message?: string } };
  readonly timestamp?: number;
  readonly version?: string;
}

/** Payload of a v2 `conversation:message:delivery:*` event. */
export interface RawV2DeliveryPayload {
  readonly conversation?: { readonly id?: string };
  readonly user?: { readonly id?: string };
  readonly message?: { readonly id?: string };
  readonly destination?: { readonly type?: string; readonly integrationId?: string };
  readonly isFinalEvent?: boolean;
  readonly error?: { readonly code?: string; readonly message?: string };
}

export interface RawWebhook {
  readonly id: string;
  readonly version?: string;
  readonly target: string;
  readonly triggers: readonly string[];
  readonly secret?: string;
  readonly includeFullUser?: boolean;
  readonly includeFullSource?: boolean;
}

export interface RawIntegration {
  readonly id: string;
  readonly type: string;
  readonly status?: string;
  readonly displayName?: string | null;
  /** Present on custom integrations (exactly one webhook each). */
  readonly webhooks?: readonly RawWebhook[];
}

export interface RawWebhookBody {
  readonly target?: string;
  readonly triggers?: readonly string[];
  readonly includeFullUser?: boolean;
  readonly includeFullSource?: boolean;
}

export interface RawList<T> {
  readonly items: readonly T[];
  readonly meta: RawMeta;
}

export interface SmoochClient {
  getUser(userIdOrExternalId: string): Promise<RawUser | null>;
  /** `GET users?filter[identities.email]=`: the only user listing v2 offers (not paginated). */
  findUsersByEmail(email: string): Promise<readonly RawUser[]>;
  listConversations(userId: string, page: { after: string | null; size: number }): Promise<RawList<RawConversation>>;
  getConversation(id: string): Promise<RawConversation | null>;
  /** First page of participants (a personal conversation has exactly one). Null when the conversation is unknown. */
  listParticipants(conversationId: string): Promise<readonly RawParticipant[] | null>;
  /** Fixed pages of 100, chronological; no cursor = the newest page. */
  listMessages(conversationId: string, before: string | null): Promise<RawList<RawMessage>>;
  listCustomIntegrations(): Promise<readonly RawIntegration[]>;
  getIntegration(integrationId: string): Promise<RawIntegration | null>;
  createCustomIntegration(displayName: string, webhook: RawWebhookBody): Promise<RawIntegration>;
  listWebhooks(integrationId: string): Promise<readonly RawWebhook[]>;
  getWebhook(integrationId: string, webhookId: string): Promise<RawWebhook | null>;
  updateWebhook(integrationId: string, webhookId: string, body: RawWebhookBody): Promise<RawWebhook | null>;
  /** False when the integration was already gone. */
  deleteIntegration(integrationId: string): Promise<boolean>;
}

export function createSmoochClient(config: SmoochApiConfig, deps: ProviderDeps): SmoochClient {
  const authorization = `Basic ${Buffer.from(`${config.keyId}:${config.secret}`).toString('base64')}`;
  const http: UpstreamClient = createUpstreamClient({
    provider: 'SMOOCH',
    baseUrl: config.apiUrl,
    auth: { headers: async () => ({ authorization }) },
    timeoutMs: deps.upstream.timeoutMs,
    maxRetries: deps.upstream.maxRetries,
    onCall: deps.onCall,
  });
  const app = `/v2/apps/${encodeURIComponent(config.appId)}`;
  const seg = encodeURIComponent;

  async function get<T>(path: string, query?: Record<string, string | number | null>): Promise<T> {
    return (await http.request<T>({ path: app + path, query })).body;
  }

  async function getOrNull<T>(path: string): Promise<T | null> {
    return orNull(() => get<T>(path));
  }

  return {
    async getUser(id) {
      return (await getOrNull<{ user: RawUser }>(`/users/${seg(id)}`))?.user ?? null;
    },
    async findUsersByEmail(email) {
      return (await get<{ users?: RawUser[] }>('/users', { 'filter[identities.email]': email })).users ?? [];
    },
    async listConversations(userId, page) {
      const body = await get<{ conversations?: RawConversation[]; meta?: RawMeta }>('/conversations', {
        'filter[userId]': userId,
        'page[after]': page.after,
        'page[size]': page.size,
      });
      return { items: body.conversations ?? [], meta: body.meta ?? {} };
    },
    async getConversation(id) {
      return (await getOrNull<{ conversation: RawConversation }>(`/conversations/${seg(id)}`))?.conversation ?? null;
    },
    async listParticipants(conversationId) {
      const body = await getOrNull<{ participants?: RawParticipant[] }>(`/conversations/${seg(conversationId)}/participants`);
      return body === null ? null : (body.participants ?? []);
    },
    async listMessages(conversationId, before) {
      const body = await get<{ messages?: RawMessage[]; meta?: RawMeta }>(`/conversations/${seg(conversationId)}/messages`, {
        'page[before]': before,
      });
      return { items: body.messages ?? [], meta: body.meta ?? {} };
    },
    async listCustomIntegrations() {
      const all: RawIntegration[] = [];
      let after: string | null = null;
      do {
        const body: { integrations?: RawIntegration[]; meta?: RawMeta } = await get('/integrations', {
          'filter[types]': 'custom',
          'page[after]': after,
          'page[size]': 100,
        });
        all.push(...(body.integrations ?? []));
        after = body.meta?.hasMore ? (body.meta.afterCursor ?? null) : null;
      } while (after !== null);
      return all;
    },
    async getIntegration(integrationId) {
      return (await getOrNull<{ integration: RawIntegration }>(`/integrations/${seg(integrationId)}`))?.integration ?? null;
    },
    async createCustomIntegration(displayName, webhook) {
      const res = await http.request<{ integration: RawIntegration }>({
        method: 'POST',
        path: `${app}/integrations`,
        body: { type: 'custom', displayName, webhooks: [webhook] },
      });
      return res.body.integration;
    },
    async listWebhooks(integrationId) {
      return (await get<{ webhooks?: RawWebhook[] }>(`/integrations/${seg(integrationId)}/webhooks`)).webhooks ?? [];
    },
    async getWebhook(integrationId, webhookId) {
      const path = `/integrations/${seg(integrationId)}/webhooks/${seg(webhookId)}`;
      return (await getOrNull<{ webhook: RawWebhook }>(path))?.webhook ?? null;
    },
    async updateWebhook(integrationId, webhookId, body) {
      const path = `${app}/integrations/${seg(integrationId)}/webhooks/${seg(webhookId)}`;
      const res = await orNull(() => http.request<{ webhook: RawWebhook }>({ method: 'PATCH', path, body }));
      return res?.body.webhook ?? null;
    },
    async deleteIntegration(integrationId) {
      const path = `${app}/integrations/${seg(integrationId)}`;
      return (await orNull(() => http.request({ method: 'DELETE', path }))) !== null;
    },
  };
}

/** Runs an upstream call, answering null for a 404 (an unknown id is not an error). */
async function orNull<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ProviderError && err.failure === 'NOT_FOUND') return null;
    throw err;
  }
}
