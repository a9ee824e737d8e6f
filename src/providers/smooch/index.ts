// The Smooch / Sunshine Conversations API of one app (API v2). A Smooch user is a
// Contact; conversations are listed per user; messages page backwards 100 at a
// time. Smooch has no staff users (the business side writes as "business"), and
// its webhooks live in custom integrations, one webhook each. Also the folder's
// entry: its descriptor (descriptor.ts) and a stand-alone provider from a config alone.
import { ProviderError, UnsupportedError, userInputError } from '../../errors.js';
import type { MessageRecord, WebhookCreateInput, WebhookUpdateInput } from '../../model.js';
import { lookupEach, lookupGrouped } from '../batch.js';
import { refuseUnsupported } from '../filters.js';
import type { BatchResult, Provider, ProviderApi, ProviderDeps, WebhookAdmin } from '../provider.js';
import { createSmoochClient, type SmoochClient } from './client.js';
import {
  normalizeSmoochConversation,
  normalizeSmoochMessage,
  normalizeSmoochUser,
  normalizeSmoochWebhook,
} from './normalize.js';
import { createSmoochSeen, type SmoochSeenLoaders } from './directory.js';
import { SMOOCH_EVENT_TYPES } from './event-types.js';
import type { SmoochApiConfig } from './config.js';
import { standaloneProvider } from '../standalone.js';
import type { SmoochConfig } from './config.js';
import { smooch } from './descriptor.js';
import { createSmoochSender } from './send.js';

/** Smooch pages messages by a fixed 100, so a single-message lookup scans at most this many pages. */
const MESSAGE_SCAN_PAGES = 10;
const INTEGRATION_NAME = 'Messaging gateway webhook';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function createSmoochApi(config: SmoochApiConfig, deps: ProviderDeps): ProviderApi {
  const client = createSmoochClient(config, deps);
  const { getContact, getConversation } = singleLookups(client);
  // Lists without a filter come from what the gateway has seen (directory.ts).
  const seen = createSmoochSeen(deps, { getContact, getConversation });

  return {
    name: 'SMOOCH',

    async listContacts(page, filter) {
      refuseUnsupported('SMOOCH', 'contacts', filter, {
        locationId: 'Smooch has no locations',
        updatedAfter: 'Smooch users have no update time to filter on',
      });
      const email = filter.query?.trim() ?? '';
      if (!email && seen) return seen.listContacts(page);
      if (!EMAIL.test(email)) {
        throw userInputError(
          `Smooch cannot list all users; it only finds users by email identity. Expected an email address as the contact query, got ${JSON.stringify(filter.query ?? null)}`,
        );
      }
      const users = (await client.findUsersByEmail(email)).map(normalizeSmoochUser);
      await seen?.noteContacts(users);
      return { items: users, nextCursor: null };
    },

    async getContacts(refs) {
      const found = await lookupEach(refs, getContact);
      await seen?.noteContacts(found);
      return found;
    },

    async listConversations(page, filter) {
      refuseUnsupported('SMOOCH', 'conversations', filter, {
        locationId: 'Smooch has no locations',
        assignedUserId: 'Smooch has no staff users to assign conversations to',
        closed: 'Smooch conversations have no closed state',
      });
      const userId = filter.contactId;
      if (!userId && seen) return seen.listConversations(page);
      if (!userId) throw userInputError('Smooch lists conversations per user only: expected filter.contactId, got none');
      const [res, user] = await Promise.all([
        client.listConversations(userId, { after: page.cursor, size: Math.min(Math.max(page.limit, 1), 100) }),
        client.getUser(userId),
      ]);
      // The conversation object names no channel: its participant's client association does.
      const participants = await Promise.all(res.items.map((c) => client.listParticipants(c.id)));
      // The user is a participant of every conversation listed for them.
      const items = res.items.map((c, i) => normalizeSmoochConversation(c, { contactRef: userId, user, participants: participants[i] ?? null }));
      await seen?.noteConversations(items);
      return {
        items,
        nextCursor: res.meta.hasMore ? (res.meta.afterCursor ?? null) : null,
        itemCursors: res.items.map((c) => c.id),
        ...(user ? { included: { contacts: [normalizeSmoochUser(user)] } } : {}),
      };
    },

    async getConversations(ids) {
      const found = await lookupEach(ids, getConversation);
      await seen?.noteConversations(found);
      return found;
    },

    async listMessages(conversationId, page) {
      const res = await client.listMessages(conversationId, page.cursor);
      // Smooch pages are chronological; the gateway wants newest first.
      const newestFirst = [...res.items].reverse();
      return {
        items: newestFirst.map((m) => normalizeSmoochMessage(m, conversationId)),
        nextCursor: res.meta.hasMore ? (res.meta.beforeCursor ?? null) : null,
        // page[before]=<id> resumes right after a message (older than it), however many arrived since.
        itemCursors: newestFirst.map((m) => m.id),
      };
    },

    getMessages(ids) {
      return getMessages(client, ids);
    },

    async listUsers() {
      return { items: [], nextCursor: null };
    },

    async getUsers(ids) {
      return ids.map(() => null);
    },

    // Smooch has no locations: filters and webhooks refuse a locationId, so the app itself is not listed as one.
    async listLocations() {
      return [];
    },

    webhooks: createWebhookAdmin(client),
    sender: createSmoochSender(client.http, config.appId),
  };
}

