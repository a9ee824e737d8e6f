// GraphQL of sending: the sendMessage mutation (agent role), OutboundMessage,
// the links from provider messages and message events to the sends that made
// them, and the outboundMessageUpdated subscription.
import DataLoader from 'dataloader';
import { requireRole } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { userInputError } from '../errors.js';
import type { OutboundMessageFilter, Resolvers } from '../generated/graphql.js';
import { decodeId, encodeId } from '../ids.js';
import type { MessageRecord, ProviderName } from '../model.js';
import { accountOf } from '../resolvers/account.js';
import { decodeSeq } from './seq.js';
import { outboundStream } from './stream.js';
import type { OutboundEvent, OutboundFilter, OutboundRecord } from './types.js';

const visible = (ctx: GatewayContext, r: OutboundRecord | null): OutboundRecord | null =>
  r && (ctx.scope === null || ctx.scope.has(r.provider, r.account)) ? r : null;

/** `node(id)` of an OutboundMessage id; null when unknown, expired or beyond the key's accounts. */
export async function outboundById(ctx: GatewayContext, id: string): Promise<OutboundRecord | null> {
  const { providerId } = decodeId(id, 'OutboundMessage');
  return visible(ctx, await ctx.outbound.store.get(providerId));
}

type MessageKey = readonly [ProviderName, string, string];

/** One store read per request for every message of a list (keyed by the request's loaders). */
const bySendLoaders = new WeakMap<object, DataLoader<MessageKey, OutboundRecord | null, string>>();

function sendLoader(ctx: GatewayContext): DataLoader<MessageKey, OutboundRecord | null, string> {
  let loader = bySendLoaders.get(ctx.loaders);
  if (!loader) {
    loader = new DataLoader(
      async (keys) => {
        const groups = new Map<string, string[]>();
        for (const [provider, account, id] of keys) groups.set(`${provider}\u0000${account}`, [...(groups.get(`${provider}\u0000${account}`) ?? []), id]);
        const found = await Promise.all(
          [...groups].map(([group, ids]) => {
            const [provider, account] = group.split('\u0000') as [ProviderName, string];
            return ctx.outbound.store.findByMessages(provider, account, ids);
          }),
        );
        const byKey = new Map(found.flat().map((r) => [`${r.provider}\u0000${r.account}\u0000${r.messageId}`, r]));
        return keys.map((k) => byKey.get(k.join('\u0000')) ?? null);
      },
      { cacheKeyFn: (k) => k.join('\u0000') },
    );
    bySendLoaders.set(ctx.loaders, loader);
  }
  return loader;
}

/** The send that made a provider message, if the gateway made it. */
async function outboundOfMessage(ctx: GatewayContext, m: MessageRecord): Promise<OutboundRecord | null> {
  if (!m.id || m.direction !== 'OUTBOUND') return null;
  return visible(ctx, await sendLoader(ctx).load([m.provider, m.account ?? 'env', m.id]));
}

const accountPart = (account: string): string | null => (account === 'env' ? null : account);

function streamFilter(ctx: GatewayContext, ids: readonly string[] | null | undefined, filter: OutboundMessageFilter | null | undefined): OutboundFilter {
  const provider = (filter?.provider ?? null) as ProviderName | null;
  let scopes: string[] | null = ctx.scope ? ctx.scope.refs().map((r) => `${r.provider}:${r.account}`) : null;
  if (filter?.account) {
    const a = decodeId(filter.account, 'Account');
    const scope = `${a.provider}:${a.providerId}`;
    scopes = scopes === null || scopes.includes(scope) ? [scope] : [];
  }
  return {
    provider,
    scopes,
    conversationId: filter?.conversationId ? decodeId(filter.conversationId, 'Conversation').providerId : null,
    ids: ids ? ids.map((id) => decodeId(id, 'OutboundMessage').providerId) : null,
  };
}

export const outboundResolvers: Resolvers = {
  Mutation: {
    async sendMessage(_, { input }, ctx) {
      requireRole(ctx.role, 'agent');
      return ctx.outbound.service.send(ctx, input);
    },
  },
  SendMessageUserError: {
    field: (e) => [...e.field],
  },
  SendMessagePayload: {
    userErrors: (p) => [...p.userErrors],
  },
  OutboundMessage: {
    id: (r) => encodeId(r.provider, 'OutboundMessage', r.id, accountPart(r.account)),
    account: (r, _, ctx) => accountOf(ctx, r.provider, accountPart(r.account) ?? undefined),
    conversation: (r, _, ctx) => {
      const id = r.conversationId ?? r.target.conversationId;
      return id ? ctx.loaders.forProvider(r.provider, accountPart(r.account)).conversation.load(id) : null;
    },
    contact: (r, _, ctx) => (r.target.contactRef ? ctx.loaders.forProvider(r.provider, accountPart(r.account)).contact.load(r.target.contactRef) : null),
    // A conversation's channel is known once the worker looked it up.
    channel: (r) => (r.pending ? r.pending.channel : r.target.channel),
    message: (r, _, ctx) => (r.messageId ? ctx.loaders.forProvider(r.provider, accountPart(r.account)).message.load(r.messageId) : null),
    queuedUntil: (r) => (r.status === 'QUEUED' ? r.queuedUntil : null),
  },
  OutboundMessageEvent: {
    outboundMessage: (e) => e.record,
  },
  Message: {
    outboundMessage: (m, _, ctx) => outboundOfMessage(ctx, m),
  },
  MessageEvent: {
    outboundMessage: (e, _, ctx) => outboundOfMessage(ctx, e.message),
  },
  Subscription: {
    outboundMessageUpdated: {
      subscribe: (_: unknown, args: { ids?: readonly string[] | null; filter?: OutboundMessageFilter | null; after?: string | null }, ctx: GatewayContext) => {
        const after = args.after == null ? null : decodeSeq(args.after);
        if (args.after != null && after === null) throw userInputError(`"after" is not an OutboundMessageEvent cursor: "${args.after.slice(0, 80)}"`);
        const filter = streamFilter(ctx, args.ids, args.filter);
        return outboundStream(ctx.outbound.store, ctx.outbound.bus, { filter, after, initial: true });
      },
      resolve: (e: OutboundEvent) => e,
    } as never,
  },
};
