// Emulator of the Sunshine Conversations v2 API for the routes the Smooch adapter
// uses: users, conversations, participants, messages (fixed pages of 100, newest
// page first), custom integrations and their webhooks. Basic auth with the app
// key; errors as `{ errors: [{ code, title }] }`. Message events are delivered
// as v2 webhooks carrying the webhook's secret in `X-API-Key`.
import { randomBytes } from 'node:crypto';
import type { SmoochConfig } from '../../config.js';
import type { MessageEventKind } from '../../model.js';
import { SMOOCH_EVENT_TYPES } from '../../providers/smooch/event-types.js';
import { deliverWebhook, seededRandom, startEmulator, type EmuRequest, type EmuResponse, type EmuRoute } from '../kit.js';
import type { EmittedEvent, ProviderEmulator, WithApi } from '../types.js';
import {
  createSmoochData,
  SANDBOX_BUSINESS,
  type SmoochConversation,
  type SmoochIntegration,
  type SmoochMessage,
  type SmoochSandboxData,
  type SmoochUser,
  type SmoochWebhook,
} from './data.js';

export interface SmoochEmulatorOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Seed of the generated data. @default 1 */
  readonly seed?: number;
  /** Secret of the webhooks `addWebhookTarget` creates. @default 'sandbox-smooch-secret' */
  readonly webhookSecret?: string;
}

export interface SmoochEmulator extends ProviderEmulator<WithApi<SmoochConfig>> {
  /** The live data behind the API, for tests that need to know more than the fixture ids. */
  readonly data: SmoochSandboxData;
}

/** The triggers `addWebhookTarget` subscribes: every message event the emulator emits. */
export const SANDBOX_TRIGGERS = ['conversation:message', 'conversation:message:delivery:failure'];

const KNOWN_TRIGGERS: ReadonlySet<string> = new Set(SMOOCH_EVENT_TYPES);
const ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_requests',
};
const OBJECT_ID = /^[0-9a-f]{24}$/;

