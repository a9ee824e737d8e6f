// The Podium API of one account: lists and batch lookups over API v4 and
// webhook subscription admin over /v4/webhooks. Also the folder's entry: its
// descriptor (descriptor.ts) and a stand-alone provider from a config alone.
import { userInputError } from '../../errors.js';
import type { ContactFilter, LocationRecord, MessageRecord, PageRequest, WebhookUpdateInput } from '../../model.js';
import { ifFound, lookupEach } from '../batch.js';
import { refuseUnsupported, type Unsupported } from '../filters.js';
import { checkProviderId } from '../id-rules.js';
import { isRecord } from '../guards.js';
import type { AccountDeps, Provider, ProviderApi, ProviderDeps, ProviderPage, WebhookAdmin } from '../provider.js';
import { createPodiumClient, type PodiumClient, type PodiumEndpoint, type PodiumWebhookCreate, type PodiumWebhookUpdate } from './client.js';
import {
  normalizePodiumContact,
  normalizePodiumConversation,
  normalizePodiumMessage,
  normalizePodiumUser,
  normalizePodiumWebhook,
} from './normalize.js';
import { PODIUM_EVENT_TYPES } from './event-types.js';
import { PODIUM_IDS } from './ids.js';
import { standaloneProvider } from '../standalone.js';
import type { PodiumConfig } from './config.js';
import { podium } from './descriptor.js';
import { createPodiumSender } from './send.js';

/** GET /v4/contacts filters by `updated_at` only (the spec's parameters). */
const CONTACT_FILTERS_UNSUPPORTED: Unsupported<ContactFilter> = {
  query: 'GET /v4/contacts has no search parameter',
  locationId: 'GET /v4/contacts has no location parameter',
};

/** Pages of 100 locations read for `locations`; an organization has far fewer. */
const MAX_LOCATION_PAGES = 10;

export function createPodiumApi(endpoint: PodiumEndpoint, deps: AccountDeps): ProviderApi {
  const client = createPodiumClient(endpoint, deps);
  return {
    name: 'PODIUM',

    async listContacts(page, filter) {
      refuseUnsupported('PODIUM', 'contacts', filter, CONTACT_FILTERS_UNSUPPORTED);
      const res = await client.listContacts(page, { updatedAt: filter.updatedAfter ? podiumDateTime(filter.updatedAfter) : null });
      return { items: res.data.map(normalizePodiumContact), nextCursor: res.nextCursor };
    },
    getContacts: (refs) => lookupEach(refs, async (ref) => ifFound(await client.getContact(ref), normalizePodiumContact)),

    async listConversations(page, filter) {
      if (filter.locationId) checkProviderId(PODIUM_IDS, 'PODIUM', 'Location', filter.locationId, 'filter.locationId');
      const res = await client.listConversations(page, { locationUid: filter.locationId });
      return { items: res.data.map(normalizePodiumConversation), nextCursor: res.nextCursor };
    },
    getConversations: (ids) => lookupEach(ids, async (id) => ifFound(await client.getConversation(id), normalizePodiumConversation)),

    listMessages: (conversationId, page) => listMessagesAnchored(client, conversationId, page),
    getMessages: (ids) =>
      lookupEach(ids, async (id) => {
        const [conversationUid, uid, ...rest] = id.split('/');
        // Every id this gateway issues has both parts: anything else names no Podium message.
        if (!conversationUid || !uid || rest.length > 0) return null;
        return ifFound(await client.getMessage(conversationUid, uid), (m) => normalizePodiumMessage(m));
      }),

    async listUsers(page) {
      const res = await client.listUsers(page);
      return { items: res.data.map(normalizePodiumUser), nextCursor: res.nextCursor };
    },
    getUsers: (ids) => lookupEach(ids, async (id) => ifFound(await client.getUser(id), normalizePodiumUser)),

    async listLocations() {
      const locations: LocationRecord[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < MAX_LOCATION_PAGES; page++) {
        const res = await client.listLocations({ cursor, limit: 100 });
        locations.push(...res.data.map((l) => ({ provider: 'PODIUM' as const, id: l.uid, name: l.name ?? null })));
        cursor = res.nextCursor;
        if (!cursor) break;
      }
      return locations;
    },

    webhooks: createPodiumWebhookAdmin(client),
    sender: createPodiumSender(client.http),
  };
}

