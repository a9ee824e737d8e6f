// A provider whose webhooks are received but whose API has no credentials on
// this gateway (a real deployment: receiving needs only the webhook secret).
// Every API-backed field answers PROVIDER_NOT_CONFIGURED naming what to set.
import { ProviderError } from '../errors.js';
import type { ProviderName } from '../model.js';
import type { Provider, WebhookReceiver } from './provider.js';

export function receiveOnly(name: ProviderName, receiver: WebhookReceiver, eventTypes: readonly string[], credentials: string): Provider {
  const fail = (): Promise<never> =>
    Promise.reject(new ProviderError(name, 'NOT_CONFIGURED', `${name} has no API credentials on this gateway (set ${credentials}); only its webhooks are received`));
  return {
    name,
    listContacts: fail,
    getContacts: fail,
    listConversations: fail,
    getConversations: fail,
    listMessages: fail,
    getMessages: fail,
    listUsers: fail,
    getUsers: fail,
    listLocations: fail,
    webhooks: { eventTypes, validateCreate: () => [], validateUpdate: () => [], list: fail, get: fail, create: fail, update: fail, delete: fail },
    receiver,
  };
}
