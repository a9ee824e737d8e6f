// One DataLoader set per request (per event for subscriptions), per provider
// and account (null: the provider's default account).
// Entities that arrive embedded in list responses prime the loaders, so they
// are never fetched again in the same request.
import DataLoader from 'dataloader';
import type { ContactRecord, ConversationRecord, MessageRecord, ProviderName, UserRecord } from './model.js';
import type { BatchResult, Included, Provider } from './providers/provider.js';

export interface ProviderLoaders {
  readonly contact: DataLoader<string, ContactRecord | null>;
  readonly conversation: DataLoader<string, ConversationRecord | null>;
  /** Conversations as a send addresses them (Provider.getRecipients). */
  readonly recipient: DataLoader<string, ConversationRecord | null>;
  readonly message: DataLoader<string, MessageRecord | null>;
  readonly user: DataLoader<string, UserRecord | null>;
}

export interface Loaders {
  /** Throws PROVIDER_NOT_CONFIGURED for a provider this gateway has no credentials for. `account` null or omitted: the default account. */
  forProvider(name: ProviderName, account?: string | null): ProviderLoaders;
  /** Entities a list carried along; each names its own provider and account. */
  prime(included: Included): void;
  primeContact(contact: ContactRecord): void;
  primeConversation(conversation: ConversationRecord): void;
  primeMessage(message: MessageRecord): void;
  primeUser(user: UserRecord): void;
}

/** The Provider of one account (null: the default one); throws PROVIDER_NOT_CONFIGURED for a provider not served. */
export type ProviderOf = (name: ProviderName, account: string | null) => Provider;

export function createLoaders(providerOf: ProviderOf): Loaders {
  const sets = new Map<string, ProviderLoaders>();

  function forProvider(name: ProviderName, account: string | null = null): ProviderLoaders {
    const key = account === null ? name : `${name}@${account}`;
    let set = sets.get(key);
    if (!set) {
      const provider = providerOf(name, account);
      const contact: DataLoader<string, ContactRecord | null> = new DataLoader(async (keys) => {
        const results = await checked(name, 'contacts', keys, provider.getContacts(keys));
        // A contact found by one alias (a Podium conversation uid) answers for all its others.
        for (const r of results) if (r && !(r instanceof Error)) for (const k of [r.id, ...(r.aliases ?? [])]) contact.prime(k, r);
        return results;
      });
      set = {
        contact,
        conversation: new DataLoader((keys) => checked(name, 'conversations', keys, provider.getConversations(keys))),
        recipient: new DataLoader((keys) => checked(name, 'conversations', keys, provider.getRecipients ? provider.getRecipients(keys) : provider.getConversations(keys))),
        message: new DataLoader((keys) => checked(name, 'messages', keys, provider.getMessages(keys))),
        user: new DataLoader((keys) => checked(name, 'users', keys, provider.getUsers(keys))),
      };
      sets.set(key, set);
    }
    return set;
  }

  function primeContact(contact: ContactRecord): void {
    const loader = forProvider(contact.provider, contact.account).contact;
    for (const key of [contact.id, ...(contact.aliases ?? [])]) loader.prime(key, contact);
  }
  function primeConversation(conversation: ConversationRecord): void {
    forProvider(conversation.provider, conversation.account).conversation.prime(conversation.id, conversation);
  }
  function primeMessage(message: MessageRecord): void {
    if (message.id) forProvider(message.provider, message.account).message.prime(message.id, message);
  }
  function primeUser(user: UserRecord): void {
    forProvider(user.provider, user.account).user.prime(user.id, user);
  }

  return {
    forProvider,
    prime(included) {
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
