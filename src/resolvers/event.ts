// Live message events (graphql-ws subscriptions, streamed by events/stream.ts:
// resumed from the store after a cursor, then live) and the stored events list.
import { GraphQLError } from 'graphql';
import { AccountSet, requireRole } from '../auth.js';
import type { AccountId } from '../accounts/types.js';
import { pageSize } from '../connections.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode, userInputError } from '../errors.js';
import type { MessageEventFilter, Resolvers, StoredEventFilter } from '../generated/graphql.js';
import { decodeEventCursor, encodeEventCursor } from '../events/cursor.js';
import { ReplayError } from '../events/replay.js';
import { checkCursor, CursorError, openEventStream, type DeliveredEvent } from '../events/stream.js';
import type { PublishedEvent, StoredEvent } from '../events/types.js';
import { createLoaders, type Loaders } from '../loaders.js';
import type { MessageEventKind, ProviderName } from '../model.js';
import { decodeId, encodeId } from '../ids.js';
import { accountOf } from './account.js';
import { inScope } from './shared.js';

/**
 * Loaders shared by every subscription delivering the same event object: the
 * conversation, contact and sender of an event are fetched once per gateway,
 * not once per subscriber, and once per set of accounts keys reach (a loader
 * answers from what its subscriber's key can see).
 */
function loadersFor(event: PublishedEvent, ctx: GatewayContext): Loaders {
  return ctx.liveEvents.perEvent(event, ctx.scope?.key ?? '*', () => createLoaders((name, account) => ctx.accountProviders.forAccount(name, account)));
}

/**
 * The context one event of a subscription executes with (graphql/subscribe.ts): the operation's,
 * with loaders of that event, so a long-lived subscription never answers from data loaded for an
 * earlier event and the operation's context is never written to.
 */
export function eventContext(ctx: GatewayContext, event: unknown): GatewayContext {
  return { ...ctx, loaders: loadersFor(event as PublishedEvent, ctx) };
}

function subscription(kind: MessageEventKind) {
  return {
    subscribe: async (_: unknown, args: { filter?: MessageEventFilter | null; after?: string | null }, ctx: GatewayContext) => {
      const { filter, after } = args;
      const selector = {
        kind,
        provider: filter?.provider ?? null,
        locationId: filter?.locationId ?? null,
        conversation: filter?.conversationId ? decodeId(filter.conversationId, 'Conversation') : null,
        contact: filter?.contactId ? decodeId(filter.contactId, 'Contact') : null,
        accounts: eventAccounts(ctx, filter?.account, filter?.provider),
      };
      let afterId: string | null = null;
      if (after != null) {
        try {
          afterId = await checkCursor(ctx.store, after, (event) => inScope(ctx, event.provider, event.account));
        } catch (err) {
          if (err instanceof CursorError) throw userInputError(err.message);
          throw new GraphQLError('Event store unreachable: cannot resume from "after"', {
            extensions: { code: ErrorCode.StoreUnavailable },
            originalError: err instanceof Error ? err : undefined,
          });
        }
      }
      return openEventStream(ctx, selector, { after: afterId });
    },
    resolve: (event: DeliveredEvent) => event,
  };
}

function eventsPageAfter(after: string): string {
  const id = decodeEventCursor(after);
  if (id === null) throw userInputError(`"after" is not a cursor of messageEvents: "${after.slice(0, 80)}"`);
  return id;
}

