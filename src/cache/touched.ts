// What a stored webhook event changed, for the cache: a message event touches
// its conversation (its messages, its place in lists); contact events touch
// contacts. Event types are the providers' own (providers.md §2-3).
import type { MessageRecord, ProviderName } from '../model.js';
import type { Touched } from './cached-provider.js';

/** Provider event types that change a contact (Podium contact.*, HighLevel Contact*, Smooch user:* and client:*). */
const CONTACT_EVENT = /^(contact\.|Contact[A-Z]|user:|client:)/;
/** Event types that change a conversation without carrying a message (Smooch conversation:* other than messages). */
const CONVERSATION_EVENT = /^conversation:(create|join|leave|remove|read|referral)/;

export interface EventLike {
  readonly providerEventType: string | null;
  readonly message: MessageRecord | null;
}

export function touchedBy(_provider: ProviderName, events: readonly EventLike[]): Touched {
  const conversationIds = new Set<string>();
  let contacts = false;
  let conversations = false;
  for (const event of events) {
    if (event.message?.conversationId) conversationIds.add(event.message.conversationId);
    const type = event.providerEventType ?? '';
    if (CONTACT_EVENT.test(type)) contacts = true;
    // A message event the gateway could not normalize names no conversation it can trust: every list may have changed.
    if (CONVERSATION_EVENT.test(type) || (!event.message && /message/i.test(type))) conversations = true;
  }
  return { conversationIds: [...conversationIds], contacts, conversations };
}
