// Webhook subscription admin: validated here before any upstream call, carried
// out through the provider's API, mirrored in the store (secrets included, as
// Smooch deliveries are verified against them). Secrets never leave.
import { GraphQLError } from 'graphql';
import { requireRole } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode, userInputError } from '../errors.js';
import type { Resolvers } from '../generated/graphql.js';
import { decodeId, encodeId } from '../ids.js';
import type { ProviderName, WebhookRecord } from '../model.js';
import type { WebhookAdmin } from '../providers/provider.js';
import { httpsUrlProblem } from '../urls.js';
import { accountArg, providerFor } from './shared.js';

function checkEventTypes(eventTypes: readonly string[], admin: WebhookAdmin, provider: ProviderName): string[] {
  if (eventTypes.length === 0) return ['eventTypes must name at least one event type'];
  const unknown = eventTypes.filter((t) => !admin.eventTypes.includes(t));
  const problems = unknown.length
    ? [`unknown ${provider} event types: ${unknown.join(', ')} (known: ${admin.eventTypes.join(', ')})`]
    : [];
  if (new Set(eventTypes).size !== eventTypes.length) problems.push('eventTypes lists an event type twice');
  return problems;
}

function reject(problems: readonly string[]): void {
  if (problems.length > 0) throw userInputError(`Invalid webhook input: ${problems.join('; ')}`, { problems });
}

/** Saves the mirror; the secret is kept from the store when the provider does not return it. */
async function mirror(ctx: GatewayContext, record: WebhookRecord, secret?: string | null): Promise<WebhookRecord> {
  const stored = await ctx.store.getWebhook(record.provider, record.id);
  const merged = { ...record, secret: secret ?? record.secret ?? stored?.secret ?? null };
  await ctx.store.saveWebhook(merged);
  ctx.onWebhooksChanged(record.provider);
  return merged;
}

function storeFailure(err: unknown, what: string): GraphQLError {
  return new GraphQLError(`${what}, but the gateway could not record it: event store unreachable`, {
    extensions: { code: ErrorCode.StoreUnavailable },
    originalError: err instanceof Error ? err : undefined,
  });
}

function notFound(id: string): GraphQLError {
  return new GraphQLError(`No webhook ${id}`, { extensions: { code: ErrorCode.NotFound } });
}

async function webhookById(id: string, ctx: GatewayContext): Promise<WebhookRecord | null> {
  requireRole(ctx.role, 'admin');
  const { provider, account, providerId } = decodeId(id, 'Webhook');
  const webhook = await providerFor(ctx, provider, account).webhooks.get(providerId);
  if (!webhook) return null;
  const stored = await ctx.store.getWebhook(provider, providerId).catch(() => null);
  return { ...webhook, secret: webhook.secret ?? stored?.secret ?? null };
}

export const webhookResolvers: Resolvers = {
  Query: {
    async webhooks(_, { provider, account }, ctx) {
      requireRole(ctx.role, 'admin');
      // A mirror saved after this moment belongs to a webhook the listing may not show yet.
      const snapshotStart = new Date();
      // Resolved once, so the listing and the mirrors pruned after it are of the same account.
      const listed = accountArg(account, provider) ?? (await ctx.accountProviders.defaultAccount(provider));
      const upstream = await providerFor(ctx, provider, listed).webhooks.list();
      try {
        const stored = await ctx.store.listWebhooks(provider);
        const live = new Set(upstream.map((w) => w.id));
        // Only this account's mirrors: another account's webhooks are not in this listing, and their secrets still verify its deliveries.
        const gone = stored.filter((w) => (w.account ?? 'env') === listed && !live.has(w.id));
        await Promise.all(gone.map((w) => ctx.store.deleteWebhook(provider, w.id, { savedBefore: snapshotStart })));
        return await Promise.all(upstream.map((w) => mirror(ctx, w)));
      } catch (err) {
        ctx.logger.warn({ err, provider }, 'webhook mirror not updated: event store unreachable');
        return [...upstream];
      }
    },
    webhook: (_, { id }, ctx) => webhookById(id, ctx),
  },
  Mutation: {
    async createWebhook(_, { input }, ctx) {
      requireRole(ctx.role, 'admin');
      const admin = providerFor(ctx, input.provider, accountArg(input.account, input.provider, 'input.account')).webhooks;
      const urlProblem = httpsUrlProblem('url', input.url, ctx.allowLocalHttpWebhooks);
      reject([...(urlProblem ? [urlProblem] : []), ...checkEventTypes(input.eventTypes, admin, input.provider), ...admin.validateCreate(input)]);
      // Deliveries failing verification meanwhile wait for this secret (events/secrets.ts).
      const creationDone = ctx.beginWebhookCreation(input.provider);
      try {
        const created = await admin.create(input);
        try {
          return await mirror(ctx, created, input.secret);
        } catch (err) {
          throw storeFailure(err, `${input.provider} created webhook ${encodeId(input.provider, 'Webhook', created.id, created.account)}`);
        }
      } finally {
        creationDone();
      }
    },
    async updateWebhook(_, { id, input }, ctx) {
      requireRole(ctx.role, 'admin');
      const { provider, account, providerId } = decodeId(id, 'Webhook');
      const admin = providerFor(ctx, provider, account).webhooks;
      const problems: string[] = [];
      if (input.url != null) problems.push(...[httpsUrlProblem('url', input.url, ctx.allowLocalHttpWebhooks)].filter((p): p is string => p !== null));
      if (input.eventTypes != null) problems.push(...checkEventTypes(input.eventTypes, admin, provider));
      if ([input.url, input.eventTypes, input.secret, input.disabled].every((v) => v == null)) {
        problems.push('give at least one of url, eventTypes, secret, disabled');
      }
      reject([...problems, ...admin.validateUpdate(input)]);
      const updated = await admin.update(providerId, input);
      if (!updated) throw notFound(id);
      try {
        return await mirror(ctx, updated, input.secret);
      } catch (err) {
        throw storeFailure(err, `${provider} updated webhook ${id}`);
      }
    },
    async deleteWebhook(_, { id }, ctx) {
      requireRole(ctx.role, 'admin');
      const { provider, account, providerId } = decodeId(id, 'Webhook');
      const deleted = await providerFor(ctx, provider, account).webhooks.delete(providerId);
      if (!deleted) throw notFound(id);
      try {
        await ctx.store.deleteWebhook(provider, providerId);
        ctx.onWebhooksChanged(provider);
      } catch (err) {
        throw storeFailure(err, `${provider} deleted webhook ${id}`);
      }
      return deleted;
    },
  },
  Webhook: {
    // A supergraph's reference (Query._entities): admin only, like Query.webhook.
    __resolveReference: (ref, ctx) => webhookById(ref.id, ctx),
    id: (w) => encodeId(w.provider, 'Webhook', w.id, w.account),
    providerId: (w) => w.id,
    eventTypes: (w) => [...w.eventTypes],
    hasSecret: (w) => typeof w.secret === 'string' && w.secret.length > 0,
  },
};
