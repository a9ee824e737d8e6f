// Read-through caching with generation checks and generation-aware
// coalescing: concurrent misses of the same key under the same generations
// share one load, so ten cold inbox queries cost about one, while a query that
// starts after an invalidation never joins a load that began before it.
import type { CacheBackend, StoredEntry } from './backend.js';
import { noteReads, refuseSharing } from './read-tracking.js';

export interface CacheObserver {
  hit(entity: string, count: number): void;
  miss(entity: string, count: number): void;
  coalesced(entity: string, count: number): void;
  /** The backend could not be read or written: the request goes upstream uncached. */
  failed(operation: 'read' | 'write', err: unknown): void;
}

/** One item to look up: its cache key and the counters whose bumps make it stale. */
export interface CacheItem {
  readonly key: string;
  readonly counters: readonly string[];
}

export interface EntityCache {
  /**
   * One answer per item, in order. Misses are loaded in one call (`load` gets
   * the missing items' indexes) and stored; nulls and Errors are returned but
   * not stored.
   */
  batch<T>(entity: string, items: readonly CacheItem[], load: (missing: readonly number[]) => Promise<ReadonlyArray<T | null | Error>>, ttlMs: number): Promise<Array<T | null | Error>>;
  /** Bumps counters: every entry depending on them is stale, on every instance sharing the backend. */
  invalidate(counters: readonly string[]): Promise<void>;
}

export function createEntityCache(backend: CacheBackend, observer: CacheObserver): EntityCache {
  /** Loads in flight, by key and the generations they were started under. */
  const inflight = new Map<string, Promise<unknown>>();

  async function snapshot(items: readonly CacheItem[]): Promise<{ entries: Array<StoredEntry | undefined>; gens: Map<string, number> } | null> {
    const counters = [...new Set(items.flatMap((i) => i.counters))];
    try {
      const read = await backend.read(
        items.map((i) => i.key),
        counters,
      );
      return { entries: read.entries, gens: new Map(counters.map((c, i) => [c, read.generations[i] ?? 0])) };
    } catch (err) {
      observer.failed('read', err);
      return null;
    }
  }

  return {
    async batch<T>(entity: string, items: readonly CacheItem[], load: (missing: readonly number[]) => Promise<ReadonlyArray<T | null | Error>>, ttlMs: number) {
      const answers = new Array<T | null | Error>(items.length);
      const snap = await snapshot(items);
      if (!snap) {
        // No generations to check or store against: serve from upstream, cache nothing.
        refuseSharing('the cache backend could not be read');
        const loaded = await load(items.map((_, i) => i));
        return items.map((_, i) => loaded[i] ?? null);
      }
      const generationsOf = (item: CacheItem): number[] => item.counters.map((c) => snap.gens.get(c) ?? 0);
      const flightKey = (item: CacheItem): string => `${item.key}@${generationsOf(item).join('.')}`;

      const waits: Array<Promise<void>> = [];
      const missing: number[] = [];
      let hits = 0;
      const now = Date.now();
      let lifeMs = ttlMs;
      items.forEach((item, i) => {
        const entry = snap.entries[i];
        if (entry && sameGenerations(entry.g, generationsOf(item))) {
          answers[i] = entry.v as T;
          hits++;
          if (entry.e !== undefined && entry.e - now < lifeMs) lifeMs = entry.e - now;
          return;
        }
        const shared = inflight.get(flightKey(item));
        if (shared) {
          waits.push(shared.then((v) => void (answers[i] = v as T | null | Error)));
          return;
        }
        missing.push(i);
      });
      // The response cache stores an answer with the generations its entries were read under, for no longer than they live.
      noteReads([...snap.gens.keys()], snap.gens, lifeMs);
      observer.hit(entity, hits);
      observer.coalesced(entity, waits.length);
      observer.miss(entity, missing.length);

      if (missing.length > 0) {
        const loading = load(missing);
        missing.forEach((itemIndex, j) => {
          const item = items[itemIndex] as CacheItem;
          const key = flightKey(item);
          const one = loading.then(
            (loaded) => loaded[j] ?? null,
            (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
          );
          inflight.set(key, one);
          void one.finally(() => inflight.delete(key));
        });
        let loaded: ReadonlyArray<T | null | Error>;
        try {
          loaded = await loading;
        } catch (err) {
          const failure = err instanceof Error ? err : new Error(String(err));
          for (const i of missing) answers[i] = failure;
          await Promise.all(waits);
          return answers;
        }
        const writes: Array<{ key: string; entry: StoredEntry; ttlMs: number }> = [];
        missing.forEach((itemIndex, j) => {
          const value = loaded[j] ?? null;
          answers[itemIndex] = value;
          const item = items[itemIndex] as CacheItem;
          if (value !== null && !(value instanceof Error)) writes.push({ key: item.key, entry: { g: generationsOf(item), v: value, e: now + ttlMs }, ttlMs });
        });
        await backend.write(writes).catch((err: unknown) => observer.failed('write', err));
      }
      await Promise.all(waits);
      return answers;
    },

    invalidate(counters) {
      return backend.bump([...new Set(counters)]);
    },
  };
}

function sameGenerations(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
