// How long events are kept, and the sweep that enforces it. Neither FerretDB
// nor the embedded store has TTL indexes, so retention is a periodic range
// delete on the time-ordered `_id` (the primary index serves it); it runs on
// every instance, and concurrent deletes of the same range are harmless.
import { idFloor, idTime } from '../cursor.js';
import type { EventStore } from '../types.js';

/** 7 days: what a subscriber may be away and still resume without a gap. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Deletes what is past the store's retention; resolves with how many events went. */
export function enforceRetention(store: EventStore, now = Date.now()): Promise<number> {
  return store.deleteEventsBefore(idFloor(now - store.retentionMs));
}

/** Whether an event id is older than a retention window ending now. */
export function isExpired(eventId: string, retentionMs: number, now = Date.now()): boolean {
  return idTime(eventId) < now - retentionMs;
}
