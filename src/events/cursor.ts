// Subscription cursors and the time inside event ids. A cursor is an event id,
// wrapped so clients treat it as opaque; it is the same encoding as the
// `messageEvents` edge cursors, so either can resume a subscription. Because
// ids start with their creation time, "older than the retention" is decided
// from the cursor alone, and time bounds on ids are plain string comparisons.
const ID_PATTERN = /^[0-9a-f]{28}$/;

export function encodeEventCursor(eventId: string): string {
  return Buffer.from(`e:${eventId}`).toString('base64url');
}

/** The event id in a cursor, or null when it is not one of ours. */
export function decodeEventCursor(cursor: string): string | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('e:')) return null;
  const id = text.slice(2);
  return ID_PATTERN.test(id) ? id : null;
}

/** When the event id was made (ms since the epoch). */
export function idTime(eventId: string): number {
  return Number.parseInt(eventId.slice(0, 12), 16);
}

/** The smallest possible id made at `ms`: every id made at or after `ms` is >= it. */
export function idFloor(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0') + '0'.repeat(16);
}
