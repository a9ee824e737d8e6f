// Emulator of Podium API v4 for the sandbox, tests and benchmarks: OAuth
// refresh, contacts, conversations, messages, users, locations and webhook
// CRUD with Podium's envelopes, cursors and error bodies, and message webhooks
// signed the way Podium signs them.
import { createHmac, randomUUID } from 'node:crypto';
import type { PodiumConfig } from '../../config.js';
import type { PodiumContact, PodiumConversation, PodiumWebhook } from '../../providers/podium/client.js';
import { PODIUM_EVENT_TYPES } from '../../providers/podium/event-types.js';
import { deliverWebhook, seededRandom, startEmulator, type Emulator, type EmuRequest, type EmuResponse } from '../kit.js';
import type { EmittedEvent, ProviderEmulator, WithApi } from '../types.js';
import { createPodiumData, podiumMessage } from './data.js';

export interface PodiumEmulator extends ProviderEmulator<WithApi<PodiumConfig>> {
  /** Replaces the access token as if it had expired: the adapter's next call gets 401 and has to refresh. */
  expireAccessToken(): void;
}

export interface PodiumEmulatorOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Seed of the sandbox data. @default 1 */
  readonly seed?: number;
  /** Secret of webhooks made by addWebhookTarget and of signWebhook. @default 'sandbox-podium-secret' */
  readonly webhookSecret?: string;
}

const VERSION = '2021.04.01';
const CURSOR_TTL_MS = 86_400_000; // Podium cursors expire; a day keeps sandbox sessions working
const MESSAGE_EVENTS = ['message.sent', 'message.received', 'message.failed'];

interface CursorState {
  readonly path: string;
  readonly position: number;
  readonly filter: Readonly<Record<string, string>>;
  readonly issuedAt: number;
}

/** One page cut from a list, given the cursor position (null = first page). */
type Slicer<T> = (position: number | null, limit: number) => { items: readonly T[]; next: number | null; total: number };

