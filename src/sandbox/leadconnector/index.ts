// The HighLevel (LeadConnector API v2) emulator: the REST routes the adapter
// uses, with HighLevel's Bearer auth, per-family Version headers, envelopes,
// paging and `{statusCode, message, error}` errors, plus Marketplace-app
// webhook deliveries signed with both x-ghl-signature (Ed25519) and x-wh-signature (RSA).
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { LeadConnectorConfig } from '../../config.js';
import type { MessageEventKind } from '../../model.js';
import { isRecord } from '../../providers/guards.js';
import { deliverWebhook, startEmulator, type EmuRequest, type EmuResponse, type EmuRoute } from '../kit.js';
import type { EmittedEvent, ProviderEmulator, WithApi } from '../types.js';
import { addMessage, createLeadConnectorData, type EmuContact, type EmuConversation, type EmuMessage } from './data.js';

export interface LeadConnectorEmulatorOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Seed of the generated data; the same seed gives the same data. @default 1 */
  readonly seed?: number;
  /** The Marketplace app's webhook URL: message events are delivered there from the start. */
  readonly webhookUrl?: string;
  /**
   * Answer GET /conversations/{id}/messages in the spec's flat shape
   * `{lastMessageId, nextPage, messages}` instead of the nested
   * `{messages: {lastMessageId, nextPage, messages}}` live integrations report.
   * @default false
   */
  readonly flatMessages?: boolean;
}

// Written out from the spec rather than imported from the adapter, so the emulator can catch an adapter sending the wrong one.
const CONVERSATIONS_VERSION = '2021-04-15';
const CONTACTS_VERSION = '2021-07-28'; // contacts and users
const SANDBOX_TOKEN = 'pit-0f5a6c1e-sandbox-leadconnector';
const CONVERSATION_TYPE_NUMBER: Record<EmuConversation['type'], number> = { TYPE_PHONE: 1, TYPE_EMAIL: 2, TYPE_FB_MESSENGER: 3 };
const FRONT_DESK = 'Front Desk <frontdesk@sandbox-location.example.com>';

