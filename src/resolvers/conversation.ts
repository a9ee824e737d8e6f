// Conversations and their messages. Filters the provider cannot apply upstream
// are applied here, on the items of each upstream page.
import { emptyConnection, paginate } from '../connections.js';
import type { Resolvers } from '../generated/graphql.js';
import { decodeId } from '../ids.js';
import type { ConversationRecord } from '../model.js';
import type { GatewayContext } from '../context.js';
import { accountArg, globalId, primeFrom, providerFor, providerIdOf } from './shared.js';

function conversationById(id: string, ctx: GatewayContext): Promise<ConversationRecord | null> {
  const { provider, account, providerId } = decodeId(id, 'Conversation');
  return ctx.loaders.forProvider(provider, account).conversation.load(providerId);
}

export const conversationResolvers: Resolvers = {
  Query: {
    async conversations(_, { provider, account: accountId, first, after, filter }, ctx) {
      const account = accountArg(accountId, provider);
      const adapter = providerFor(ctx, provider, account);
      const contactId = filter?.contactId ? providerIdOf(filter.contactId, 'Contact', provider, account) : null;
      const assignedUserId = filter?.assignedUserId ? providerIdOf(filter.assignedUserId, 'User', provider, account) : null;
      // A conversation names its contact by any of the contact's keys (Podium: the conversation uid).
      let contactRefs: ReadonlySet<string> | null = null;
      if (contactId) {
        const contact = await ctx.loaders.forProvider(provider, account).contact.load(contactId);
        if (!contact) return emptyConnection<ConversationRecord>();
        contactRefs = new Set([contact.id, ...(contact.aliases ?? [])]);
      }
      const upstreamFilter = { locationId: filter?.locationId, contactId, assignedUserId, closed: filter?.closed };
      return paginate({ first, after }, (page) => adapter.listConversations(page, upstreamFilter), {
        matches: (c) =>
          (!filter?.locationId || c.locationId === filter.locationId) &&
          (!contactRefs || (c.contactRef !== null && contactRefs.has(c.contactRef))) &&
          (!assignedUserId || c.assignedUserId === assignedUserId) &&
          (filter?.closed == null || c.closed === filter.closed),
        onPage: (page) => {
          page.items.forEach(ctx.loaders.primeConversation);
          primeFrom(ctx, provider, page);
        },
      });
    },
    conversation: (_, { id }, ctx) => conversationById(id, ctx),
  },
  Conversation: {
    // A supergraph's reference (Query._entities) goes through the same loader, so it batches like Query.conversation.
    __resolveReference: (ref, ctx) => conversationById(ref.id, ctx),
    id: globalId('Conversation'),
    providerId: (c) => c.id,
    contact: (c, _, ctx) => (c.contactRef ? ctx.loaders.forProvider(c.provider, c.account).contact.load(c.contactRef) : null),
    assignedUser: (c, _, ctx) => (c.assignedUserId ? ctx.loaders.forProvider(c.provider, c.account).user.load(c.assignedUserId) : null),
    messages(c, { first, after }, ctx) {
      const adapter = providerFor(ctx, c.provider, c.account);
      return paginate({ first, after }, (page) => adapter.listMessages(c.id, page), {
        onPage: (page) => {
          page.items.forEach(ctx.loaders.primeMessage);
          primeFrom(ctx, c.provider, page);
        },
      });
    },
  },
};
