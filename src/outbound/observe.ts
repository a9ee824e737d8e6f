// Matches stored provider webhooks to the sends that made their messages, by
// the provider's message id, in either order: a webhook about a message no
// send has claimed yet is kept as an observation, which the send applies once
// its answer names the message (dispatch.ts). Both sides write, then read the
// other's record, so one of them always sees both.
import type { StoredEvent } from '../events/types.js';
import type { MessageRecord } from '../model.js';
import type { Dispatcher } from './dispatch.js';
import type { OutboundStatus, OutboundStore } from './types.js';

/** The outbound status a business-side message event reports; null for anything else. */
export function statusOf(event: { readonly kind: string | null; readonly message: MessageRecord | null }): OutboundStatus | null {
  const m = event.message;
  if (!m || !m.id || m.direction !== 'OUTBOUND') return null;
  if (event.kind === 'FAILED' || m.status === 'FAILED') return 'FAILED';
  if (event.kind !== 'SENT') return null;
  if (m.status === 'DELIVERED') return 'DELIVERED';
  if (m.status === 'READ') return 'READ';
  return 'SENT';
}

export function createObserver(store: OutboundStore, dispatcher: Dispatcher): (events: readonly StoredEvent[]) => Promise<void> {
  return async (events) => {
    for (const event of events) {
      const status = statusOf(event);
      const message = event.message;
      if (!status || !message?.id) continue;
      const account = event.account ?? 'env';
      const reason = message.failureReason;
      let record = await store.findByMessage(event.provider, account, message.id);
      if (!record) {
        await store.observe({ provider: event.provider, account, messageId: message.id, status, failureReason: reason, at: Date.now() });
        record = await store.findByMessage(event.provider, account, message.id);
      }
      if (record) await dispatcher.advance(record, status, reason);
    }
  };
}
