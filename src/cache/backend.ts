// Where cached entries live: this process (a bounded LRU) or Redis, shared by
// every instance. Every entry is stored with the generations of the counters it
// depends on, read before it was loaded; an entry whose generations are no
// longer current is a miss. Invalidation bumps counters, so a load that raced a
// webhook can never store data that looks newer than the webhook.
import { LRUCache } from 'lru-cache';

export interface StoredEntry {
  /** Generations of the entry's counters when its load began. */
  readonly g: readonly number[];
  readonly v: unknown;
  /** When it expires (epoch ms): what was built from it (the response cache) lives no longer. Absent in entries of older versions. */
  readonly e?: number;
}

export interface CacheBackend {
  readonly kind: 'memory' | 'redis';
  /** Entries (undefined = absent) and the current value of each counter, in one round trip. */
  read(keys: readonly string[], counters: readonly string[]): Promise<{ entries: Array<StoredEntry | undefined>; generations: number[] }>;
  write(entries: ReadonlyArray<{ readonly key: string; readonly entry: StoredEntry; readonly ttlMs: number }>): Promise<void>;
  /** Increments counters; resolves once every instance reading this backend sees the new values. */
  bump(counters: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface MemoryBackendOptions {
  /** @default 50_000 entries */
  readonly maxEntries?: number;
  /** Counters kept before the least recently used is evicted. @default 200_000 */
  readonly maxCounters?: number;
  /** The clock TTLs are measured on (tests move it). @default performance */
  readonly clock?: { now(): number };
}

export function createMemoryBackend(options: MemoryBackendOptions = {}): CacheBackend {
  const entries = new LRUCache<string, StoredEntry>({ max: options.maxEntries ?? 50_000, ttlAutopurge: false, ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}) });
  // A counter that is evicted and read again must not come back lower than before, or entries
  // stored under its old value would look current: absent counters read as the highest value
  // ever evicted.
  let floor = 0;
  const counters = new LRUCache<string, number>({
    max: options.maxCounters ?? 200_000,
    dispose: (value, _key, reason) => {
      // Overwrites (bumps) dispose the old value too; only evictions lose a counter.
      if (reason === 'evict') floor = Math.max(floor, value);
    },
  });
  const current = (name: string): number => counters.get(name) ?? floor;
  return {
    kind: 'memory',
    async read(keys, names) {
      return { entries: keys.map((k) => entries.get(k)), generations: names.map(current) };
    },
    async write(list) {
      for (const { key, entry, ttlMs } of list) entries.set(key, entry, { ttl: ttlMs });
    },
    async bump(names) {
      for (const name of names) counters.set(name, current(name) + 1);
    },
    async close() {
      entries.clear();
      counters.clear();
    },
  };
}
