// Publish claims of the embedded store: who holds the right to publish an
// event, and which events reached the pubsub. Reads the status of events
// from the embedded event log it is wired to.
import type { EventStatus, PublishClaims } from '../types.js';

export interface MemoryPublishClaims extends PublishClaims {
  /** Whether the event is recorded as published (the log's `published` field, read synchronously). */
  isPublished(id: string): boolean;
  /** The claim an insert with `claimForPublish` takes for its inserter. */
  claimInserted(id: string): void;
}

export interface MemoryClaimsOptions {
  /** The clock claims are timed by. */
  readonly now: () => number;
  /** The status of a stored event, null when there is none. */
  readonly statusOf: (id: string) => EventStatus | null;
}

export function createMemoryPublishClaims(options: MemoryClaimsOptions): MemoryPublishClaims {
  const { now, statusOf } = options;
  const claims = new Map<string, { at: number }>();
  const published = new Set<string>();

  return {
    async claimPublish(id, claim = {}) {
      if (statusOf(id) !== 'PROCESSED' || published.has(id)) return false;
      const held = claims.get(id);
      if (held && (claim.takeOverAfterMs === undefined || now() - held.at < claim.takeOverAfterMs)) return false;
      claims.set(id, { at: now() });
      return true;
    },
    async markPublished(ids) {
      // Only events still stored: a mark for a deleted event would outlive it.
      for (const id of ids) if (statusOf(id) !== null) published.add(id);
    },
    async publishedAmong(ids) {
      return new Set(ids.filter((id) => published.has(id)));
    },
    async forgetBefore(before) {
      for (const id of claims.keys()) if (id < before) claims.delete(id);
      for (const id of published) if (id < before) published.delete(id);
    },
    isPublished: (id) => published.has(id),
    claimInserted(id) {
      claims.set(id, { at: now() });
    },
  };
}
