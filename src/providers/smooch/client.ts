// Sunshine Conversations v2 REST calls (paths under /v2/apps/{appId}) and the raw
// JSON shapes they answer with, as published in the official OpenAPI spec.
// Basic auth with the app key (key id : secret); 404 becomes null here so the
// adapter can answer "unknown" per key; every answer is checked against its envelope.
import { z } from 'zod';
import type { SmoochApiConfig } from './config.js';
import { createUpstreamClient, orNull, segment, type RequestOptions, type UpstreamClient } from '../http.js';
import type { ProviderDeps } from '../provider.js';
import { readBody } from '../validate.js';

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
  /** The user's clients (channels) this conversation runs over. */
  readonly clientAssociations?: ReadonlyArray<{ readonly type?: string; readonly clientId?: string }>;
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
  /** The upstream client itself, for calls kept beside their capability (send.ts). */
  readonly http: UpstreamClient;
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

// Envelopes as the v2 spec documents them; records are checked for the keys adapters rely on.
const record = z.looseObject({ id: z.string().min(1) });
const meta = z.looseObject({ hasMore: z.boolean().nullish(), afterCursor: z.string().nullish(), beforeCursor: z.string().nullish() }).nullish();
const webhookRecord = z.looseObject({ id: z.string().min(1), target: z.string(), triggers: z.array(z.string()) });
const integrationRecord = z.looseObject({ id: z.string().min(1), type: z.string(), webhooks: z.array(webhookRecord).nullish() });
const shapes = {
  user: z.looseObject({ user: record }),
  users: z.looseObject({ users: z.array(record) }),
  conversations: z.looseObject({ conversations: z.array(record), meta }),
  conversation: z.looseObject({ conversation: record }),
  participants: z.looseObject({ participants: z.array(record) }),
  messages: z.looseObject({ messages: z.array(record), meta }),
  integrations: z.looseObject({ integrations: z.array(integrationRecord), meta }),
  integration: z.looseObject({ integration: integrationRecord }),
  webhooks: z.looseObject({ webhooks: z.array(webhookRecord) }),
  webhook: z.looseObject({ webhook: webhookRecord }),
};

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
  const app = `/v2/apps/${segment(config.appId)}`;
  const seg = segment;

  /** `route` is the template under /v2/apps/{appId} named in errors; `path` is what is sent. */
  async function call<T>(shape: z.ZodType, route: string, options: RequestOptions): Promise<T> {
    const res = await http.request({ ...options, path: app + options.path, route: `/v2/apps/{appId}${route}` });
    return readBody<T>('SMOOCH', `${options.method ?? 'GET'} /v2/apps/{appId}${route}`, shape, res.body);
  }

  const list = (body: { meta?: RawMeta | null }): RawMeta => body.meta ?? {};

  return {
    http: http,
    async getUser(id) {
      return (await orNull(call<{ user: RawUser }>(shapes.user, '/users/{id}', { path: `/users/${seg(id)}` })))?.user ?? null;
    },
    async findUsersByEmail(email) {
      const query = { 'filter[identities.email]': email };
      return (await call<{ users: RawUser[] }>(shapes.users, '/users', { path: '/users', query })).users;
    },
    async listConversations(userId, page) {
      const query = { 'filter[userId]': userId, 'page[after]': page.after, 'page[size]': page.size };
      const body = await call<{ conversations: RawConversation[]; meta?: RawMeta }>(shapes.conversations, '/conversations', { path: '/conversations', query });
      return { items: body.conversations, meta: list(body) };
    },
    async getConversation(id) {
      const body = await orNull(call<{ conversation: RawConversation }>(shapes.conversation, '/conversations/{id}', { path: `/conversations/${seg(id)}` }));
      return body?.conversation ?? null;
    },
    async listParticipants(conversationId) {
      const path = `/conversations/${seg(conversationId)}/participants`;
      const body = await orNull(call<{ participants: RawParticipant[] }>(shapes.participants, '/conversations/{id}/participants', { path }));
      return body?.participants ?? null;
    },
    async listMessages(conversationId, before) {
      const path = `/conversations/${seg(conversationId)}/messages`;
      const body = await call<{ messages: RawMessage[]; meta?: RawMeta }>(shapes.messages, '/conversations/{id}/messages', { path, query: { 'page[before]': before } });
      return { items: body.messages, meta: list(body) };
    },
    async listCustomIntegrations() {
      const all: RawIntegration[] = [];
      let after: string | null = null;
      do {
        const query = { 'filter[types]': 'custom', 'page[after]': after, 'page[size]': 100 };
        const body: { integrations: RawIntegration[]; meta?: RawMeta } = await call(shapes.integrations, '/integrations', { path: '/integrations', query });
        all.push(...body.integrations);
        after = body.meta?.hasMore ? (body.meta.afterCursor ?? null) : null;
      } while (after !== null);
      return all;
    },
    async getIntegration(integrationId) {
      const path = `/integrations/${seg(integrationId)}`;
      return (await orNull(call<{ integration: RawIntegration }>(shapes.integration, '/integrations/{id}', { path })))?.integration ?? null;
    },
    async createCustomIntegration(displayName, webhook) {
      const body = { type: 'custom', displayName, webhooks: [webhook] };
      return (await call<{ integration: RawIntegration }>(shapes.integration, '/integrations', { method: 'POST', path: '/integrations', body })).integration;
    },
    async listWebhooks(integrationId) {
      const path = `/integrations/${seg(integrationId)}/webhooks`;
      return (await call<{ webhooks: RawWebhook[] }>(shapes.webhooks, '/integrations/{id}/webhooks', { path })).webhooks;
    },
    async getWebhook(integrationId, webhookId) {
      const path = `/integrations/${seg(integrationId)}/webhooks/${seg(webhookId)}`;
      return (await orNull(call<{ webhook: RawWebhook }>(shapes.webhook, '/integrations/{id}/webhooks/{webhookId}', { path })))?.webhook ?? null;
    },
    async updateWebhook(integrationId, webhookId, body) {
      const path = `/integrations/${seg(integrationId)}/webhooks/${seg(webhookId)}`;
      const answer = await orNull(call<{ webhook: RawWebhook }>(shapes.webhook, '/integrations/{id}/webhooks/{webhookId}', { method: 'PATCH', path, body }));
      return answer?.webhook ?? null;
    },
    async deleteIntegration(integrationId) {
      const path = `${app}/integrations/${seg(integrationId)}`;
      return (await orNull(http.request({ method: 'DELETE', path, route: '/v2/apps/{appId}/integrations/{id}' }))) !== null;
    },
  };
}
