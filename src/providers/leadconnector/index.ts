// The HighLevel (LeadConnector API v2) API of one account: lists and batch
// lookups over the client, HighLevel's cursors as opaque page cursors, and the
// read-only Marketplace webhook. Also the folder's entry: its descriptor
// (descriptor.ts) and a stand-alone provider from a config alone.
import { ProviderError, UnsupportedError, userInputError } from '../../errors.js';
import type { PageRequest, UserRecord, WebhookRecord } from '../../model.js';
import { chunks, ifFound, lookupEach, lookupGrouped } from '../batch.js';
import { refuseUnsupported } from '../filters.js';
import { str } from '../guards.js';
import { checkProviderId } from '../id-rules.js';
import type { AccountDeps, BatchResult, Provider, ProviderApi, ProviderDeps, ProviderPage, WebhookAdmin } from '../provider.js';
import { createLeadConnectorClient, type LeadConnectorClient, type LeadConnectorEndpoint } from './client.js';
import {
  normalizeLeadConnectorContact,
  normalizeLeadConnectorConversation,
  normalizeLeadConnectorMessage,
  normalizeLeadConnectorUser,
  toIsoDate,
} from './normalize.js';
import { LEADCONNECTOR_EVENT_TYPES } from './event-types.js';
import { LEADCONNECTOR_IDS } from './ids.js';
import { standaloneProvider } from '../standalone.js';
import type { LeadConnectorConfig } from './config.js';
import { leadconnector } from './descriptor.js';
import { createLeadConnectorSender } from './send.js';

/** Largest page each search serves (`pageLimit`, `limit`). */
const CONTACT_PAGE_LIMIT = 500;
const CONVERSATION_PAGE_LIMIT = 100;

/** Ids per `/users/search?ids=` request, so a large batch keeps its URL short. */
const USER_IDS_PER_SEARCH = 100;

/** What an account reaches: a location (and its company), or a company (agency) alone. */
export interface LeadConnectorReach {
  readonly locationId: string | null;
  readonly companyId: string | null;
}

export function createLeadConnectorApi(endpoint: LeadConnectorEndpoint, api: LeadConnectorReach, deps: AccountDeps): ProviderApi {
  const client = createLeadConnectorClient(endpoint, deps);

  function locationOf(filterLocationId: string | null | undefined): string {
    if (filterLocationId) checkProviderId(LEADCONNECTOR_IDS, 'LEADCONNECTOR', 'Location', filterLocationId, 'filter.locationId');
    const locationId = filterLocationId ?? api.locationId;
    if (!locationId) {
      throw new ProviderError('LEADCONNECTOR', 'BAD_REQUEST', 'HighLevel searches need a locationId: set LEADCONNECTOR_LOCATION_ID or filter by location');
    }
    return locationId;
  }

  function companyOf(): string {
    if (!api.companyId) throw new ProviderError('LEADCONNECTOR', 'BAD_REQUEST', 'HighLevel /users/search needs a companyId: set LEADCONNECTOR_COMPANY_ID');
    return api.companyId;
  }

  return {
    name: 'LEADCONNECTOR',

    async listContacts(page, filter) {
      const { ask, keep } = lookahead(page.limit, CONTACT_PAGE_LIMIT);
      const { contacts } = await client.searchContacts({
        locationId: locationOf(filter.locationId),
        pageLimit: ask,
        searchAfter: page.cursor === null ? undefined : decodeSearchAfter(page.cursor),
        query: filter.query ?? undefined,
        ...(filter.updatedAfter ? { filters: [{ field: 'dateUpdated', operator: 'range', value: { gt: isoOrInput(filter.updatedAfter) } }] } : {}),
      });
      // Each hit carries its own sort values, the searchAfter that resumes right after it.
      const items = contacts.slice(0, keep);
      const itemCursors = items.map((c) => (c.searchAfter ? encodeSearchAfter(c.searchAfter) : null));
      return { items: items.map(normalizeLeadConnectorContact), nextCursor: contacts.length > keep ? (itemCursors.at(-1) ?? null) : null, itemCursors };
    },

    getContacts: (ids) => lookupEach(ids, async (id) => ifFound(await client.getContact(id), normalizeLeadConnectorContact)),

    async listConversations(page, filter) {
      refuseUnsupported('LEADCONNECTOR', 'conversations', filter, { closed: 'HighLevel conversations have no closed state' });
      const { ask, keep } = lookahead(page.limit, CONVERSATION_PAGE_LIMIT);
      const { conversations } = await client.searchConversations({
        locationId: locationOf(filter.locationId),
        limit: ask,
        contactId: filter.contactId ?? undefined,
        assignedTo: filter.assignedUserId ?? undefined,
        startAfterDate: page.cursor === null ? undefined : decodeNumber(page.cursor, 'conversations'),
      });
      // startAfterDate takes the sort value (lastMessageDate, epoch ms) of the last conversation seen.
      const items = conversations.slice(0, keep);
      const itemCursors = items.map((c) => {
        const at = toIsoDate(c.lastMessageDate);
        return at === null ? null : String(Date.parse(at));
      });
      return { items: items.map(normalizeLeadConnectorConversation), nextCursor: conversations.length > keep ? (itemCursors.at(-1) ?? null) : null, itemCursors };
    },

    getConversations: (ids) => lookupEach(ids, async (id) => ifFound(await client.getConversation(id), normalizeLeadConnectorConversation)),

    async listMessages(conversationId, page) {
      const result = await client.listMessages(conversationId, { lastMessageId: page.cursor, limit: page.limit });
      return {
        items: result.messages.map((m) => normalizeLeadConnectorMessage(m)),
        nextCursor: result.nextPage ? result.lastMessageId : null,
        // lastMessageId resumes right after the message it names, whatever arrived since.
        itemCursors: result.messages.map((m) => str(m.id)),
      };
    },

    getMessages: (ids) => lookupEach(ids, async (id) => ifFound(await client.getMessage(id), (m) => normalizeLeadConnectorMessage(m))),

    listUsers: async (page) => listUsers(client, companyOf(), api.locationId, page),

    async listLocations() {
      // A company (agency) account without a location lists none here.
      if (!api.locationId) return [];
      const found = await client.getLocation(api.locationId);
      return found ? [{ provider: 'LEADCONNECTOR' as const, id: found.id, name: found.name ?? null }] : [];
    },

    getUsers: (ids) => getUsers(client, api.companyId, ids),

    webhooks: createMarketplaceWebhookAdmin(deps.publicUrl),
    sender: createLeadConnectorSender(client.http),
  };
}

