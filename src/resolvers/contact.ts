// Contacts: list through the provider's paging, lookups through the loaders.
import { paginate } from '../connections.js';
import type { Resolvers } from '../generated/graphql.js';
import { decodeId } from '../ids.js';
import type { GatewayContext } from '../context.js';
import type { ContactRecord } from '../model.js';
import { accountArg, globalId, primeFrom, providerFor } from './shared.js';

function contactById(id: string, ctx: GatewayContext): Promise<ContactRecord | null> {
  const { provider, account, providerId } = decodeId(id, 'Contact');
  return ctx.loaders.forProvider(provider, account).contact.load(providerId);
}

export const contactResolvers: Resolvers = {
  Query: {
    contacts(_, { provider, account, first, after, filter }, ctx) {
      const adapter = providerFor(ctx, provider, accountArg(account, provider));
      const f = { locationId: filter?.locationId, query: filter?.query, updatedAfter: filter?.updatedAfter };
      return paginate({ first, after }, (page) => adapter.listContacts(page, f), {
        onPage: (page) => {
          page.items.forEach(ctx.loaders.primeContact);
          primeFrom(ctx, provider, page);
        },
      });
    },
    contact: (_, { id }, ctx) => contactById(id, ctx),
  },
  Contact: {
    // A supergraph's reference (Query._entities) goes through the same loader, so it batches like Query.contact.
    __resolveReference: (ref, ctx) => contactById(ref.id, ctx),
    id: globalId('Contact'),
    providerId: (c) => c.id,
    emails: (c) => [...c.emails],
    phones: (c) => [...c.phones],
  },
};
