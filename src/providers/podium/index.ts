// The Podium adapter: lists and batch lookups over API v4, webhook
// subscription admin over /v4/webhooks and the webhook receiver.
import type { PodiumConfig } from '../../config.js';
import type { WebhookUpdateInput } from '../../model.js';
import { ifFound, lookupEach } from '../batch.js';
import { checkProviderId } from '../id-rules.js';
import type { Provider, ProviderDeps, WebhookAdmin } from '../provider.js';
import { receiveOnly } from '../receive-only.js';
import { createPodiumClient, type PodiumClient, type PodiumWebhookCreate, type PodiumWebhookUpdate } from './client.js';
import {
  normalizePodiumContact,
  normalizePodiumConversation,
  normalizePodiumMessage,
  normalizePodiumUser,
  normalizePodiumWebhook,
} from './normalize.js';
import { PODIUM_EVENT_TYPES } from './event-types.js';
import { PODIUM_IDS } from './ids.js';
import { createPodiumReceiver } from './webhooks.js';

export function createPodiumProvider(config: PodiumConfig, deps: ProviderDeps): Provider {
  const receiver = createPodiumReceiver(config, deps);
  if (!config.api) return receiveOnly('PODIUM', receiver, PODIUM_EVENT_TYPES, 'PODIUM_ACCESS_TOKEN or PODIUM_REFRESH_TOKEN');
  const client = createPodiumClient(config.api, deps);
  return {
    name: 'PODIUM',

    async listContacts(page, filter) {
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

    async listMessages(conversationId, page) {
      const res = await client.listMessages(conversationId, page);
      return { items: res.data.map((m) => normalizePodiumMessage(m)), nextCursor: res.nextCursor };
    },
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

    webhooks: createPodiumWebhookAdmin(client),
    receiver,
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

/** `updated_at` takes `YYYY-MM-DDTHH:MM:SSZ`; anything unparseable is passed on for Podium to judge. */
function podiumDateTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