export const eventResolvers: Resolvers = {
  Subscription: {
    messageSent: subscription('SENT') as never,
    messageReceived: subscription('RECEIVED') as never,
    messageFailed: subscription('FAILED') as never,
  },
  MessageEvent: {
    id: (e) => encodeId(e.provider, 'StoredEvent', e.eventId),
    type: (e) => e.kind,
    cursor: (e) => (e as DeliveredEvent).cursor,
    account: (e, _, ctx) => accountOf(ctx, e.provider, e.message.account),
  },
  Query: {
    async messageEvents(_, { filter, first, after }, ctx) {
      requireRole(ctx.role, 'admin');
      const limit = pageSize(first);
      const storeFilter = { ...toStoreFilter(filter), accounts: eventAccounts(ctx, filter?.account, filter?.provider)?.refs() ?? null };
      // Decoded outside the try: a malformed cursor is the caller's error, not the store's.
      const before = after ? eventsPageAfter(after) : null;
      let events;
      try {
        events = await ctx.store.listEvents(storeFilter, { limit: limit + 1, before });
      } catch (err) {
        throw new GraphQLError('Event store unreachable', {
          extensions: { code: ErrorCode.StoreUnavailable },
          originalError: err instanceof Error ? err : undefined,
        });
      }
      const page = events.slice(0, limit);
      const edges = page.map((e) => ({ node: e, cursor: encodeEventCursor(e.id) }));
      return {
        edges,
        pageInfo: {
          hasNextPage: events.length > limit,
          hasPreviousPage: Boolean(after),
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges[edges.length - 1]?.cursor ?? null,
        },
      };
    },
  },
  Mutation: {
    async replayEvent(_, { id }, ctx) {
      requireRole(ctx.role, 'admin');
      const { provider, providerId } = decodeId(id, 'StoredEvent');
      try {
        // Another tenant's event is as unknown as one that never was.
        if (ctx.scope && !(await visibleEvent(ctx, providerId))) throw new ReplayError('not_found', `no stored ${provider} event with id ${providerId} (unknown or past the retention)`);
        const result = await ctx.replay(provider, providerId);
        return { ...result, events: [...result.events] };
      } catch (err) {
        if (err instanceof ReplayError) {
          const code = err.kind === 'not_found' ? ErrorCode.NotFound : ErrorCode.ProviderNotConfigured;
          throw new GraphQLError(err.message, { extensions: { code } });
        }
        throw new GraphQLError('Event store unreachable: the event was not replayed; try again', {
          extensions: { code: ErrorCode.StoreUnavailable },
          originalError: err instanceof Error ? err : undefined,
        });
      }
    },
  },
  StoredEvent: {
    id: (e) => encodeId(e.provider, 'StoredEvent', e.id),
    type: (e) => e.kind,
    account: (e, _, ctx) => accountOf(ctx, e.provider, e.account ?? e.message?.account),
  },
};

/** The stored event when the caller's key reaches its account, else null. */
export async function visibleEvent(ctx: GatewayContext, id: string): Promise<StoredEvent | null> {
  const event = await ctx.store.getEvent(id);
  return event && inScope(ctx, event.provider, event.account) ? event : null;
}

/** The accounts whose events the caller gets: its key's, narrowed to `account` (a filter's) when given. */
function eventAccounts(ctx: GatewayContext, account: string | null | undefined, provider: ProviderName | null | undefined): AccountSet | null {
  if (account == null) return ctx.scope;
  const decoded = decodeId(account, 'Account');
  if (provider && decoded.provider !== provider) throw userInputError(`filter.account is a ${decoded.provider} account but filter.provider is ${provider}`);
  // Another tenant's account is as unknown as one that does not exist: nothing matches.
  const visible = inScope(ctx, decoded.provider, decoded.providerId);
  return new AccountSet(visible ? [{ provider: decoded.provider, account: decoded.providerId as AccountId }] : []);
}

function toStoreFilter(filter: StoredEventFilter | null | undefined) {
  const conversation = filter?.conversationId ? decodeId(filter.conversationId, 'Conversation') : null;
  if (conversation && filter?.provider && conversation.provider !== filter.provider) {
    throw userInputError(`conversationId is a ${conversation.provider} id but provider is ${filter.provider}`);
  }
  return {
    provider: filter?.provider ?? conversation?.provider ?? null,
    status: filter?.status ?? null,
    kind: filter?.type ?? null,
    conversationId: conversation?.providerId ?? null,
  };
}
