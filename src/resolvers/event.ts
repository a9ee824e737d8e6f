// Live message events (graphql-ws subscriptions, streamed by events/stream.ts) and the stored events list.
import { GraphQLError } from 'graphql';
import { requireRole } from '../auth.js';
import { pageSize } from '../connections.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode, userInputError } from '../errors.js';
import type { MessageEventFilter, Resolvers, StoredEventFilter } from '../generated/graphql.js';
import { openEventStream } from '../events/stream.js';
import type { PublishedEvent } from '../events/types.js';
import { createLoaders } from '../loaders.js';
import type { MessageEventKind } from '../model.js';
import { decodeId, encodeId } from '../ids.js';

function subscription(kind: MessageEventKind) {
  return {
    subscribe: (_: unknown, args: { filter?: MessageEventFilter | null }, ctx: GatewayContext) => {
      const { filter } = args;
      const selector = {
        kind,
        provider: filter?.provider ?? null,
        locationId: filter?.locationId ?? null,
        conversation: filter?.conversationId ? decodeId(filter.conversationId, 'Conversation') : null,
        contact: filter?.contactId ? decodeId(filter.contactId, 'Contact') : null,
      };
      // Each event resolves its conversation, contact and sender with fresh loaders.
      return openEventStream(ctx, selector, () => (ctx.loaders = createLoaders(ctx.providers)));
    },
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
      // Decoded outside the try: a malformed cursor is the caller's error, not the store's.
      const before = after ? decodeEventCursor(after) : null;
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
