// The outbound lifecycle: QUEUED -> SENDING -> SENT -> DELIVERED -> READ, or
// FAILED / UNCERTAIN. Changes only ever go forward, whatever order the
// provider's webhooks and the send's own answer arrive in.
import type { OutboundStatus } from './types.js';

const ORDER: Readonly<Record<OutboundStatus, number>> = { QUEUED: 0, SENDING: 1, UNCERTAIN: 2, SENT: 3, DELIVERED: 4, READ: 5, FAILED: 6 };

/** Whether a record in `from` may move to `to`. */
export function canMove(from: OutboundStatus, to: OutboundStatus): boolean {
  if (from === to || from === 'FAILED' || from === 'READ') return false;
  // A failure report after delivery is a provider's late noise; before it, it is the outcome.
  if (to === 'FAILED') return from !== 'DELIVERED';
  if (to === 'QUEUED') return from === 'SENDING';
  return ORDER[to] > ORDER[from];
}

/** Every status `to` may be reached from. */
export function movableFrom(to: OutboundStatus): OutboundStatus[] {
  return (Object.keys(ORDER) as OutboundStatus[]).filter((from) => canMove(from, to));
}

/** Sends still in the gateway's hands. */
export const PENDING: readonly OutboundStatus[] = ['QUEUED', 'SENDING'];