export async function startSmoochEmulator(options: SmoochEmulatorOptions = {}): Promise<SmoochEmulator> {
  const data = createSmoochData(options.seed ?? 1);
  const webhookSecret = options.webhookSecret ?? 'sandbox-smooch-secret';
  const rand = seededRandom((options.seed ?? 1) + 1);
  const expectedAuth = `Basic ${Buffer.from(`${data.keyId}:${data.secret}`).toString('base64')}`;
  let baseUrl = '';

  const routes: EmuRoute[] = [
    get('/users', (req) => {
      const email = req.query.get('filter[identities.email]');
      if (!email) return error(400, 'bad_request', 'filter[identities.email] is required');
      const users = data.users.filter((u) => u.identities.some((i) => i.type === 'email' && i.value === email.toLowerCase()));
      return ok({ users });
    }),
    get('/users/:userId', (req) => {
      const user = findUser(req.params.userId ?? '');
      return user ? ok({ user }) : error(404, 'user_not_found', 'User not found');
    }),
    get('/conversations', (req) => {
      const userId = req.query.get('filter[userId]');
      const externalId = req.query.get('filter[userExternalId]');
      if (!userId === !externalId) return error(400, 'bad_request', 'One of filter[userId] or filter[userExternalId] is required, but not both');
      const user = userId ? data.users.find((u) => u.id === userId) : findUser(externalId ?? '');
      if (!user) return error(404, 'user_not_found', 'User not found');
      const owned = data.conversations.filter((c) => c.userId === user.id);
      const page = paginate(owned, req, { defaultSize: 25, newestFirst: false });
      return 'status' in page ? page : ok({ conversations: page.items.map(conversationJson), meta: page.meta, links: page.links });
    }),
    get('/conversations/:conversationId', (req) => {
      const conversation = findConversation(req);
      return conversation ? ok({ conversation: conversationJson(conversation) }) : conversationNotFound();
    }),
    get('/conversations/:conversationId/participants', (req) => {
      const conversation = findConversation(req);
      if (!conversation) return conversationNotFound();
      const user = data.users.find((u) => u.id === conversation.userId);
      return ok({
        participants: [
          {
            id: conversation.participantId,
            userId: conversation.userId,
            ...(user?.externalId ? { userExternalId: user.externalId } : {}),
            unreadCount: 0,
            clientAssociations: [{ type: clientType(conversation.channel), clientId: conversation.integrationId }],
          },
        ],
        meta: { hasMore: false },
      });
    }),
    get('/conversations/:conversationId/messages', (req) => {
      const conversation = findConversation(req);
      if (!conversation) return error(404, 'not_found', 'Resource not found');
      // Backwards paging with a fixed page size; page[size] is ignored here.
      const page = paginate(data.messages.get(conversation.id) ?? [], req, { fixedSize: 100, newestFirst: true });
      return 'status' in page ? page : ok({ messages: page.items, meta: page.meta, links: page.links });
    }),
    get('/integrations', (req) => {
      const types = req.query.get('filter[types]')?.split(',').filter(Boolean);
      const matching = data.integrations.filter((i) => !types || types.includes(i.type));
      const page = paginate(matching, req, { defaultSize: 25, newestFirst: false });
      return 'status' in page ? page : ok({ integrations: page.items, meta: page.meta, links: page.links });
    }),
    route('POST', '/integrations', (req) => {
      const body = (req.body ?? {}) as { type?: unknown; displayName?: unknown; webhooks?: unknown };
      if (body.type !== 'custom') return error(400, 'bad_request', 'Invalid integration type: the sandbox creates custom integrations only');
      if (!Array.isArray(body.webhooks) || body.webhooks.length !== 1) {
        return error(400, 'bad_request', 'A custom integration requires exactly one webhook');
      }
      const problem = webhookProblem(body.webhooks[0], true);
      if (problem) return error(400, 'bad_request', problem);
      const integration = createCustomIntegration(
        typeof body.displayName === 'string' ? body.displayName : null,
        body.webhooks[0] as Partial<SmoochWebhook> & { target: string; triggers: string[] },
        randomBytes(16).toString('hex'),
      );
      return { status: 201, body: { integration } };
    }),
    get('/integrations/:integrationId', (req) => {
      const integration = findIntegration(req);
      return integration ? ok({ integration }) : integrationNotFound();
    }),
    route('DELETE', '/integrations/:integrationId', (req) => {
      const integration = findIntegration(req);
      if (!integration) return integrationNotFound();
      data.integrations.splice(data.integrations.indexOf(integration), 1);
      return ok({});
    }),
    get('/integrations/:integrationId/webhooks', (req) => {
      const integration = findIntegration(req);
      return integration ? ok({ webhooks: integration.webhooks ?? [] }) : integrationNotFound();
    }),
    get('/integrations/:integrationId/webhooks/:webhookId', (req) => {
      const webhook = findWebhook(req);
      return webhook ? ok({ webhook }) : error(404, 'not_found', 'Resource not found');
    }),
    route('PATCH', '/integrations/:integrationId/webhooks/:webhookId', (req) => {
      const webhook = findWebhook(req);
      if (!webhook) return error(404, 'not_found', 'Resource not found');
      const problem = webhookProblem(req.body, false);
      if (problem) return error(400, 'bad_request', problem);
      const patch = req.body as Partial<SmoochWebhook>;
      if (patch.target !== undefined) webhook.target = patch.target;
      if (patch.triggers !== undefined) webhook.triggers = [...patch.triggers];
      if (patch.includeFullUser !== undefined) webhook.includeFullUser = patch.includeFullUser;
      if (patch.includeFullSource !== undefined) webhook.includeFullSource = patch.includeFullSource;
      return ok({ webhook });
    }),
  ];

  const emulator = await startEmulator({
    name: 'smooch',
    routes,
    port: options.port,
    authorize: (req) => (req.headers.authorization === expectedAuth ? null : error(401, 'unauthorized', 'Authorization is required')),
    errorBody: (status, message) => ({ errors: [{ code: ERROR_CODES[status] ?? 'internal_server_error', title: message }] }),
  });
  baseUrl = emulator.url;

  function route(method: EmuRoute['method'], path: string, handler: (req: EmuRequest) => EmuResponse): EmuRoute {
    return {
      method,
      path: `/v2/apps/:appId${path}`,
      handler: (req) => (req.params.appId === data.appId ? handler(req) : error(404, 'app_not_found', 'App not found')),
    };
  }

  function get(path: string, handler: (req: EmuRequest) => EmuResponse): EmuRoute {
    return route('GET', path, handler);
  }

  function findUser(idOrExternalId: string): SmoochUser | undefined {
    return data.users.find((u) => u.id === idOrExternalId || u.externalId === idOrExternalId);
  }

  function findConversation(req: EmuRequest): SmoochConversation | undefined {
    return data.conversations.find((c) => c.id === req.params.conversationId);
  }

  function findIntegration(req: EmuRequest): SmoochIntegration | undefined {
    return data.integrations.find((i) => i.id === req.params.integrationId);
  }

  function findWebhook(req: EmuRequest): SmoochWebhook | undefined {
    return findIntegration(req)?.webhooks?.find((w) => w.id === req.params.webhookId);
  }

  function createCustomIntegration(
    displayName: string | null,
    webhook: Partial<SmoochWebhook> & { target: string; triggers: string[] },
    secret: string,
  ): SmoochIntegration {
    const now = Date.now();
    const integration: SmoochIntegration = {
      id: data.newId(now),
      type: 'custom',
      status: 'active',
      displayName,
      webhooks: [
        {
          id: data.newId(now),
          version: 'v2',
          target: webhook.target,
          triggers: [...webhook.triggers],
          secret,
          includeFullUser: webhook.includeFullUser ?? false,
          includeFullSource: webhook.includeFullSource ?? false,
        },
      ],
    };
    data.integrations.push(integration);
    return integration;
  }

  /** Pages `items` (sorted by id) by `page[after]` / `page[before]` record-id cursors, as the v2 API does. */
  function paginate<T extends { id: string }>(
    items: readonly T[],
    req: EmuRequest,
    opts: { fixedSize?: number; defaultSize?: number; newestFirst: boolean },
  ): { items: T[]; meta: Record<string, unknown>; links: Record<string, string> } | EmuResponse {
    const after = req.query.get('page[after]');
    const before = req.query.get('page[before]');
    const sizeParam = req.query.get('page[size]');
    const size = opts.fixedSize ?? (sizeParam === null ? (opts.defaultSize ?? 25) : Number(sizeParam));
    if ((after !== null && before !== null) || [after, before].some((c) => c !== null && !OBJECT_ID.test(c))) {
      return error(400, 'bad_request', 'Invalid page query parameters');
    }
    if (!Number.isInteger(size) || size < 1 || size > 100) return error(400, 'bad_request', 'Invalid page query parameters');
    // Records strictly after `after` and strictly before `before`; a backwards page takes the end of that range.
    const lo = after === null ? 0 : items.filter((i) => i.id <= after).length;
    const hi = before === null ? items.length : items.filter((i) => i.id < before).length;
    const backwards = before !== null || (after === null && opts.newestFirst);
    const [start, end] = backwards ? [Math.max(lo, hi - size), hi] : [lo, Math.min(hi, lo + size)];
    const page = items.slice(start, end);
    const first = page[0];
    const last = page[page.length - 1];
    const beforeCursor = start > 0 && first ? first.id : undefined;
    const afterCursor = end < items.length && last ? last.id : undefined;
    const link = (param: string, cursor: string): string => {
      const url = new URL(req.path, baseUrl);
      url.searchParams.set(param, cursor);
      if (!opts.fixedSize) url.searchParams.set('page[size]', String(size));
      for (const [k, v] of req.query) if (k.startsWith('filter[')) url.searchParams.set(k, v);
      return url.toString();
    };
    return {
      items: page,
      meta: { hasMore: backwards ? start > 0 : end < items.length, ...(afterCursor ? { afterCursor } : {}), ...(beforeCursor ? { beforeCursor } : {}) },
      links: {
        ...(beforeCursor ? { prev: link('page[before]', beforeCursor) } : {}),
        ...(afterCursor ? { next: link('page[after]', afterCursor) } : {}),
      },
    };
  }

  async function emitMessageEvent(kind: MessageEventKind, opts: { readonly conversationId?: string } = {}): Promise<EmittedEvent> {
    const conversation = opts.conversationId
      ? data.conversations.find((c) => c.id === opts.conversationId)
      : data.conversations[Math.floor(rand() * data.conversations.length)];
    if (!conversation) throw new Error(`Smooch sandbox has no conversation ${JSON.stringify(opts.conversationId)}`);
    const user = data.users.find((u) => u.id === conversation.userId) as SmoochUser;
    const now = Date.now();
    const received = new Date(now).toISOString();
    const fromUser = kind === 'RECEIVED';
    const message: SmoochMessage = {
      id: data.newId(now),
      received,
      author: fromUser
        ? { type: 'user', userId: user.id, displayName: `${user.profile.givenName} ${user.profile.surname}` }
        : { type: 'business', ...SANDBOX_BUSINESS },
      content: { type: 'text', text: fromUser ? 'Hi, is anyone there?' : 'Thanks for reaching out, we are on it.' },
      source: fromUser ? { type: conversation.channel, integrationId: conversation.integrationId } : { type: 'api:conversations' },
    };
    data.messages.get(conversation.id)?.push(message);
    conversation.lastUpdatedAt = received;

    const userRef = { id: user.id, ...(user.externalId ? { externalId: user.externalId } : {}), authenticated: false };
    const conversationRef = { id: conversation.id, type: conversation.type };
    const event =
      kind === 'FAILED'
        ? {
            id: data.newId(now),
            type: 'conversation:message:delivery:failure',
            createdAt: received,
            payload: {
              conversation: conversationRef,
              user: userRef,
              destination: { type: conversation.channel, integrationId: conversation.integrationId },
              message: { id: message.id },
              isFinalEvent: true,
              error: { code: 'uncategorized_error', message: `The ${conversation.channel} channel rejected the message` },
            },
          }
        : {
            id: data.newId(now),
            type: 'conversation:message',
            createdAt: received,
            payload: {
              conversation: conversationRef,
              message: fromUser ? { ...message, author: { ...message.author, user: userRef } } : message,
            },
          };

    const targets = data.integrations.flatMap((i) => (i.webhooks ?? []).filter((w) => w.triggers.includes(event.type)));
    const bodyFor = (webhookId: string): string =>
      JSON.stringify({ app: { id: data.appId }, webhook: { id: webhookId, version: 'v2' }, events: [event] });
    const deliveries = await Promise.all(
      targets.map(async (w) => {
        const status = await deliverWebhook(w.target, bodyFor(w.id), { 'x-api-key': w.secret }).then(
          (res) => res.status,
          () => 0, // unreachable target
        );
        return { url: w.target, status };
      }),
    );
    const shown = targets[0];
    return {
      messageId: message.id,
      conversationId: conversation.id,
      rawBody: bodyFor(shown?.id ?? data.newId(now)),
      headers: { 'x-api-key': shown?.secret ?? webhookSecret },
      deliveries,
    };
  }

  return Object.assign(emulator, {
    provider: 'SMOOCH' as const,
    data,
    fixtures: {
      locationIds: [], // Smooch has no locations
      userIds: [], // nor staff users
      contactIds: data.users.map((u) => u.id),
      conversationIds: data.conversations.map((c) => c.id),
      messageCount: [...data.messages.values()].reduce((n, list) => n + list.length, 0),
    },
    providerConfig: () => ({ api: { apiUrl: emulator.url, appId: data.appId, keyId: data.keyId, secret: data.secret }, webhookSecret }),
    async addWebhookTarget(url: string) {
      createCustomIntegration('Sandbox webhook', { target: url, triggers: SANDBOX_TRIGGERS }, webhookSecret);
    },
    emitMessageEvent,
    signWebhook: () => ({ 'x-api-key': webhookSecret }),
  });
}