export async function startPodiumEmulator(options: PodiumEmulatorOptions = {}): Promise<PodiumEmulator> {
  const seed = options.seed ?? 1;
  const data = createPodiumData(seed);
  const rand = seededRandom(seed + 1);
  const sandboxSecret = options.webhookSecret ?? 'sandbox-podium-secret';
  const client = { id: 'sandbox-podium-client', secret: 'sandbox-podium-client-secret', refreshToken: 'sandbox-podium-refresh-token' };
  const newToken = (): string => `sandbox-podium-access-${randomUUID()}`;
  let accessToken = newToken();
  const webhooks = new Map<string, PodiumWebhook>();

  const conversationIndex = new Map(data.conversations.map((c, i) => [c.uid, i]));
  const contactIndex = new Map<string, PodiumContact>();
  for (const contact of data.contacts) {
    for (const key of [contact.uid, ...(contact.conversations ?? []).map((c) => c.uid), ...(contact.phoneNumbers ?? []), ...(contact.emails ?? [])]) {
      contactIndex.set(key.toLowerCase(), contact);
    }
  }
  const conversation = (uid: string): PodiumConversation | undefined => {
    const i = conversationIndex.get(uid);
    return i === undefined ? undefined : data.conversations[i];
  };

  let emu: Emulator | null = null;
  const baseUrl = (): string => emu?.url ?? '';

  function ok(req: EmuRequest, payload: unknown, metadata: Record<string, unknown> = {}): EmuResponse {
    const query = req.query.toString();
    return { status: 200, body: { data: payload, metadata: { url: `${baseUrl()}${req.path}${query ? `?${query}` : ''}`, version: VERSION, ...metadata } } };
  }

  function paged<T>(req: EmuRequest, filterNames: readonly string[], select: (filter: Record<string, string>) => Slicer<T> | EmuResponse): EmuResponse {
    const rawLimit = req.query.get('limit');
    const limit = rawLimit === null ? 10 : /^\d+$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= 100)) return error(400, 'invalid_request_values', `limit must be a whole number from 1 to 100, got "${rawLimit}"`);
    const cursor = req.query.get('cursor');
    let state: CursorState | null = null;
    if (cursor) {
      state = decodeCursor(cursor, req.path);
      if (!state) return error(400, 'invalid_cursor', 'The cursor is invalid or has expired; request the list again without it');
    }
    // With a cursor Podium ignores every other parameter: the cursor carries the filter.
    const filter = state?.filter ?? Object.fromEntries(filterNames.flatMap((name) => (req.query.get(name) ? [[name, req.query.get(name) as string]] : [])));
    const slicer = select(filter);
    if (typeof slicer !== 'function') return slicer;
    const page = slicer(state?.position ?? null, limit);
    const nextCursor = page.next === null ? null : encodeCursor({ path: req.path, position: page.next, filter, issuedAt: Date.now() });
    return ok(req, page.items, { nextCursor, totalItems: page.total });
  }

  function webhookTargets(eventType: string, locationUid: string | null): PodiumWebhook[] {
    return [...webhooks.values()].filter(
      (w) =>
        !w.disabled &&
        w.url &&
        w.eventTypes.includes(eventType) &&
        (w.organizationUid === data.organization.uid || (w.locationUid !== null && w.locationUid === locationUid)),
    );
  }

  function webhookBody(body: unknown, creating: boolean): Partial<PodiumWebhook> | string {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
    const b = body as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    if (b.url !== undefined || creating) {
      if (typeof b.url !== 'string' || !/^https?:\/\/\S+$/.test(b.url)) return `url must be an http(s) URL, got ${JSON.stringify(b.url)}`;
      out.url = b.url;
    }
    if (b.eventTypes !== undefined || creating) {
      const types = b.eventTypes;
      if (!Array.isArray(types) || types.length === 0) return `eventTypes must be a non-empty array, got ${JSON.stringify(types)}`;
      const unknown = types.filter((t) => !(PODIUM_EVENT_TYPES as readonly unknown[]).includes(t));
      if (unknown.length > 0) return `eventTypes has unknown values ${JSON.stringify(unknown)}`;
      out.eventTypes = types;
    }
    if (b.secret !== undefined) {
      if (typeof b.secret !== 'string') return `secret must be a string, got ${JSON.stringify(b.secret)}`;
      out.secret = b.secret;
    }
    if (b.disabled !== undefined && !creating) {
      if (typeof b.disabled !== 'boolean') return `disabled must be a boolean, got ${JSON.stringify(b.disabled)}`;
      out.disabled = b.disabled;
    }
    if (creating) {
      // "If both are given the organizationUid will be used."
      if (b.organizationUid !== undefined) {
        if (b.organizationUid !== data.organization.uid) return `organizationUid ${JSON.stringify(b.organizationUid)} is not an organization this token can access`;
        out.organizationUid = b.organizationUid;
        out.locationUid = null;
      } else if (b.locationUid !== undefined) {
        if (!data.locations.some((l) => l.uid === b.locationUid)) return `locationUid ${JSON.stringify(b.locationUid)} is not a location this token can access`;
        out.locationUid = b.locationUid;
        out.organizationUid = null;
      } else return 'one of locationUid or organizationUid is required';
    }
    return out as Partial<PodiumWebhook>;
  }

  function findWebhook(req: EmuRequest): PodiumWebhook | EmuResponse {
    const uid = req.params.uid ?? '';
    return webhooks.get(uid) ?? error(404, 'resource_not_found', `Webhook ${uid} not found`);
  }

  const base = await startEmulator({
    name: 'podium',
    port: options.port ?? 0,
    publicPaths: ['/oauth/token'],
    errorBody: (status, message) => errorBody(codeForStatus(status), message),
    authorize(req) {
      const version = req.headers['podium-version'];
      if (version !== undefined && version !== VERSION) {
        return error(400, 'invalid_header_version', `podium-version must be ${VERSION}, got "${String(version)}"`);
      }
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${accessToken}`) {
        return error(401, 'unauthenticated', auth ? 'The access token is invalid or has expired' : 'An Authorization: Bearer <access token> header is required');
      }
      return null;
    },
    routes: [
      {
        method: 'POST',
        path: '/oauth/token',
        handler(req) {
          const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
          if (b.grant_type !== 'refresh_token') {
            return error(400, 'invalid_request_values', `grant_type must be refresh_token in the sandbox, got ${JSON.stringify(b.grant_type)}`);
          }
          if (b.client_id !== client.id || b.client_secret !== client.secret) return error(401, 'unauthenticated', 'client_id or client_secret is not valid');
          if (b.refresh_token !== client.refreshToken) return error(401, 'unauthenticated', 'refresh_token is not valid');
          accessToken = newToken();
          return { status: 200, body: { access_token: accessToken, refresh_token: client.refreshToken, token_type: 'Bearer', expires_in: 36_000 } };
        },
      },
      {
        method: 'GET',
        path: '/v4/contacts',
        handler: (req) =>
          paged(req, ['updated_at'], (filter) => {
            const after = filter.updated_at;
            if (after === undefined) return forward(data.contacts);
            const afterMs = Date.parse(after);
            if (Number.isNaN(afterMs)) return error(400, 'invalid_request_values', `updated_at must look like YYYY-MM-DDTHH:MM:SSZ, got "${after}"`);
            return forward(data.contacts.filter((c) => Date.parse(c.updatedAt ?? '') > afterMs));
          }),
      },
      {
        method: 'GET',
        path: '/v4/contacts/:identifier',
        handler(req) {
          const identifier = req.params.identifier ?? '';
          const contact = contactIndex.get(identifier.toLowerCase());
          return contact ? ok(req, contact) : error(404, 'resource_not_found', `Contact ${identifier} not found`);
        },
      },
      {
        method: 'GET',
        path: '/v4/conversations',
        handler: (req) =>
          paged(req, ['locationUid'], (filter) =>
            forward(filter.locationUid ? data.conversations.filter((c) => c.locationUid === filter.locationUid) : data.conversations),
          ),
      },
      {
        method: 'GET',
        path: '/v4/conversations/:uid',
        handler(req) {
          const found = conversation(req.params.uid ?? '');
          return found ? ok(req, found) : error(404, 'resource_not_found', `Conversation ${req.params.uid} not found`);
        },
      },
      {
        method: 'GET',
        path: '/v4/conversations/:uid/messages',
        handler: (req) =>
          paged(req, [], () => {
            const messages = data.messages.get(req.params.uid ?? '');
            return messages ? newestFirst(messages) : error(404, 'resource_not_found', `Conversation ${req.params.uid} not found`);
          }),
      },
      {
        method: 'GET',
        path: '/v4/conversations/:conversation/messages/:uid',
        handler(req) {
          const message = data.messages.get(req.params.conversation ?? '')?.find((m) => m.uid === req.params.uid);
          return message ? ok(req, message) : error(404, 'resource_not_found', `Message ${req.params.uid} not found in conversation ${req.params.conversation}`);
        },
      },
      { method: 'GET', path: '/v4/users', handler: (req) => paged(req, [], () => forward(data.users)) },
      {
        method: 'GET',
        path: '/v4/users/:uid',
        handler(req) {
          const user = data.users.find((u) => u.uid === req.params.uid);
          return user ? ok(req, user) : error(404, 'resource_not_found', `User ${req.params.uid} not found`);
        },
      },
      { method: 'GET', path: '/v4/locations', handler: (req) => paged(req, [], () => forward(data.locations)) },
      { method: 'GET', path: '/v4/webhooks', handler: (req) => ok(req, [...webhooks.values()]) },
      {
        method: 'POST',
        path: '/v4/webhooks',
        handler(req) {
          const fields = webhookBody(req.body, true);
          if (typeof fields === 'string') return error(400, 'invalid_request_values', fields);
          const now = new Date().toISOString();
          const webhook: PodiumWebhook = { uid: randomUUID(), url: null, secret: null, disabled: false, eventTypes: [], createdAt: now, updatedAt: now, ...fields };
          webhooks.set(webhook.uid, webhook);
          return ok(req, webhook);
        },
      },
      {
        method: 'GET',
        path: '/v4/webhooks/:uid',
        handler(req) {
          const found = findWebhook(req);
          return 'status' in found ? found : ok(req, found);
        },
      },
      {
        method: 'PUT',
        path: '/v4/webhooks/:uid',
        handler(req) {
          const found = findWebhook(req);
          if ('status' in found) return found;
          const fields = webhookBody(req.body ?? {}, false);
          if (typeof fields === 'string') return error(400, 'invalid_request_values', fields);
          const updated: PodiumWebhook = { ...found, ...fields, updatedAt: new Date().toISOString() };
          webhooks.set(updated.uid, updated);
          return ok(req, updated);
        },
      },
      {
        method: 'DELETE',
        path: '/v4/webhooks/:uid',
        handler(req) {
          const found = findWebhook(req);
          if ('status' in found) return found;
          webhooks.delete(found.uid);
          return ok(req, found);
        },
      },
    ],
  });
  emu = base;

  function signWebhook(rawBody: string, sign: { readonly timestampMs?: number } = {}, secret = sandboxSecret): Record<string, string> {
    const timestamp = String(sign.timestampMs ?? Date.now());
    return {
      'podium-timestamp': timestamp,
      'podium-signature': createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex'),
    };
  }

  const extras: Omit<PodiumEmulator, keyof Emulator> = {
    provider: 'PODIUM',
    fixtures: {
      locationIds: data.locations.map((l) => l.uid),
      userIds: data.users.map((u) => u.uid),
      contactIds: data.contacts.map((c) => c.uid),
      conversationIds: data.conversations.map((c) => c.uid),
      messageCount: data.messageCount,
    },
    providerConfig: () => ({
      api: {
        apiUrl: base.url,
        accessToken,
        refreshToken: client.refreshToken,
        clientId: client.id,
        clientSecret: client.secret,
        tokenUrl: `${base.url}/oauth/token`,
        requestsPerMinute: 300,
      },
      webhookSecret: sandboxSecret,
      webhookToleranceMs: 300_000,
    }),
    async addWebhookTarget(url) {
      const now = new Date().toISOString();
      const webhook: PodiumWebhook = {
        uid: randomUUID(),
        url,
        secret: sandboxSecret,
        disabled: false,
        eventTypes: MESSAGE_EVENTS,
        locationUid: null,
        organizationUid: data.organization.uid,
        createdAt: now,
        updatedAt: now,
      };
      webhooks.set(webhook.uid, webhook);
    },
    async emitMessageEvent(kind, emit = {}): Promise<EmittedEvent> {
      const uid = emit.conversationId ?? (data.conversations[Math.floor(rand() * data.conversations.length)] as PodiumConversation).uid;
      const conv = conversation(uid);
      const contact = contactIndex.get(uid);
      const thread = data.messages.get(uid);
      if (!conv || !contact || !thread) throw new Error(`The Podium emulator has no conversation ${uid}`);
      const createdAt = new Date().toISOString();
      const message = podiumMessage({
        rand,
        conversation: conv,
        contact,
        locations: data.locations,
        users: data.users,
        organizationUid: data.organization.uid,
        direction: kind === 'RECEIVED' ? 'inbound' : 'outbound',
        failed: kind === 'FAILED',
        createdAt,
        uid: randomUUID,
      });
      thread.push(message);
      data.conversations[conversationIndex.get(uid) as number] = { ...conv, lastItemAt: createdAt, updatedAt: createdAt };

      const assignee = data.users.find((u) => u.uid === conv.assignedUserUid);
      const eventType = `message.${kind.toLowerCase()}`;
      // Webhooks carry the deprecated contact, sender and conversation.assignedUser objects.
      const rawBody = JSON.stringify({
        data: {
          ...message,
          contact: { externalIdentifier: null, name: contact.name ?? null, uid: contact.uid },
          conversation: { ...message.conversation, assignedUser: { name: assignee ? `${assignee.firstName} ${assignee.lastName}` : null, uid: assignee?.uid ?? null } },
          sender: { uid: message.senderUid ?? null },
        },
        metadata: { eventType, eventUid: randomUUID(), version: VERSION },
      });
      const timestampMs = Date.now();
      const deliveries = await Promise.all(
        webhookTargets(eventType, conv.locationUid ?? null).map(async (w) => {
          const url = w.url as string;
          const headers = w.secret ? signWebhook(rawBody, { timestampMs }, w.secret) : {};
          try {
            return { url, status: (await deliverWebhook(url, rawBody, headers)).status };
          } catch {
            return { url, status: 0 };
          }
        }),
      );
      return { messageId: `${uid}/${message.uid}`, conversationId: uid, rawBody, headers: signWebhook(rawBody, { timestampMs }), deliveries };
    },
    signWebhook: (rawBody, sign) => signWebhook(rawBody, sign),
    expireAccessToken() {
      accessToken = newToken();
    },
  };
  return Object.assign(base, extras);
}

function forward<T>(items: readonly T[]): Slicer<T> {
  return (position, limit) => {
    const start = position ?? 0;
    const end = start + limit;
    return { items: items.slice(start, end), next: end < items.length ? end : null, total: items.length };
  };
}

/** Over an oldest-first list: a position counts from the oldest, so new messages do not shift later pages. */
function newestFirst<T>(oldestFirst: readonly T[]): Slicer<T> {
  return (position, limit) => {
    const before = Math.min(position ?? oldestFirst.length, oldestFirst.length);
    const start = Math.max(0, before - limit);
    return { items: oldestFirst.slice(start, before).reverse(), next: start > 0 ? start : null, total: oldestFirst.length };
  };
}

function encodeCursor(state: CursorState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decodeCursor(cursor: string, path: string): CursorState | null {
  try {
    const state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorState;
    const fresh = typeof state.issuedAt === 'number' && Date.now() - state.issuedAt <= CURSOR_TTL_MS;
    return state.path === path && Number.isInteger(state.position) && state.position >= 0 && fresh && typeof state.filter === 'object' && state.filter !== null ? state : null;
  } catch {
    return null;
  }
}

function error(status: number, code: string, message: string): EmuResponse {
  return { status, body: errorBody(code, message) };
}

function errorBody(code: string, message: string): { code: string; message: string; moreInfo: string } {
  return { code, message, moreInfo: `https://developer.podium.com/docs/errors#${code}` };
}

function codeForStatus(status: number): string {
  if (status === 400) return 'bad_request';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'unauthorized';
  if (status === 404) return 'route_not_found';
  if (status === 429) return 'rate_limit';
  return 'internal_server_error';
}
