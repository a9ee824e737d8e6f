// The Sunshine Conversations v2 routes the emulator serves, under
// /v2/apps/{appId}: users, conversations and their participants and messages,
// custom integrations and their webhooks, with v2's record-id cursors and
// `{ errors: [{ code, title }] }` bodies.
import { randomBytes } from 'node:crypto';
import { SMOOCH_EVENT_TYPES } from '../../providers/smooch/event-types.js';
import type { EmuRequest, EmuResponse, EmuRoute } from '../kit.js';
import type { SmoochConversation, SmoochIntegration, SmoochSandboxData, SmoochUser, SmoochWebhook } from './data.js';

const KNOWN_TRIGGERS: ReadonlySet<string> = new Set(SMOOCH_EVENT_TYPES);
const OBJECT_ID = /^[0-9a-f]{24}$/;

export interface SmoochState {
  readonly data: SmoochSandboxData;
  baseUrl(): string;
}

export function smoochRoutes(s: SmoochState): EmuRoute[] {
  return [...userRoutes(s), ...conversationRoutes(s), ...integrationRoutes(s)];
}

function userRoutes(s: SmoochState): EmuRoute[] {
  const { data } = s;
  return [
    get(s, '/users', (req) => {
      const email = req.query.get('filter[identities.email]');
      if (!email) return error(400, 'bad_request', 'filter[identities.email] is required');
      const users = data.users.filter((u) => u.identities.some((i) => i.type === 'email' && i.value === email.toLowerCase()));
      return ok({ users });
    }),
    get(s, '/users/:userId', (req) => {
      const user = findUser(data, req.params.userId ?? '');
      return user ? ok({ user }) : error(404, 'user_not_found', 'User not found');
    }),
  ];
}

function conversationRoutes(s: SmoochState): EmuRoute[] {
  const { data } = s;
  return [
    get(s, '/conversations', (req) => {
      const userId = req.query.get('filter[userId]');
      const externalId = req.query.get('filter[userExternalId]');
      if (!userId === !externalId) return error(400, 'bad_request', 'One of filter[userId] or filter[userExternalId] is required, but not both');
      const user = userId ? data.users.find((u) => u.id === userId) : findUser(data, externalId ?? '');
      if (!user) return error(404, 'user_not_found', 'User not found');
      const owned = data.conversations.filter((c) => c.userId === user.id);
      const page = paginate(s.baseUrl(), owned, req, { defaultSize: 25, newestFirst: false });
      return 'status' in page ? page : ok({ conversations: page.items.map(conversationJson), meta: page.meta, links: page.links });
    }),
    get(s, '/conversations/:conversationId', (req) => {
      const conversation = findConversation(data, req);
      return conversation ? ok({ conversation: conversationJson(conversation) }) : conversationNotFound();
    }),
    get(s, '/conversations/:conversationId/participants', (req) => {
      const conversation = findConversation(data, req);
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
    get(s, '/conversations/:conversationId/messages', (req) => {
      const conversation = findConversation(data, req);
      if (!conversation) return error(404, 'not_found', 'Resource not found');
      // Backwards paging with a fixed page size; page[size] is ignored here.
      const page = paginate(s.baseUrl(), data.messages.get(conversation.id) ?? [], req, { fixedSize: 100, newestFirst: true });
      return 'status' in page ? page : ok({ messages: page.items, meta: page.meta, links: page.links });
    }),
  ];
}

function integrationRoutes(s: SmoochState): EmuRoute[] {
  const { data } = s;
  return [
    get(s, '/integrations', (req) => {
      const types = req.query.get('filter[types]')?.split(',').filter(Boolean);
      const matching = data.integrations.filter((i) => !types || types.includes(i.type));
      const page = paginate(s.baseUrl(), matching, req, { defaultSize: 25, newestFirst: false });
      return 'status' in page ? page : ok({ integrations: page.items, meta: page.meta, links: page.links });
    }),
    route(s, 'POST', '/integrations', (req) => {
      const body = (req.body ?? {}) as { type?: unknown; displayName?: unknown; webhooks?: unknown };
      if (body.type !== 'custom') return error(400, 'bad_request', 'Invalid integration type: the sandbox creates custom integrations only');
      if (!Array.isArray(body.webhooks) || body.webhooks.length !== 1) {
        return error(400, 'bad_request', 'A custom integration requires exactly one webhook');
      }
      const problem = webhookProblem(body.webhooks[0], true);
      if (problem) return error(400, 'bad_request', problem);
      const integration = createCustomIntegration(
        data,
        typeof body.displayName === 'string' ? body.displayName : null,
        body.webhooks[0] as Partial<SmoochWebhook> & { target: string; triggers: string[] },
        randomBytes(16).toString('hex'),
      );
      return { status: 201, body: { integration } };
    }),
    get(s, '/integrations/:integrationId', (req) => {
      const integration = findIntegration(data, req);
      return integration ? ok({ integration }) : integrationNotFound();
    }),
    route(s, 'DELETE', '/integrations/:integrationId', (req) => {
      const integration = findIntegration(data, req);
      if (!integration) return integrationNotFound();
      data.integrations.splice(data.integrations.indexOf(integration), 1);
      return ok({});
    }),
    get(s, '/integrations/:integrationId/webhooks', (req) => {
      const integration = findIntegration(data, req);
      return integration ? ok({ webhooks: integration.webhooks ?? [] }) : integrationNotFound();
    }),
    get(s, '/integrations/:integrationId/webhooks/:webhookId', (req) => {
      const webhook = findWebhook(data, req);
      return webhook ? ok({ webhook }) : error(404, 'not_found', 'Resource not found');
    }),
    route(s, 'PATCH', '/integrations/:integrationId/webhooks/:webhookId', (req) => {
      const webhook = findWebhook(data, req);
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
}

function route(s: SmoochState, method: EmuRoute['method'], path: string, handler: (req: EmuRequest) => EmuResponse): EmuRoute {
  return {
    method,
    path: `/v2/apps/:appId${path}`,
    handler: (req) => (req.params.appId === s.data.appId ? handler(req) : error(404, 'app_not_found', 'App not found')),
  };
}

function get(s: SmoochState, path: string, handler: (req: EmuRequest) => EmuResponse): EmuRoute {
  return route(s, 'GET', path, handler);
}

function findUser(data: SmoochSandboxData, idOrExternalId: string): SmoochUser | undefined {
  return data.users.find((u) => u.id === idOrExternalId || u.externalId === idOrExternalId);
}

function findConversation(data: SmoochSandboxData, req: EmuRequest): SmoochConversation | undefined {
  return data.conversations.find((c) => c.id === req.params.conversationId);
}

function findIntegration(data: SmoochSandboxData, req: EmuRequest): SmoochIntegration | undefined {
  return data.integrations.find((i) => i.id === req.params.integrationId);
}

function findWebhook(data: SmoochSandboxData, req: EmuRequest): SmoochWebhook | undefined {
  return findIntegration(data, req)?.webhooks?.find((w) => w.id === req.params.webhookId);
}

export function createCustomIntegration(
  data: SmoochSandboxData,
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
  baseUrl: string,
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


function ok(body: unknown): EmuResponse {
  return { status: 200, body };
}

export function error(status: number, code: string, title: string): EmuResponse {
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