export async function startLeadConnectorEmulator(options: LeadConnectorEmulatorOptions = {}): Promise<ProviderEmulator<WithApi<LeadConnectorConfig>>> {
  const data = createLeadConnectorData(options.seed ?? 1);
  const [mainLocation = ''] = data.locationIds;
  const mainConversations = [...data.conversations.values()].filter((c) => c.locationId === mainLocation);
  const ed25519 = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const targets = new Set<string>(options.webhookUrl ? [options.webhookUrl] : []);
  let lastEmittedAt = 0;

  const routes: EmuRoute[] = [
    { method: 'POST', path: '/contacts/search', handler: versioned(CONTACTS_VERSION, searchContacts) },
    {
      method: 'GET',
      path: '/contacts/:contactId',
      handler: versioned(CONTACTS_VERSION, (req) => {
        const contact = data.contacts.get(req.params.contactId ?? '');
        return contact ? ok({ contact }) : fail(404, 'Contact not found');
      }),
    },
    { method: 'GET', path: '/conversations/search', handler: versioned(CONVERSATIONS_VERSION, searchConversations) },
    {
      method: 'GET',
      path: '/conversations/messages/:id',
      handler: versioned(CONVERSATIONS_VERSION, (req) => {
        const message = data.messages.get(req.params.id ?? '');
        return message ? ok(message) : fail(404, 'Message not found');
      }),
    },
    {
      method: 'GET',
      path: '/conversations/:conversationId',
      handler: versioned(CONVERSATIONS_VERSION, (req) => {
        const c = data.conversations.get(req.params.conversationId ?? '');
        if (!c) return fail(404, 'Conversation not found');
        const { id, contactId, locationId, deleted, inbox, unreadCount, starred, assignedTo } = c;
        return ok({ id, contactId, locationId, deleted, inbox, type: CONVERSATION_TYPE_NUMBER[c.type], unreadCount, starred, ...(assignedTo ? { assignedTo } : {}) });
      }),
    },
    { method: 'GET', path: '/conversations/:conversationId/messages', handler: versioned(CONVERSATIONS_VERSION, conversationMessages) },
    { method: 'GET', path: '/users/search', handler: versioned(CONTACTS_VERSION, searchUsers) },
    {
      method: 'GET',
      path: '/users/:userId',
      handler: versioned(CONTACTS_VERSION, (req) => {
        const user = data.users.find((u) => u.id === req.params.userId);
        return user ? ok(user) : fail(404, 'User not found');
      }),
    },
  ];

  function searchContacts(req: EmuRequest): EmuResponse {
    const body = isRecord(req.body) ? req.body : {};
    const { locationId, pageLimit, searchAfter, query, filters } = body;
    const problems: string[] = [];
    const conditions = dateFilters(filters, problems);
    if (typeof locationId !== 'string' || locationId === '') problems.push('locationId must be a string');
    if (typeof pageLimit !== 'number' || !Number.isInteger(pageLimit) || pageLimit < 1 || pageLimit > 500) problems.push('pageLimit must be an integer from 1 to 500');
    const cursor = Array.isArray(searchAfter) && typeof searchAfter[0] === 'number' && typeof searchAfter[1] === 'string' ? { at: searchAfter[0], id: searchAfter[1] } : null;
    if (searchAfter !== undefined && cursor === null) problems.push('searchAfter must be the searchAfter array of a previous result');
    if (problems.length > 0) return fail(422, problems);

    const q = typeof query === 'string' ? query.trim().toLowerCase() : '';
    // Newest first; [dateAdded ms, id] is each hit's sort value and the searchAfter cursor.
    const hits = [...data.contacts.values()]
      .filter((c) => c.locationId === locationId && (q === '' || contactText(c).includes(q)) && conditions.every((matches) => matches(c)))
      .map((c) => ({ contact: c, at: Date.parse(c.dateAdded) }))
      .sort((a, b) => b.at - a.at || compare(b.contact.id, a.contact.id));
    const rest = cursor ? hits.filter((h) => h.at < cursor.at || (h.at === cursor.at && compare(h.contact.id, cursor.id) < 0)) : hits;
    const contacts = rest.slice(0, pageLimit as number).map((h) => ({ ...h.contact, searchAfter: [h.at, h.contact.id] }));
    return ok({ contacts, total: hits.length });
  }

  function searchConversations(req: EmuRequest): EmuResponse {
    const locationId = req.query.get('locationId');
    if (!locationId) return fail(422, ['locationId must be a string']);
    const limit = intParam(req.query.get('limit'), 20, 100);
    if (limit === null) return fail(422, ['limit must be a number from 1 to 100']);
    const startAfter = req.query.get('startAfterDate');
    const startAfterDate = startAfter === null ? null : Number(startAfter);
    if (startAfterDate !== null && !Number.isFinite(startAfterDate)) return fail(422, ['startAfterDate must be a number']);
    const contactId = req.query.get('contactId');
    const assigned = req.query.get('assignedTo')?.split(',');
    const asc = req.query.get('sort') === 'asc';

    const matching = [...data.conversations.values()]
      .filter(
        (c) =>
          c.locationId === locationId &&
          (!contactId || c.contactId === contactId) &&
          (!assigned || (c.assignedTo === null ? assigned.includes('unassigned') : assigned.includes(c.assignedTo))),
      )
      .sort((a, b) => (asc ? a.lastMessageDate - b.lastMessageDate : b.lastMessageDate - a.lastMessageDate));
    const after =
      startAfterDate === null ? matching : matching.filter((c) => (asc ? c.lastMessageDate > startAfterDate : c.lastMessageDate < startAfterDate));
    return ok({ conversations: after.slice(0, limit).map(searchItem), total: matching.length });
  }

  function searchItem(c: EmuConversation): Record<string, unknown> {
    const contact = data.contacts.get(c.contactId);
    const name = contact ? `${contact.firstName} ${contact.lastName}` : '';
    return {
      id: c.id,
      contactId: c.contactId,
      locationId: c.locationId,
      lastMessageBody: c.lastMessageBody,
      lastMessageType: c.lastMessageType,
      lastMessageDirection: c.lastMessageDirection,
      lastMessageDate: c.lastMessageDate,
      type: c.type,
      unreadCount: c.unreadCount,
      fullName: name,
      contactName: contact?.companyName ?? name,
      email: contact?.email ?? '',
      phone: contact?.phone ?? '',
      ...(c.assignedTo ? { assignedTo: c.assignedTo } : {}),
      inbox: c.inbox,
      starred: c.starred,
      deleted: c.deleted,
      dateAdded: c.dateAdded,
      dateUpdated: c.dateUpdated,
    };
  }

  function conversationMessages(req: EmuRequest): EmuResponse {
    const ids = data.conversationMessages.get(req.params.conversationId ?? '');
    if (!ids) return fail(404, 'Conversation not found');
    const limit = intParam(req.query.get('limit'), 20, 100);
    if (limit === null) return fail(422, ['limit must be a number from 1 to 100']);
    const lastMessageId = req.query.get('lastMessageId');
    const start = lastMessageId ? ids.indexOf(lastMessageId) + 1 : 0;
    if (lastMessageId && start === 0) return fail(400, `lastMessageId ${lastMessageId} is not a message of this conversation`);
    const pageIds = ids.slice(start, start + limit);
    const page = {
      lastMessageId: pageIds.at(-1) ?? null,
      nextPage: start + limit < ids.length,
      messages: pageIds.map((id) => data.messages.get(id)),
    };
    return ok(options.flatMessages ? page : { messages: page });
  }

  function searchUsers(req: EmuRequest): EmuResponse {
    const companyId = req.query.get('companyId');
    if (!companyId) return fail(422, ['companyId must be a string']);
    const skip = intParam(req.query.get('skip'), 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = intParam(req.query.get('limit'), 25, 500);
    if (skip === null || limit === null) return fail(422, ['skip and limit must be whole numbers']);
    const locationId = req.query.get('locationId');
    const ids = req.query.get('ids')?.split(',');
    const q = req.query.get('query')?.toLowerCase();
    const matching = data.users.filter(
      (u) =>
        companyId === data.companyId &&
        (!locationId || u.roles.locationIds.includes(locationId)) &&
        (!ids || ids.includes(u.id)) &&
        (!q || `${u.name} ${u.email} ${u.phone}`.toLowerCase().includes(q)),
    );
    return ok({ users: matching.slice(skip, skip + limit), count: matching.length });
  }

  const emulator = await startEmulator({
    name: 'leadconnector',
    port: options.port,
    routes,
    authorize: (req) => (req.headers.authorization === `Bearer ${SANDBOX_TOKEN}` ? null : fail(401, 'Invalid JWT')),
    errorBody: (status, message) => errorBody(status, message),
  });

  function signWebhook(rawBody: string): Record<string, string> {
    const bytes = Buffer.from(rawBody, 'utf8');
    return {
      'x-ghl-signature': sign(null, bytes, ed25519.privateKey).toString('base64'),
      'x-wh-signature': sign('sha256', bytes, rsa.privateKey).toString('base64'),
    };
  }

  async function emitMessageEvent(kind: MessageEventKind, emitOptions: { readonly conversationId?: string } = {}): Promise<EmittedEvent> {
    const conversation = emitOptions.conversationId
      ? data.conversations.get(emitOptions.conversationId)
      : mainConversations[Math.floor(data.random() * mainConversations.length)];
    if (!conversation) throw new Error(`HighLevel emulator has no conversation ${emitOptions.conversationId ?? ''}`);
    const direction = kind === 'RECEIVED' ? 'inbound' : 'outbound';
    const staff = data.users.filter((u) => u.roles.locationIds.includes(conversation.locationId));
    lastEmittedAt = Math.max(Date.now(), lastEmittedAt + 1, conversation.lastMessageDate + 1);
    const message = addMessage(data, conversation.id, {
      kind: conversation.type === 'TYPE_EMAIL' ? 'EMAIL' : 'SMS',
      direction,
      at: lastEmittedAt,
      status: kind === 'RECEIVED' ? 'delivered' : kind === 'FAILED' ? 'failed' : 'sent',
      userId: direction === 'outbound' ? staff[Math.floor(data.random() * staff.length)]?.id : undefined,
    });
    const rawBody = JSON.stringify(webhookBody(message, kind === 'RECEIVED' ? 'InboundMessage' : 'OutboundMessage', data.contacts.get(message.contactId)));
    const headers = signWebhook(rawBody);
    // HighLevel retries only a 429, and not at once: one attempt per target is what a caller observes.
    const deliveries = await Promise.all(
      [...targets].map(async (url) => {
        try {
          return { url, status: (await deliverWebhook(url, rawBody, headers)).status };
        } catch {
          return { url, status: 0 };
        }
      }),
    );
    return { messageId: message.id, conversationId: conversation.id, rawBody, headers, deliveries };
  }

  return Object.assign(emulator, {
    provider: 'LEADCONNECTOR' as const,
    fixtures: {
      locationIds: data.locationIds,
      userIds: data.users.map((u) => u.id),
      contactIds: [...data.contacts.values()].filter((c) => c.locationId === mainLocation).map((c) => c.id),
      conversationIds: mainConversations.map((c) => c.id),
      messageCount: mainConversations.reduce((n, c) => n + (data.conversationMessages.get(c.id)?.length ?? 0), 0),
    },
    providerConfig: () => ({
      api: { apiUrl: emulator.url, token: SANDBOX_TOKEN, locationId: mainLocation, companyId: data.companyId },
      webhookPublicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      webhookEd25519PublicKey: ed25519.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      webhookToleranceMs: 300_000, // 5 minutes
    }),
    addWebhookTarget: async (url: string) => {
      targets.add(url);
    },
    emitMessageEvent,
    // HighLevel puts the timestamp in the signed body, so there is no timestamp header to add.
    signWebhook: (rawBody: string) => signWebhook(rawBody),
  });
}

/** An InboundMessage / OutboundMessage body shaped like HighLevel's examples, plus `webhookId` and `timestamp`. */
function webhookBody(m: EmuMessage, type: 'InboundMessage' | 'OutboundMessage', contact: EmuContact | undefined): Record<string, unknown> {
  const isEmail = m.messageType === 'TYPE_EMAIL';
  const contactAddress = `${contact?.firstName ?? ''} ${contact?.lastName ?? ''} <${contact?.email ?? `${m.contactId}@example.net`}>`.trim();
  return {
    type,
    locationId: m.locationId,
    attachments: m.attachments,
    body: m.body,
    contactId: m.contactId,
    ...(isEmail ? {} : { contentType: m.contentType }),
    conversationId: m.conversationId,
    dateAdded: m.dateAdded,
    direction: m.direction,
    messageType: isEmail ? 'Email' : 'SMS',
    status: m.status,
    messageId: m.id,
    ...(m.userId ? { userId: m.userId } : {}),
    ...(type === 'OutboundMessage' ? { source: m.source ?? 'app' } : {}),
    ...(isEmail
      ? {
          emailMessageId: m.id,
          threadId: m.id,
          from: m.direction === 'inbound' ? contactAddress : FRONT_DESK,
          to: [m.direction === 'inbound' ? FRONT_DESK : contactAddress],
          subject: m.direction === 'inbound' ? 'Appointment request' : 'Re: Appointment request',
        }
      : {}),
    webhookId: randomUUID(),
    timestamp: new Date().toISOString(),
  };
}

/** Answers 400 unless the request carries the Version its resource family requires. */
function versioned(version: string, handler: (req: EmuRequest) => EmuResponse): EmuRoute['handler'] {
  return (req) => {
    const got = req.headers.version;
    if (got === version) return handler(req);
    return fail(400, got === undefined ? `Version header is required: ${version}` : `Version header must be ${version} for this endpoint, got ${String(got)}`);
  };
}

function ok(body: unknown): EmuResponse {
  return { status: 200, body };
}

function fail(status: number, message: string | readonly string[]): EmuResponse {
  return { status, body: errorBody(status, message) };
}

function errorBody(status: number, message: string | readonly string[]): { statusCode: number; message: string | readonly string[]; error: string } {
  return { statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' };
}

/** A whole-number query parameter: the fallback when absent, null when out of range. */
function intParam(value: string | null, fallback: number, max: number, min = 1): number | null {
  if (value === null) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : null;
}

/**
 * The advanced search's `filters[]` ({field, operator, value}); the sandbox
 * knows `range` ({gt, gte, lt, lte} ISO dates) on dateAdded and dateUpdated,
 * and refuses the rest with 422 rather than ignoring them.
 */
function dateFilters(filters: unknown, problems: string[]): Array<(c: EmuContact) => boolean> {
  if (filters === undefined) return [];
  if (!Array.isArray(filters)) {
    problems.push('filters must be an array');
    return [];
  }
  return filters.flatMap((f: unknown, i) => {
    const field = isRecord(f) ? f.field : undefined;
    if (!isRecord(f) || (field !== 'dateAdded' && field !== 'dateUpdated') || f.operator !== 'range' || !isRecord(f.value)) {
      problems.push(`filters[${i}] must be a range on dateAdded or dateUpdated in the sandbox, got ${JSON.stringify(f)}`);
      return [];
    }
    const bounds = f.value;
    const ms = (key: string): number | null => (typeof bounds[key] === 'string' ? Date.parse(bounds[key] as string) : null);
    const [gt, gte, lt, lte] = [ms('gt'), ms('gte'), ms('lt'), ms('lte')];
    if ([gt, gte, lt, lte].some((b) => b !== null && Number.isNaN(b))) {
      problems.push(`filters[${i}].value bounds must be ISO-8601 dates`);
      return [];
    }
    return [
      (c: EmuContact) => {
        const at = Date.parse(c[field]);
        return (gt === null || at > gt) && (gte === null || at >= gte) && (lt === null || at < lt) && (lte === null || at <= lte);
      },
    ];
  });
}

function contactText(c: EmuContact): string {
  return `${c.firstName} ${c.lastName} ${c.email ?? ''} ${c.phone} ${c.companyName ?? ''}`.toLowerCase();
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
