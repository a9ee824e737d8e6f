// Messages: lookups, sender resolution and the ids of messages a provider
// delivered without one.
import type { Resolvers } from '../generated/graphql.js';
import { decodeId, encodeId } from '../ids.js';
import type { GatewayContext } from '../context.js';
import type { MessageRecord } from '../model.js';
import { hashKey } from '../providers/delivery.js';
import { UnreachableCaseError } from '../errors.js';

/** Prefix of the provider-id part of ids made up for messages the provider sent without an id. */
export const UNIDENTIFIED = '~';

export function messageGlobalId(m: MessageRecord): string {
  const providerId = m.id ?? `${UNIDENTIFIED}${hashKey(m.conversationId ?? '', m.createdAt ?? '', m.body ?? '').slice(0, 24)}`;
  return encodeId(m.provider, 'Message', providerId, m.account);
}

async function messageById(id: string, ctx: GatewayContext): Promise<MessageRecord | null> {
  const { provider, account, providerId } = decodeId(id, 'Message');
  if (providerId.startsWith(UNIDENTIFIED)) return null;
  return ctx.loaders.forProvider(provider, account).message.load(providerId);
}

/**
 * A sender record with its union member named, copied once per record rather
 * than once per message: an inbox's 388 messages have a few dozen senders.
 * Records are never changed after they are made, so the copy stays true.
 */
const taggedRecords = new WeakMap<object, object>();
function tagged<T extends object, N extends 'User' | 'Contact'>(record: T, typename: N): T & { readonly __typename: N } {
  let copy = taggedRecords.get(record) as (T & { readonly __typename: N }) | undefined;
  if (!copy) {
    copy = { ...record, __typename: typename };
    taggedRecords.set(record, copy);
  }
  return copy;
}

export const messageResolvers: Resolvers = {
  Query: {
    message: (_, { id }, ctx) => messageById(id, ctx),
  },
  Message: {
    // A supergraph's reference (Query._entities) goes through the same loader, so it batches like Query.message.
    __resolveReference: (ref, ctx) => messageById(ref.id, ctx),
    id: messageGlobalId,
    providerId: (m) => (m.id ? (m.id.split('/').pop() ?? m.id) : null),
    conversation: (m, _, ctx) => (m.conversationId ? ctx.loaders.forProvider(m.provider, m.account).conversation.load(m.conversationId) : null),
    // Business-side messages (Smooch SENT) carry no user: the conversation knows its contact.
    async contact(m, _, ctx) {
      const loaders = ctx.loaders.forProvider(m.provider, m.account);
      const ref = m.contactRef ?? (m.conversationId ? ((await loaders.conversation.load(m.conversationId))?.contactRef ?? null) : null);
      return ref ? loaders.contact.load(ref) : null;
    },
    attachments: (m) => [...m.attachments],
    email: (m) => m.email,
    async sender(m, _, ctx) {
      const sender = m.sender;
      if (!sender) return null;
      switch (sender.kind) {
        case 'USER': {
          const user = await ctx.loaders.forProvider(m.provider, m.account).user.load(sender.userId);
          return user ? tagged(user, 'User') : null;
        }
        case 'CONTACT': {
          const contact = await ctx.loaders.forProvider(m.provider, m.account).contact.load(sender.contactRef);
          return contact ? tagged(contact, 'Contact') : null;
        }
        case 'BUSINESS':
          return { __typename: 'BusinessAuthor' as const, name: sender.name, avatarUrl: sender.avatarUrl };
        default:
          throw new UnreachableCaseError(sender);
      }
    },
  },
  EmailDetails: {
    to: (e) => [...e.to],
    cc: (e) => [...e.cc],
    bcc: (e) => [...e.bcc],
  },
  MessageSender: {
    __resolveType: (s) => s.__typename,
  },
};
