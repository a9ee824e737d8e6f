// Matches stored provider webhooks to the sends that made their messages, by
// the provider's message id, in either order: a webhook about a message no
// send has claimed yet is kept as an observation, which the send applies once
// its answer names the message (dispatch.ts). Both sides write, then read the
// other's record, so one of them always sees both.
import type { StoredEvent } from '../events/types.js';
import type { MessageRecord, ProviderName } from '../model.js';
import type { MessageSender } from '../providers/sender.js';
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

interface Report {
  readonly messageId: string;
  readonly status: OutboundStatus;
  readonly reason: string | null;
}

/** What a stored event says about a business-side message: from its message event, or (status-only webhooks) from the provider's sender. */
async function reportOf(event: StoredEvent, senderFor: SenderLookup): Promise<Report | null> {
  const status = statusOf(event);
  if (status && event.message?.id) return { messageId: event.message.id, status, reason: event.message.failureReason };
  if (event.status !== 'UNPROCESSABLE') return null;
  const sender = await senderFor(event.provider, event.account ?? 'env').catch(() => null);
  const report = sender?.readStatus?.(event) ?? null;
  return report && { messageId: report.messageId, status: report.status, reason: null };
}

export type SenderLookup = (provider: ProviderName, account: string) => Promise<MessageSender | null>;

export function createObserver(store: OutboundStore, dispatcher: Dispatcher, senderFor: SenderLookup): (events: readonly StoredEvent[]) => Promise<void> {
  return async (events) => {
    for (const event of events) {
      const report = await reportOf(event, senderFor);
      if (!report) continue;
      const { messageId, status, reason } = report;
      const account = event.account ?? 'env';
      let record = await store.findByMessage(event.provider, account, messageId);
      if (!record) {
        await store.observe({ provider: event.provider, account, messageId, status, failureReason: reason, at: Date.now() });
        record = await store.findByMessage(event.provider, account, messageId);
      }
      if (record) await dispatcher.advance(record, status, reason);
    }
  };
}