/** One user or conversation by id, with what its own object does not say. */
function singleLookups(client: SmoochClient): SmoochSeenLoaders {
  return {
    async getContact(ref) {
      const user = await client.getUser(ref);
      return user && normalizeSmoochUser(user);
    },
    async getConversation(id) {
      // The conversation object names no user: its participant does.
      const [conversation, participants] = await Promise.all([client.getConversation(id), client.listParticipants(id)]);
      if (!conversation) return null;
      const contactRef = conversation.type === 'personal' ? (participants?.[0]?.userId ?? null) : null;
      const user = contactRef ? await client.getUser(contactRef) : null;
      return normalizeSmoochConversation(conversation, { contactRef, user, participants });
    },
  };
}

/**
 * v2 has no GET for one message, so each conversation asked about is scanned
 * from its newest page backwards until every wanted message is found, the
 * history ends (the rest are unknown: null), or MESSAGE_SCAN_PAGES pages were read.
 */
function getMessages(client: SmoochClient, ids: readonly string[]): Promise<BatchResult<MessageRecord>> {
  return lookupGrouped(ids, byConversation, async (group) => {
    const conversationId = (group[0] as string).split('/')[0] as string;
    const wanted = new Set(group.map((id) => id.split('/')[1] as string));
    const found = new Map<string, MessageRecord | Error>();
    let before: string | null = null;
    try {
      for (let pages = 0; pages < MESSAGE_SCAN_PAGES && wanted.size > 0; pages++) {
        const res = await client.listMessages(conversationId, before);
        for (const m of res.items) {
          if (wanted.delete(m.id)) found.set(`${conversationId}/${m.id}`, normalizeSmoochMessage(m, conversationId));
        }
        before = res.meta.hasMore ? (res.meta.beforeCursor ?? null) : null;
        if (before === null) break;
      }
    } catch (err) {
      if (err instanceof ProviderError && err.failure === 'NOT_FOUND') return found; // an unknown conversation holds no message
      throw err;
    }
    if (before !== null) {
      for (const messageId of wanted) {
        found.set(
          `${conversationId}/${messageId}`,
          new UnsupportedError(
            'SMOOCH',
            `Smooch has no single-message lookup: message ${messageId} is not among the newest ${MESSAGE_SCAN_PAGES * 100} messages of conversation ${conversationId}`,
          ),
        );
      }
    }
    return found;
  });
}

