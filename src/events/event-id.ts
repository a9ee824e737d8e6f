// Ids of stored events: time-ordered and string-sortable, so "newest first" is a
// descending sort on the id and `before` paging is a plain string comparison,
// in memory and in MongoDB alike (`_id` is the id).
//
// Layout, fixed width (28 lowercase hex characters):
//   12 hex  milliseconds since the epoch (good until the year 10889)
//    6 hex  per-process counter, so ids made in the same millisecond still sort
//           in creation order within this process
//   10 hex  random, so two processes never produce the same id
import { randomBytes } from 'node:crypto';

const COUNTER_LIMIT = 0x1000000;

let lastMs = 0;
let counter = 0;

/** A new event id; later calls in this process return larger ids. */
export function newEventId(): string {
  // The wall clock may step backwards (NTP); never let the id go back with it.
  const now = Math.max(Date.now(), lastMs);
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else {
    counter += 1;
    if (counter === COUNTER_LIMIT) {
      // 16.7 million ids in one millisecond: borrow the next millisecond.
      lastMs += 1;
      counter = 0;
    }
  }
  return (
    lastMs.toString(16).padStart(12, '0') +
    counter.toString(16).padStart(6, '0') +
    randomBytes(5).toString('hex')
  );
}

/** The time (ms) the next id will carry at least: the wall clock, never behind an id already made. */
export function idClock(): number {
  return Math.max(Date.now(), lastMs);
}