async function listUsers(client: LeadConnectorClient, companyId: string, locationId: string | null, page: PageRequest): Promise<ProviderPage<UserRecord>> {
  const skip = page.cursor === null ? 0 : decodeNumber(page.cursor, 'users');
  const { users, count } = await client.searchUsers({ companyId, locationId: locationId ?? undefined, skip, limit: page.limit });
  const seen = skip + users.length;
  const more = count === null ? users.length === page.limit : seen < count;
  return { items: users.map(normalizeLeadConnectorUser), nextCursor: more && users.length > 0 ? String(seen) : null };
}

function getUsers(client: LeadConnectorClient, companyId: string | null, ids: readonly string[]): Promise<BatchResult<UserRecord>> {
  // Without a companyId /users/search is unavailable: fall back to one GET per user.
  if (!companyId) return lookupEach(ids, async (id) => ifFound(await client.getUser(id), normalizeLeadConnectorUser));
  return lookupGrouped(ids, chunks(USER_IDS_PER_SEARCH), async (chunk) => {
    const { users } = await client.searchUsers({ companyId, ids: chunk, limit: chunk.length });
    return new Map(users.map((user) => [user.id, normalizeLeadConnectorUser(user)]));
  });
}

/**
 * HighLevel has no API for webhook subscriptions: one Marketplace app webhook
 * URL receives every event, so the admin shows it read-only.
 */
function createMarketplaceWebhookAdmin(publicUrl: string): WebhookAdmin {
  const marketplace: WebhookRecord = {
    provider: 'LEADCONNECTOR',
    id: 'marketplace',
    url: `${publicUrl.replace(/\/+$/, '')}/webhooks/leadconnector`,
    eventTypes: LEADCONNECTOR_EVENT_TYPES,
    locationId: null,
    organizationId: null,
    disabled: false,
    secret: null,
    editable: false,
    createdAt: null,
    updatedAt: null,
  };
  const unsupported = (what: string): never => {
    throw new UnsupportedError(
      'LEADCONNECTOR',
      `HighLevel has no API to ${what} webhooks: subscriptions are configured in the HighLevel Marketplace app (app settings → Webhook URL: ${marketplace.url})`,
    );
  };
  return {
    eventTypes: LEADCONNECTOR_EVENT_TYPES,
    validateCreate: () => [],
    validateUpdate: () => [],
    list: async () => [marketplace],
    get: async (id) => (id === marketplace.id ? marketplace : null),
    create: async () => unsupported('create'),
    update: async () => unsupported('update'),
    delete: async () => unsupported('delete'),
  };
}

/**
 * HighLevel's searches say nothing about whether more follows, so ask for one
 * more than is kept: a full last page then ends the list instead of leading
 * to an empty one. At the API's cap one fewer is kept (the gateway tops up).
 */
function lookahead(limit: number, cap: number): { ask: number; keep: number } {
  const ask = Math.min(limit + 1, cap);
  return { ask, keep: Math.min(limit, ask - 1) };
}

/** ISO-8601 UTC for HighLevel's date filters; anything unparseable is passed on for HighLevel to judge. */
function isoOrInput(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/** The contacts cursor: HighLevel's `searchAfter` sort values, opaque to clients. */
function encodeSearchAfter(values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeSearchAfter(cursor: string): unknown[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length > 0) return values;
  } catch {
    // reported below
  }
  throw userInputError(`expected a HighLevel contacts cursor from a previous page, got "${cursor}"`);
}

function decodeNumber(cursor: string, what: string): number {
  if (!/^\d+$/.test(cursor)) throw userInputError(`expected a HighLevel ${what} cursor from a previous page, got "${cursor}"`);
  return Number(cursor);
}

export { leadconnector } from './descriptor.js';

/** The environment's account and the webhook receiver of a HighLevel config, without a gateway (tests and tools). */
export function createLeadConnectorProvider(config: LeadConnectorConfig, deps: ProviderDeps): Provider {
  return standaloneProvider(leadconnector, config, deps);
}
