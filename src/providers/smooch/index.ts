// The Smooch / Sunshine Conversations adapter (API v2). A Smooch user is a
// Contact; conversations are listed per user; messages page backwards 100 at a
// time. Smooch has no staff users (the business side writes as "business"), and
// its webhooks live in custom integrations, one webhook each.
import type { SmoochConfig } from '../../config.js';
import { ProviderError, UnsupportedError, userInputError } from '../../errors.js';
import type { MessageRecord, WebhookCreateInput, WebhookUpdateInput } from '../../model.js';
import type { BatchResult, Provider, ProviderDeps, WebhookAdmin } from '../provider.js';
import { receiveOnly } from '../receive-only.js';
import { createSmoochClient, type SmoochClient } from './client.js';
import {
  normalizeSmoochConversation,
  normalizeSmoochMessage,
  normalizeSmoochUser,
  normalizeSmoochWebhook,
} from './normalize.js';
import { createSmoochReceiver } from './webhooks.js';

/** v2 webhook triggers (the spec's "Webhook Triggers" table). */
export const SMOOCH_WEBHOOK_TRIGGERS = [
  'client:add',
  'client:remove',
  'client:update',
  'conversation:create',
  'conversation:join',
  'conversation:leave',
  'conversation:remove',
  'conversation:message',
  'conversation:message:delivery:channel',
  'conversation:message:delivery:failure',
  'conversation:message:delivery:user',
  'conversation:postback',
  'conversation:read',
  'conversation:referral',
  'passthrough:messaging',
  'conversation:typing',
  'switchboard:acceptControl',
  'switchboard:acceptControl:failure',
  'switchboard:offerControl',
  'switchboard:offerControl:failure',
  'switchboard:passControl',
  'switchboard:passControl:failure',
  'switchboard:releaseControl',
  'user:merge',
  'user:update',
  'user:remove',
] as const;

/** Smooch pages messages by a fixed 100, so a single-message lookup scans at most this many pages. */
const MESSAGE_SCAN_PAGES = 10;
const INTEGRATION_NAME = 'Messaging gateway webhook';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function createSmoochProvider(config: SmoochConfig, deps: ProviderDeps): Provider {
  const receiver = createSmoochReceiver(config);
  if (!config.api) return receiveOnly('SMOOCH', receiver, SMOOCH_WEBHOOK_TRIGGERS, 'SMOOCH_APP_ID, SMOOCH_KEY_ID and SMOOCH_SECRET');
  const client = createSmoochClient(config.api, deps);

  return {
    name: 'SMOOCH',

    async listContacts(_page, filter) {
      const email = filter.query?.trim() ?? '';
      if (!EMAIL.test(email)) {
        throw userInputError(
          `Smooch cannot list all users; it only finds users by email identity. Expected an email address as the contact query, got ${JSON.stringify(filter.query ?? null)}`,
        );
      }
      const users = await client.findUsersByEmail(email);
      return { items: users.map(normalizeSmoochUser), nextCursor: null };
    },

    getContacts(refs) {
      return batch(refs, async (ref) => {
        const user = await client.getUser(ref);
        return user && normalizeSmoochUser(user);
      });
    },

    async listConversations(page, filter) {
      const userId = filter.contactId;
      if (!userId) throw userInputError('Smooch lists conversations per user only: expected filter.contactId, got none');
      const res = await client.listConversations(userId, { after: page.cursor, size: Math.min(Math.max(page.limit, 1), 100) });
      return {
        // The user is a participant of every conversation listed for them.
        items: res.items.map((c) => normalizeSmoochConversation(c, userId)),
        nextCursor: res.meta.hasMore ? (res.meta.afterCursor ?? null) : null,
      };
    },

    getConversations(ids) {
      return batch(ids, async (id) => {
        // The conversation object names no user: its participant does.
        const [conversation, participants] = await Promise.all([client.getConversation(id), client.listParticipants(id)]);
        if (!conversation) return null;
        const contactRef = conversation.type === 'personal' ? (participants?.[0]?.userId ?? null) : null;
        return normalizeSmoochConversation(conversation, contactRef);
      });
    },

    async listMessages(conversationId, page) {
      const res = await client.listMessages(conversationId, page.cursor);
      return {
        // Smooch pages are chronological; the gateway wants newest first.
        items: res.items.map((m) => normalizeSmoochMessage(m, conversationId)).reverse(),
        nextCursor: res.meta.hasMore ? (res.meta.beforeCursor ?? null) : null,
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

    webhooks: createWebhookAdmin(client),
    receiver,
  };
}

/**
 * v2 has no GET for one message, so each conversation asked about is scanned
 * from its newest page backwards until every wanted message is found, the
 * history ends (the rest are unknown: null), or MESSAGE_SCAN_PAGES pages were read.
 */
async function getMessages(client: SmoochClient, ids: readonly string[]): Promise<BatchResult<MessageRecord>> {
  const wanted = new Map<string, Set<string>>();
  for (const id of ids) {
    const [conversationId, messageId, extra] = id.split('/');
    if (!conversationId || !messageId || extra !== undefined) continue;
    wanted.set(conversationId, (wanted.get(conversationId) ?? new Set()).add(messageId));
  }
  const results = new Map<string, MessageRecord | null | Error>();
  await Promise.all(
    [...wanted].map(async ([conversationId, messageIds]) => {
      const settle = (messageId: string, value: MessageRecord | null | Error): void => {
        results.set(`${conversationId}/${messageId}`, value);
      };
      try {
        let before: string | null = null;
        for (let pages = 0; pages < MESSAGE_SCAN_PAGES && messageIds.size > 0; pages++) {
          const res = await client.listMessages(conversationId, before);
          for (const m of res.items) {
            if (!messageIds.delete(m.id)) continue;
            settle(m.id, normalizeSmoochMessage(m, conversationId));
          }
          before = res.meta.hasMore ? (res.meta.beforeCursor ?? null) : null;
          if (before === null) break;
        }
        const exhausted = before === null;
        for (const messageId of messageIds) {
          settle(
            messageId,
            exhausted
              ? null
              : new UnsupportedError(
                  'SMOOCH',
                  `Smooch has no single-message lookup: message ${messageId} is not among the newest ${MESSAGE_SCAN_PAGES * 100} messages of conversation ${conversationId}`,
                ),
          );
        }
      } catch (err) {
        const value = err instanceof ProviderError && err.failure === 'NOT_FOUND' ? null : asError(err);
        for (const messageId of messageIds) settle(messageId, value);
      }
    }),
  );
  return ids.map((id) => results.get(id) ?? null);
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
    eventTypes: SMOOCH_WEBHOOK_TRIGGERS,

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

/** One upstream lookup per distinct key, in parallel; a key that fails gets its Error, the rest still answer. */
async function batch<T>(keys: readonly string[], lookup: (key: string) => Promise<T | null>): Promise<BatchResult<T>> {
  const distinct = [...new Set(keys)];
  const settled = await Promise.allSettled(distinct.map(lookup));
  const byKey = new Map(distinct.map((key, i) => [key, settled[i]]));
  return keys.map((key) => {
    const s = byKey.get(key);
    if (!s) return null;
    return s.status === 'fulfilled' ? s.value : asError(s.reason);
  });
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
