// What one HTTP query read from the entity cache, for the response cache: the
// counters its entries depend on with the generations seen when they were read,
// and the shortest TTL among them. Carried by AsyncLocalStorage because the
// reads happen deep beneath the resolvers (loaders, then cached-provider), in
// the request's async context; outside a tracked request nothing is recorded.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The reads of one operation, and whether its answer may be shared. */
export interface ReadRecord {
  /** Counter name to the generation it had when an entry depending on it was read. */
  readonly generations: Map<string, number>;
  /** The shortest TTL of the entries read, in ms (Infinity: none read). */
  ttlMs: number;
  /**
   * Why the answer must not be stored, or null: a counter seen at two generations
   * (a webhook landed mid-query), a cache read that failed, an operation that is not
   * a plain query of provider data, errors in the answer.
   */
  refusal: string | null;
}

const storage = new AsyncLocalStorage<ReadRecord>();

export function newReadRecord(): ReadRecord {
  return { generations: new Map(), ttlMs: Number.POSITIVE_INFINITY, refusal: null };
}

/** Runs `work` with its entity-cache reads recorded in `record`. */
export function trackReads<T>(record: ReadRecord, work: () => T): T {
  return storage.run(record, work);
}

/** The record of the operation running now, if it is tracked. */
export function currentReads(): ReadRecord | undefined {
  return storage.getStore();
}

/** Notes counters read at the given generations (same order); called by the entity cache. */
export function noteReads(counters: readonly string[], generations: ReadonlyMap<string, number>, ttlMs: number): void {
  const record = storage.getStore();
  if (!record) return;
  for (const counter of counters) {
    const generation = generations.get(counter) ?? 0;
    const seen = record.generations.get(counter);
    if (seen === undefined) record.generations.set(counter, generation);
    else if (seen !== generation) record.refusal ??= 'a counter changed while the operation ran';
  }
  if (ttlMs < record.ttlMs) record.ttlMs = ttlMs;
}

/** Marks the tracked operation's answer as not to be stored. */
export function refuseSharing(reason: string): void {
  const record = storage.getStore();
  if (record) record.refusal ??= reason;
}
