// One DataLoader set per request (per event for subscriptions), per provider.
// Entities that arrive embedded in list responses prime the loaders, so they
// are never fetched again in the same request.
import DataLoader from 'dataloader';
import type { ContactRecord, ConversationRecord, MessageRecord, ProviderName, UserRecord } from './model.js';
import type { BatchResult, Included, Provider } from './providers/provider.js';
import { ErrorCode } from './errors.js';
import { GraphQLError } from 'graphql';

export interface ProviderLoaders {
  readonly contact: DataLoader<string, ContactRecord | null>;
  readonly conversation: DataLoader<string, ConversationRecord | null>;
  readonly message: DataLoader<string, MessageRecord | null>;
  readonly user: DataLoader<string, UserRecord | null>;
}

export interface Loaders {
  /** Throws PROVIDER_NOT_CONFIGURED for a provider this gateway has no credentials for. */
  forProvider(name: ProviderName): ProviderLoaders;
  prime(name: ProviderName, included: Included): void;
  primeContact(contact: ContactRecord): void;
  primeConversation(conversation: ConversationRecord): void;
  primeMessage(message: MessageRecord): void;
  primeUser(user: UserRecord): void;
}

export function createLoaders(providers: ReadonlyMap<ProviderName, Provider>): Loaders {
  const sets = new Map<ProviderName, ProviderLoaders>();

  function forProvider(name: ProviderName): ProviderLoaders {
    let set = sets.get(name);
    if (!set) {
      const provider = providers.get(name);
      if (!provider) {
        throw new GraphQLError(`Provider ${name} is not configured on this gateway`, {
          extensions: { code: ErrorCode.ProviderNotConfigured, provider: name },
        });
      }
      const contact: DataLoader<string, ContactRecord | null> = new DataLoader(async (keys) => {
        const results = await checked(name, 'contacts', keys, provider.getContacts(keys));
        // A contact found by one alias (a Podium conversation uid) answers for all its others.
        for (const r of results) if (r && !(r instanceof Error)) for (const k of [r.id, ...(r.aliases ?? [])]) contact.prime(k, r);
        return results;
      });
      set = {
        contact,
        conversation: new DataLoader((keys) => checked(name, 'conversations', keys, provider.getConversations(keys))),
        message: new DataLoader((keys) => checked(name, 'messages', keys, provider.getMessages(keys))),
        user: new DataLoader((keys) => checked(name, 'users', keys, provider.getUsers(keys))),
      };
      sets.set(name, set);
    }
    return set;
  }

  function primeContact(contact: ContactRecord): void {
    const loader = forProvider(contact.provider).contact;
    for (const key of [contact.id, ...(contact.aliases ?? [])]) loader.prime(key, contact);
  }
  function primeConversation(conversation: ConversationRecord): void {
    forProvider(conversation.provider).conversation.prime(conversation.id, conversation);
  }
  function primeMessage(message: MessageRecord): void {
    if (message.id) forProvider(message.provider).message.prime(message.id, message);
  }
  function primeUser(user: UserRecord): void {
    forProvider(user.provider).user.prime(user.id, user);
  }

  return {
    forProvider,
    prime(_name, included) {
      included.contacts?.forEach(primeContact);
      included.conversations?.forEach(primeConversation);
      included.users?.forEach(primeUser);
    },
    primeContact,
    primeConversation,
    primeMessage,
    primeUser,
  };
}

/** Holds adapters to the DataLoader contract: one result per key, in order. */
async function checked<T>(
  provider: ProviderName,
  what: string,
  keys: readonly string[],
  pending: Promise<BatchResult<T>>,
): Promise<Array<T | null | Error>> {
  const results = await pending;
  if (results.length !== keys.length) {
    throw new Error(`${provider} returned ${results.length} ${what} for ${keys.length} ids`);
  }
  return [...results];
}
