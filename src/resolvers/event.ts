// Live message events (graphql-ws subscriptions) and the stored events list.
import { GraphQLError } from 'graphql';
import { requireRole } from '../auth.js';
import { pageSize } from '../connections.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode, userInputError } from '../errors.js';
import type { MessageEventFilter, Resolvers, StoredEventFilter } from '../generated/graphql.js';
import { encodeId } from '../ids.js';
import type { PublishedEvent } from '../events/types.js';
import { createLoaders } from '../loaders.js';
import type { MessageEventKind } from '../model.js';
import { decodeId } from '../ids.js';

/** Events buffered for a subscriber that is not reading; older ones are dropped past this. */
const MAX_BUFFERED_EVENTS = 1_000;

function eventMatcher(kind: MessageEventKind, filter: MessageEventFilter | null | undefined): (e: PublishedEvent) => boolean {
  const conversation = filter?.conversationId ? decodeId(filter.conversationId, 'Conversation') : null;
  const contact = filter?.contactId ? decodeId(filter.contactId, 'Contact') : null;
  return (e) =>
    e.kind === kind &&
    (!filter?.provider || e.provider === filter.provider) &&
    (!filter?.locationId || e.message.locationId === filter.locationId) &&
    (!conversation || (e.provider === conversation.provider && e.message.conversationId === conversation.providerId)) &&
    (!contact || (e.provider === contact.provider && e.message.contactRef === contact.providerId));
}

/**
 * An async iterator over the pubsub. graphql-ws calls `return()` when the
 * client completes or the socket closes (even abruptly), which unsubscribes.
 */
function eventStream(ctx: GatewayContext, matches: (e: PublishedEvent) => boolean): AsyncIterableIterator<PublishedEvent> {
  const queue: PublishedEvent[] = [];
  let waiting: ((r: IteratorResult<PublishedEvent>) => void) | null = null;
  let done = false;
  const unsubscribe = ctx.pubsub.subscribe((event) => {
    if (done || !matches(event)) return;
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve({ value: event, done: false });
      return;
    }
    if (queue.length >= MAX_BUFFERED_EVENTS) {
      queue.shift();
      ctx.logger.warn('subscriber too slow: dropped its oldest buffered event');
    }
    queue.push(event);
  });
  ctx.metrics.subscriptions.inc();

  function finish(): IteratorResult<PublishedEvent> {
    if (!done) {
      done = true;
      unsubscribe();
      ctx.metrics.subscriptions.dec();
      waiting?.({ value: undefined, done: true });
      waiting = null;
    }
    return { value: undefined, done: true };
  }

  return {
    next() {
      // Each event resolves its conversation, contact and sender with fresh loaders.
      ctx.loaders = createLoaders(ctx.providers);
      const event = queue.shift();
      if (event) return Promise.resolve({ value: event, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      return Promise.resolve(finish());
    },
    throw(err: unknown) {
      finish();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function subscription(kind: MessageEventKind) {
  return {
    subscribe: (_: unknown, args: { filter?: MessageEventFilter | null }, ctx: GatewayContext) =>
      eventStream(ctx, eventMatcher(kind, args.filter)),
    resolve: (event: PublishedEvent) => event,
  };
}

function decodeEventCursor(after: string): string {
  const id = Buffer.from(after, 'base64url').toString('utf8');
  if (!/^e:[0-9a-z]{8,64}$/i.test(id)) throw userInputError(`"after" is not a cursor of messageEvents: "${after.slice(0, 80)}"`);
  return id.slice(2);
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
  },
  Query: {
    async messageEvents(_, { filter, first, after }, ctx) {
      requireRole(ctx.role, 'admin');
      const limit = pageSize(first);
      const storeFilter = toStoreFilter(filter);
      let events;
      try {
        events = await ctx.store.listEvents(storeFilter, { limit: limit + 1, before: after ? decodeEventCursor(after) : null });
      } catch (err) {
        throw new GraphQLError('Event store unreachable', {
          extensions: { code: ErrorCode.StoreUnavailable },
          originalError: err instanceof Error ? err : undefined,
        });
      }
      const page = events.slice(0, limit);
      const edges = page.map((e) => ({ node: e, cursor: Buffer.from(`e:${e.id}`).toString('base64url') }));
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
  StoredEvent: {
    id: (e) => encodeId(e.provider, 'StoredEvent', e.id),
    type: (e) => e.kind,
  },
};

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
