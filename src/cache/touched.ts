// What a stored webhook event changed, for the cache: a message event touches
// its conversation (its messages, its place in lists); contact events touch
// contacts. Event types are the providers' own: each descriptor's `touches`
// says which of its types change a contact or a conversation.
import type { MessageRecord, ProviderName } from '../model.js';
import { descriptorOf } from '../providers/index.js';
import type { Touched } from './cached-provider.js';

export interface EventLike {
  readonly providerEventType: string | null;
  readonly message: MessageRecord | null;
}

export function touchedBy(provider: ProviderName, events: readonly EventLike[]): Touched {
  const rules = descriptorOf(provider).touches;
  const conversationIds = new Set<string>();
  let contacts = false;
  let conversations = false;
  for (const event of events) {
    if (event.message?.conversationId) conversationIds.add(event.message.conversationId);
    const type = event.providerEventType ?? '';
    if (rules.contactEvent.test(type)) contacts = true;
    // A message event the gateway could not normalize names no conversation it can trust: every list may have changed.
    if (rules.conversationEvent?.test(type) || (!event.message && /message/i.test(type))) conversations = true;
  }
  return { conversationIds: [...conversationIds], contacts, conversations };
}
