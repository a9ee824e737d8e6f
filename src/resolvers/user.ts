// Staff users (none for Smooch: its adapter answers an empty page).
import { paginate } from '../connections.js';
import type { Resolvers } from '../generated/graphql.js';
import { decodeId } from '../ids.js';
import { globalId, primeFrom, providerFor } from './shared.js';

export const userResolvers: Resolvers = {
  Query: {
    users(_, { provider, first, after }, ctx) {
      const adapter = providerFor(ctx, provider);
      return paginate({ first, after }, (page) => adapter.listUsers(page), {
        onPage: (page) => {
          page.items.forEach(ctx.loaders.primeUser);
          primeFrom(ctx, provider, page);
        },
      });
    },
    user(_, { id }, ctx) {
      const { provider, providerId } = decodeId(id, 'User');
      return ctx.loaders.forProvider(provider).user.load(providerId);
    },
  },
  User: {
    id: globalId('User'),
    providerId: (u) => u.id,
  },
};