function createPodiumWebhookAdmin(client: PodiumClient): WebhookAdmin {
  return {
    eventTypes: PODIUM_EVENT_TYPES,
    validateCreate(input) {
      const location = input.locationId ?? null;
      const organization = input.organizationId ?? null;
      if (location === null && organization === null) {
        return ['A Podium webhook belongs to exactly one location or organization: give locationId or organizationId, got neither'];
      }
      if (location !== null && organization !== null) {
        return [
          `A Podium webhook belongs to exactly one location or organization: give locationId or organizationId, got both (locationId "${location}", organizationId "${organization}")`,
        ];
      }
      return [];
    },
    validateUpdate(input) {
      const given = Object.values(podiumUpdate(input));
      return given.length > 0 ? [] : ['A Podium webhook update needs at least one of url, eventTypes, secret, disabled; got none'];
    },
    async list() {
      return (await client.listWebhooks()).map((w) => normalizePodiumWebhook(w));
    },
    async get(id) {
      return ifFound(await client.getWebhook(id), (w) => normalizePodiumWebhook(w));
    },
    async create(input) {
      const secret = input.secret ?? null;
      const body: PodiumWebhookCreate = {
        url: input.url,
        eventTypes: input.eventTypes,
        ...(input.locationId ? { locationUid: input.locationId } : {}),
        ...(input.organizationId ? { organizationUid: input.organizationId } : {}),
        ...(secret !== null ? { secret } : {}),
      };
      let created = await client.createWebhook(body);
      // Podium's create takes no `disabled`; a webhook meant to start disabled is disabled right after.
      if (input.disabled === true) created = (await client.updateWebhook(created.uid, { disabled: true })) ?? created;
      return normalizePodiumWebhook(created, secret);
    },
    async update(id, input) {
      const updated = await client.updateWebhook(id, podiumUpdate(input));
      return ifFound(updated, (w) => normalizePodiumWebhook(w, input.secret ?? null));
    },
    async delete(id) {
      return ifFound(await client.deleteWebhook(id), (w) => normalizePodiumWebhook(w));
    },
  };
}

function podiumUpdate(input: WebhookUpdateInput): PodiumWebhookUpdate {
  return {
    ...(input.url != null ? { url: input.url } : {}),
    ...(input.eventTypes != null ? { eventTypes: input.eventTypes } : {}),
    ...(input.secret != null ? { secret: input.secret } : {}),
    ...(input.disabled != null ? { disabled: input.disabled } : {}),
  };
}

/**
 * Podium's cursors are opaque page positions, and the first page of a
 * newest-first list moves whenever a message arrives. So each message gets an
 * anchor, the Podium cursor of its page plus its uid: resuming after it reads
 * that page again and continues after the uid, wherever it has moved (into the
 * next page at most, since fewer than a page of messages arrived in between).
 */
async function listMessagesAnchored(client: PodiumClient, conversationId: string, page: PageRequest): Promise<ProviderPage<MessageRecord>> {
  const anchor = page.cursor === null ? null : decodeAnchor(page.cursor);
  let cursor = anchor ? anchor.cursor : page.cursor;
  for (let read = 0; read < 2; read++) {
    const res = await client.listMessages(conversationId, { cursor, limit: page.limit });
    const from = anchor ? res.data.findIndex((m) => m.uid === anchor.uid) + 1 : 0;
    if (from > 0 || !anchor) {
      const items = res.data.slice(from);
      const pageCursor = cursor;
      return {
        items: items.map((m) => normalizePodiumMessage(m)),
        nextCursor: res.nextCursor,
        itemCursors: items.map((m) => (m.uid ? encodeAnchor(pageCursor, m.uid) : null)),
      };
    }
    if (res.nextCursor === null) break;
    cursor = res.nextCursor;
  }
  throw userInputError('"after" names a Podium message that is no longer where its page was; list the messages again from the start');
}

/** The bytes of JSON.stringify({ anchor: [cursor, uid] }), written directly: one per message listed. */
function encodeAnchor(cursor: string | null, uid: string): string {
  return Buffer.from(`{"anchor":[${cursor === null ? 'null' : JSON.stringify(cursor)},${JSON.stringify(uid)}]}`).toString('base64url');
}

/** Null for a plain Podium cursor (a connection tops up a page by following Podium's own nextCursor). */
function decodeAnchor(value: string): { cursor: string | null; uid: string } | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    const anchor = isRecord(parsed) && Array.isArray(parsed.anchor) ? parsed.anchor : null;
    if (anchor && anchor.length === 2 && (anchor[0] === null || typeof anchor[0] === 'string') && typeof anchor[1] === 'string') {
      return { cursor: anchor[0] as string | null, uid: anchor[1] };
    }
  } catch {
    // not an anchor
  }
  return null;
}

/** `updated_at` takes `YYYY-MM-DDTHH:MM:SSZ`; anything unparseable is passed on for Podium to judge. */
function podiumDateTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export { podium } from './descriptor.js';

/** The environment's account and the webhook receiver of a Podium config, without a gateway (tests and tools). */
export function createPodiumProvider(config: PodiumConfig, deps: ProviderDeps): Provider {
  return standaloneProvider(podium, config, deps);
}
