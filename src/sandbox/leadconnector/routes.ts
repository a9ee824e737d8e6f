// The HighLevel (LeadConnector API v2) routes the emulator serves: contact and
// conversation searches, messages, users, each behind the Version header its
// resource family requires, answering HighLevel's envelopes and
// `{statusCode, message, error}` errors.
import { STATUS_CODES } from 'node:http';
import { isRecord } from '../../providers/guards.js';
import type { EmuRequest, EmuResponse, EmuRoute } from '../kit.js';
import type { EmuContact, EmuConversation, LeadConnectorData } from './data.js';

// Written out from the spec rather than imported from the adapter, so the emulator can catch an adapter sending the wrong one.
const CONVERSATIONS_VERSION = '2021-04-15';
const CONTACTS_VERSION = '2021-07-28'; // contacts and users
const CONVERSATION_TYPE_NUMBER: Record<EmuConversation['type'], number> = { TYPE_PHONE: 1, TYPE_EMAIL: 2, TYPE_FB_MESSENGER: 3 };

/** `flatMessages`: answer messages in the spec's flat shape instead of the nested one live integrations report. */
export function leadConnectorRoutes(data: LeadConnectorData, flatMessages: boolean): EmuRoute[] {
  return [
    { method: 'POST', path: '/contacts/search', handler: versioned(CONTACTS_VERSION, (req) => searchContacts(data, req)) },
    {
      method: 'GET',
      path: '/contacts/:contactId',
      handler: versioned(CONTACTS_VERSION, (req) => {
        const contact = data.contacts.get(req.params.contactId ?? '');
        return contact ? ok({ contact }) : fail(404, 'Contact not found');
      }),
    },
    { method: 'GET', path: '/conversations/search', handler: versioned(CONVERSATIONS_VERSION, (req) => searchConversations(data, req)) },
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
    { method: 'GET', path: '/conversations/:conversationId/messages', handler: versioned(CONVERSATIONS_VERSION, (req) => conversationMessages(data, req, flatMessages)) },
    { method: 'GET', path: '/users/search', handler: versioned(CONTACTS_VERSION, (req) => searchUsers(data, req)) },
    {
      method: 'GET',
      path: '/users/:userId',
      handler: versioned(CONTACTS_VERSION, (req) => {
        const user = data.users.find((u) => u.id === req.params.userId);
        return user ? ok(user) : fail(404, 'User not found');
      }),
    },
  ];
}

function searchContacts(data: LeadConnectorData, req: EmuRequest): EmuResponse {
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

function searchConversations(data: LeadConnectorData, req: EmuRequest): EmuResponse {
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
  return ok({ conversations: after.slice(0, limit).map((c) => searchItem(data, c)), total: matching.length });
}

function searchItem(data: LeadConnectorData, c: EmuConversation): Record<string, unknown> {
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

function conversationMessages(data: LeadConnectorData, req: EmuRequest, flatMessages: boolean): EmuResponse {
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
  return ok(flatMessages ? page : { messages: page });
}

function searchUsers(data: LeadConnectorData, req: EmuRequest): EmuResponse {
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

export function fail(status: number, message: string | readonly string[]): EmuResponse {
  return { status, body: errorBody(status, message) };
}

export function errorBody(status: number, message: string | readonly string[]): { statusCode: number; message: string | readonly string[]; error: string } {
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
