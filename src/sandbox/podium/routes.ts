// The REST routes of the Podium emulator, one group per API family, over its
// live state: Podium's {data, metadata} envelopes, cursors that carry their
// filter and expire, and Podium's error bodies.
import { randomUUID } from 'node:crypto';
import type { PodiumContact, PodiumConversation, PodiumWebhook } from '../../providers/podium/client.js';
import { PODIUM_EVENT_TYPES } from '../../providers/podium/event-types.js';
import type { EmuRequest, EmuResponse, EmuRoute } from '../kit.js';
import type { PodiumSandboxData } from './data.js';

export const VERSION = '2021.04.01';
const CURSOR_TTL_MS = 86_400_000; // Podium cursors expire; a day keeps sandbox sessions working

/** What the routes read and change; the emulator owns it. */
export interface PodiumState {
  readonly data: PodiumSandboxData;
  readonly webhooks: Map<string, PodiumWebhook>;
  /** Contacts by every key Podium finds them by (uid, conversation uid, phone, email), lower-cased. */
  readonly contactIndex: ReadonlyMap<string, PodiumContact>;
  conversation(uid: string): PodiumConversation | undefined;
  /** Makes `at` the conversation's last item (what reads then show). */
  touchConversation(uid: string, at: string): void;
  /** Stores a new conversation as the newest, and its contact (new, or updated) under all its keys. */
  addConversation(conversation: PodiumConversation, contact: PodiumContact): void;
  /** Replaces a contact (a new name) everywhere it is found. */
  replaceContact(contact: PodiumContact): void;
  baseUrl(): string;
  readonly oauth: {
    readonly client: { readonly id: string; readonly secret: string; readonly refreshToken: string };
    accessToken: string;
    newToken(): string;
  };
}

interface CursorState {
  readonly path: string;
  readonly position: number;
  readonly filter: Readonly<Record<string, string>>;
  readonly issuedAt: number;
}

/** One page cut from a list, given the cursor position (null = first page). */
type Slicer<T> = (position: number | null, limit: number) => { items: readonly T[]; next: number | null; total: number };

export function podiumRoutes(s: PodiumState): EmuRoute[] {
  return [...oauthRoutes(s), ...contactRoutes(s), ...conversationRoutes(s), ...accountRoutes(s), ...webhookRoutes(s)];
}

function oauthRoutes(s: PodiumState): EmuRoute[] {
  const { client } = s.oauth;
  return [
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
        s.oauth.accessToken = s.oauth.newToken();
        return { status: 200, body: { access_token: s.oauth.accessToken, refresh_token: client.refreshToken, token_type: 'Bearer', expires_in: 36_000 } };
      },
    },
  ];
}

function contactRoutes(s: PodiumState): EmuRoute[] {
  const { data, contactIndex } = s;
  const [ok, paged] = [okIn(s), pagedIn(s)];
  return [
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
  ];
}

function conversationRoutes(s: PodiumState): EmuRoute[] {
  const { data, conversation } = s;
  const [ok, paged] = [okIn(s), pagedIn(s)];
  return [
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
  ];
}

function accountRoutes(s: PodiumState): EmuRoute[] {
  const { data } = s;
  const [ok, paged] = [okIn(s), pagedIn(s)];
  return [
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
  ];
}

function webhookRoutes(s: PodiumState): EmuRoute[] {
  const { data, webhooks } = s;
  const ok = okIn(s);
  const findWebhook = (req: EmuRequest): PodiumWebhook | EmuResponse => {
    const uid = req.params.uid ?? '';
    return webhooks.get(uid) ?? error(404, 'resource_not_found', `Webhook ${uid} not found`);
  };
  return [
    { method: 'GET', path: '/v4/webhooks', handler: (req) => ok(req, [...webhooks.values()]) },
    {
      method: 'POST',
      path: '/v4/webhooks',
      handler(req) {
        const fields = webhookBody(data, req.body, true);
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
        const fields = webhookBody(data, req.body ?? {}, false);
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

  ];
}

export function okIn(s: PodiumState): (req: EmuRequest, payload: unknown, metadata?: Record<string, unknown>) => EmuResponse {
  return (req, payload, metadata = {}) => {
    const query = req.query.toString();
    return { status: 200, body: { data: payload, metadata: { url: `${s.baseUrl()}${req.path}${query ? `?${query}` : ''}`, version: VERSION, ...metadata } } };
  };
}

function pagedIn(s: PodiumState) {
  const ok = okIn(s);
  return <T>(req: EmuRequest, filterNames: readonly string[], select: (filter: Record<string, string>) => Slicer<T> | EmuResponse): EmuResponse => {
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
  };
}

function webhookBody(data: PodiumSandboxData, body: unknown, creating: boolean): Partial<PodiumWebhook> | string {
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

export function error(status: number, code: string, message: string): EmuResponse {
  return { status, body: errorBody(code, message) };
}

export function errorBody(code: string, message: string): { code: string; message: string; moreInfo: string } {
  return { code, message, moreInfo: `https://developer.podium.com/docs/errors#${code}` };
}

export function codeForStatus(status: number): string {
  if (status === 400) return 'bad_request';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'unauthorized';
  if (status === 404) return 'route_not_found';
  if (status === 429) return 'rate_limit';
  return 'internal_server_error';
}
