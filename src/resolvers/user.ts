// Staff users (none for Smooch: its adapter answers an empty page).
import { paginate } from '../connections.js';
import type { Resolvers } from '../generated/graphql.js';
import { decodeId } from '../ids.js';
import type { GatewayContext } from '../context.js';
import type { UserRecord } from '../model.js';
import { accountArg, globalId, primeFrom, providerFor } from './shared.js';

function userById(id: string, ctx: GatewayContext): Promise<UserRecord | null> {
  const { provider, account, providerId } = decodeId(id, 'User');
  return ctx.loaders.forProvider(provider, account).user.load(providerId);
}

export const userResolvers: Resolvers = {
  Query: {
    users(_, { provider, account, first, after }, ctx) {
      const adapter = providerFor(ctx, provider, accountArg(account, provider));
      return paginate({ first, after }, (page) => adapter.listUsers(page), {
        onPage: (page) => {
          page.items.forEach(ctx.loaders.primeUser);
          primeFrom(ctx, provider, page);
        },
      });
    },
    user: (_, { id }, ctx) => userById(id, ctx),
  },
  User: {
    // A supergraph's reference (Query._entities) goes through the same loader, so it batches like Query.user.
    __resolveReference: (ref, ctx) => userById(ref.id, ctx),
    id: globalId('User'),
    providerId: (u) => u.id,
  },
};