function ok(body: unknown): EmuResponse {
  return { status: 200, body };
}

function error(status: number, code: string, title: string): EmuResponse {
  return { status, body: { errors: [{ code, title }] } };
}

function conversationNotFound(): EmuResponse {
  return error(404, 'conversation_not_found', 'Conversation not found');
}

function integrationNotFound(): EmuResponse {
  return error(404, 'integration_not_found', 'Integration not found');
}

/** The v2 API object: emulator bookkeeping (participant, channel) stripped. */
function conversationJson(c: SmoochConversation): Record<string, unknown> {
  const { userId: _userId, participantId: _participantId, channel: _channel, integrationId: _integrationId, ...api } = c;
  return api;
}

/** SDK channels (web, ios, android) are `sdk` clients in v2. */
function clientType(channel: string): string {
  return ['web', 'ios', 'android'].includes(channel) ? 'sdk' : channel;
}

function webhookProblem(value: unknown, creating: boolean): string | null {
  if (typeof value !== 'object' || value === null) return 'webhook must be an object';
  const w = value as Record<string, unknown>;
  if (creating || w.target !== undefined) {
    if (typeof w.target !== 'string' || !/^https?:\/\//.test(w.target)) return 'webhook target must be an http(s) URL';
  }
  if (creating || w.triggers !== undefined) {
    if (!Array.isArray(w.triggers) || w.triggers.length === 0) return 'webhook triggers must be a non-empty array';
    const unknown = w.triggers.find((t) => typeof t !== 'string' || !KNOWN_TRIGGERS.has(t));
    if (unknown !== undefined) return `Unknown trigger ${JSON.stringify(unknown)}`;
  }
  for (const flag of ['includeFullUser', 'includeFullSource']) {
    if (w[flag] !== undefined && typeof w[flag] !== 'boolean') return `${flag} must be a boolean`;
  }
  return null;
}
