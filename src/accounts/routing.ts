// The Provider the rest of the gateway sees for a provider with accounts:
// webhooks are received per provider (receiver), every API call goes to the
// provider's default account, resolved per call (accounts come and go at run
// time). The next slice passes the account id from global ids instead.
import { userInputError } from '../errors.js';
import type { ProviderName, WebhookCreateInput, WebhookUpdateInput } from '../model.js';
import type { Provider, WebhookReceiver } from '../providers/provider.js';
import type { AccountApi } from './registry.js';

function checked(problems: readonly string[]): void {
  if (problems.length > 0) throw userInputError(`Invalid webhook input: ${problems.join('; ')}`, { problems });
}

export function accountRoutedProvider(name: ProviderName, receiver: WebhookReceiver, eventTypes: readonly string[], api: () => Promise<AccountApi>): Provider {
  return {
    name,
    listContacts: async (page, filter) => (await api()).listContacts(page, filter),
    getContacts: async (refs) => (await api()).getContacts(refs),
    listConversations: async (page, filter) => (await api()).listConversations(page, filter),
    getConversations: async (ids) => (await api()).getConversations(ids),
    listMessages: async (conversationId, page) => (await api()).listMessages(conversationId, page),
    getMessages: async (ids) => (await api()).getMessages(ids),
    listUsers: async (page) => (await api()).listUsers(page),
    getUsers: async (ids) => (await api()).getUsers(ids),
    webhooks: {
      eventTypes,
      // The account's own rules apply in create/update, once it is known which account answers.
      validateCreate: () => [],
      validateUpdate: () => [],
      list: async () => (await api()).webhooks.list(),
      get: async (id) => (await api()).webhooks.get(id),
      async create(input: WebhookCreateInput) {
        const admin = (await api()).webhooks;
        checked(admin.validateCreate(input));
        return admin.create(input);
      },
      async update(id: string, input: WebhookUpdateInput) {
        const admin = (await api()).webhooks;
        checked(admin.validateUpdate(input));
        return admin.update(id, input);
      },
      delete: async (id) => (await api()).webhooks.delete(id),
    },
    receiver,
  };
}