/** Message keys grouped by conversation; a key that is not `<conversation>/<message>` names no message. */
function byConversation(distinct: readonly string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const id of distinct) {
    const [conversationId, messageId, extra] = id.split('/');
    if (!conversationId || !messageId || extra !== undefined) continue;
    groups.set(conversationId, [...(groups.get(conversationId) ?? []), id]);
  }
  return [...groups.values()];
}

function createWebhookAdmin(client: SmoochClient): WebhookAdmin {
  const parseId = (id: string): { integrationId: string; webhookId: string } | null => {
    const [integrationId, webhookId, extra] = id.split('/');
    return integrationId && webhookId && extra === undefined ? { integrationId, webhookId } : null;
  };
  const common = (input: WebhookCreateInput | WebhookUpdateInput): string[] => [
    ...(input.secret ? ['Smooch generates webhook secrets itself: expected no secret, got one'] : []),
    ...(input.disabled ? ['Smooch webhooks cannot be disabled: expected disabled false or unset, got true'] : []),
  ];

  return {
    eventTypes: SMOOCH_EVENT_TYPES,

    validateCreate(input) {
      return [
        ...common(input),
        ...(input.locationId ? [`Smooch has no locations: expected no locationId, got ${JSON.stringify(input.locationId)}`] : []),
        ...(input.organizationId
          ? [`Smooch has no organizations: expected no organizationId, got ${JSON.stringify(input.organizationId)}`]
          : []),
      ];
    },

    validateUpdate(input) {
      return common(input);
    },

    async list() {
      const integrations = await client.listCustomIntegrations();
      const perIntegration = await Promise.all(
        integrations.map(async (i) => (i.webhooks ?? (await client.listWebhooks(i.id))).map((w) => normalizeSmoochWebhook(i.id, w))),
      );
      return perIntegration.flat();
    },

    async get(id) {
      const key = parseId(id);
      const webhook = key && (await client.getWebhook(key.integrationId, key.webhookId));
      return key && webhook ? normalizeSmoochWebhook(key.integrationId, webhook) : null;
    },

    async create(input) {
      // One custom integration per webhook: v2's way to subscribe (v1.1 webhooks are discouraged).
      const integration = await client.createCustomIntegration(INTEGRATION_NAME, {
        target: input.url,
        triggers: input.eventTypes,
        includeFullUser: false,
        includeFullSource: false,
      });
      const webhook = (integration.webhooks ?? (await client.listWebhooks(integration.id)))[0];
      if (!webhook) {
        throw new ProviderError('SMOOCH', 'BAD_RESPONSE', `Smooch created custom integration ${integration.id} with no webhook in it`);
      }
      return normalizeSmoochWebhook(integration.id, webhook);
    },

    async update(id, input) {
      const key = parseId(id);
      if (!key) return null;
      const webhook = await client.updateWebhook(key.integrationId, key.webhookId, {
        ...(input.url ? { target: input.url } : {}),
        ...(input.eventTypes ? { triggers: input.eventTypes } : {}),
      });
      return webhook && normalizeSmoochWebhook(key.integrationId, webhook);
    },

    async delete(id) {
      const key = parseId(id);
      if (!key) return null;
      const [integration, webhook] = await Promise.all([
        client.getIntegration(key.integrationId),
        client.getWebhook(key.integrationId, key.webhookId),
      ]);
      if (!integration || !webhook) return null;
      // Deleting the integration leaves no empty custom integration behind; never
      // do that to a channel integration that happens to carry a webhook.
      if (integration.type !== 'custom') {
        throw userInputError(
          `Smooch webhook ${id} belongs to a ${integration.type} integration; expected a custom integration created for webhooks`,
        );
      }
      if (!(await client.deleteIntegration(key.integrationId))) return null;
      return normalizeSmoochWebhook(key.integrationId, webhook);
    },
  };
}

export { smooch } from './descriptor.js';

/** The environment's account and the webhook receiver of a Smooch config, without a gateway (tests and tools). */
export function createSmoochProvider(config: SmoochConfig, deps: ProviderDeps): Provider {
  return standaloneProvider(smooch, config, deps);
}
