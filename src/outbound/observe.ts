// Matches stored provider webhooks to the sends that made their messages, by
// the provider's message id, in either order: a webhook about a message no
// send has claimed yet is kept as an observation, which the send applies once
// its answer names the message (dispatch.ts). Both sides write, then read the
// other's record, so one of them always sees both.
// One send, one messageSent: a provider may report a message SENT several
// times (HighLevel's OutboundMessage webhook for "sent", then "delivered"). The
// first such event is the send's announcement, recorded for the send with a
// unique insert so racing instances agree; the later ones are answered
// unannounced (stored, never published). An event that came before the send's
// answer was published already (no send was known): it is the announcement.
import type { StoredEvent } from '../events/types.js';
import type { MessageRecord, ProviderName } from '../model.js';
import type { MessageSender } from '../providers/sender.js';
import type { Dispatcher } from './dispatch.js';
import type { Observation, OutboundRecord, OutboundStatus, OutboundStore } from './types.js';

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

/** Whether the event is published as a messageSent (a status-only or FAILED-kind event never is). */
const announces = (event: StoredEvent): boolean => event.status === 'PROCESSED' && event.kind === 'SENT';

/** The earliest messageSent published before the send was known (observations), or none. */
export function earliestAnnounced(observations: readonly Observation[]): string | null {
  const announced = observations.filter((o) => o.eventId).sort((a, b) => a.at - b.at || (a.eventId as string).localeCompare(b.eventId as string));
  return announced[0]?.eventId ?? null;
}

/**
 * Whether `event` is its send's one messageSent. An earlier one published
 * before the send was known wins over it: its observation was written before
 * the send's answer named the message, so it is read here.
 */
async function isAnnouncement(store: OutboundStore, record: OutboundRecord, event: StoredEvent, messageId: string): Promise<boolean> {
  const earlier = earliestAnnounced(await store.observations(record.provider, record.account, messageId));
  return (await store.announce(record, earlier ?? event.id)) === event.id;
}

/** Moves sends forward by the events; resolves with the ids of those that repeat a send's messageSent (not to be published). */
export function createObserver(store: OutboundStore, dispatcher: Dispatcher, senderFor: SenderLookup): (events: readonly StoredEvent[]) => Promise<readonly string[]> {
  return async (events) => {
    const unannounced: string[] = [];
    for (const event of events) {
      const report = await reportOf(event, senderFor);
      if (!report) continue;
      const { messageId, status, reason } = report;
      const account = event.account ?? 'env';
      let record = await store.findByMessage(event.provider, account, messageId);
      if (!record) {
        const eventId = announces(event) ? { eventId: event.id } : {};
        await store.observe({ provider: event.provider, account, messageId, status, failureReason: reason, at: Date.now(), ...eventId });
        record = await store.findByMessage(event.provider, account, messageId);
      }
      if (!record) continue;
      if (announces(event) && !(await isAnnouncement(store, record, event, messageId))) unannounced.push(event.id);
      await dispatcher.advance(record, status, reason);
    }
    return unannounced;
  };
}
