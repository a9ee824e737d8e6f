// Query.node, the DateTime scalar and the Node interface.
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { requireRole } from '../auth.js';
import type { Resolvers } from '../generated/graphql.js';
import { decodeId } from '../ids.js';
import { ErrorCode, UnreachableCaseError } from '../errors.js';
import { UNIDENTIFIED } from './message.js';
import { visibleEvent } from './event.js';
import { inScope, providerFor } from './shared.js';
import type { AccountId } from '../accounts/types.js';
import { outboundById } from '../outbound/resolvers.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): string {
  if (typeof value !== 'string' || !ISO.test(value) || Number.isNaN(Date.parse(value))) {
    throw new GraphQLError(`DateTime must be ISO-8601 like 2024-01-31T12:00:00Z, got ${JSON.stringify(value)}`, {
      extensions: { code: ErrorCode.BadUserInput },
    });
  }
  return new Date(value).toISOString();
}

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'ISO-8601 date-time in UTC',
  serialize: (value) => (value instanceof Date ? value.toISOString() : String(value)),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : null),
});

export const commonResolvers: Resolvers = {
  DateTime,
  Node: {
    __resolveType: (parent) => (parent as { __typename?: string }).__typename as never,
  },
  Query: {
    async node(_, { id }, ctx) {
      const { provider, account, type, providerId } = decodeId(id);
      // Stored events and accounts are the gateway's own: they need no provider loaders.
      const loaders = () => ctx.loaders.forProvider(provider, account);
      switch (type) {
        case 'Contact':
          return tag(await loaders().contact.load(providerId), 'Contact');
        case 'Conversation':
          return tag(await loaders().conversation.load(providerId), 'Conversation');
        case 'Message':
          if (providerId.startsWith(UNIDENTIFIED)) return null;
          return tag(await loaders().message.load(providerId), 'Message');
        case 'User':
          return tag(await loaders().user.load(providerId), 'User');
        case 'Webhook':
          requireRole(ctx.role, 'admin');
          return tag(await providerFor(ctx, provider, account).webhooks.get(providerId), 'Webhook');
        case 'StoredEvent':
          requireRole(ctx.role, 'admin');
          return tag(await visibleEvent(ctx, providerId), 'StoredEvent');
        case 'Account':
          requireRole(ctx.role, 'admin');
          if (!inScope(ctx, provider, providerId)) return null;
          return tag(await ctx.accounts.registry.get(provider, providerId as AccountId), 'Account');
        case 'OutboundMessage':
          return tag(await outboundById(ctx, id), 'OutboundMessage');
        default:
          throw new UnreachableCaseError(type);
      }
    },
  },
};

function tag<T extends object>(value: T | null, typename: string): (T & { __typename: string }) | null {
  return value ? { ...value, __typename: typename } : null;
}
