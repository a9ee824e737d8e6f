// Where the response cache keeps its answers: a byte-bounded LRU in this
// process, or Redis (every instance then serves what any instance stored). An
// entry is the answer's serialized bytes with the counters it was built from;
// whether it is still current is decided by the generations (response-cache.ts),
// so the store itself never needs to be told of invalidations.
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** One stored answer. */
export interface StoredResponse {
  /** Counters the answer depends on, and their generations when it was built (same order). */
  readonly counters: readonly string[];
  readonly generations: readonly number[];
  /** Response headers Apollo sent (content-type), to send again. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The answer as sent, in UTF-8: never serialized nor encoded again (a string would be encoded on every write). */
  readonly body: Buffer;
}

export interface ResponseStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<StoredResponse | undefined>;
  set(key: string, entry: StoredResponse, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface StoreObserver {
  /** An entry left to make room (not a stale or expired one). */
  evicted(): void;
  /** Bytes held in this process changed by `delta`. */
  bytes(delta: number): void;
}

export interface MemoryResponseStoreOptions {
  /** @default 67_108_864 (64 MiB) of answers */
  readonly maxBytes?: number;
  /** The clock of the TTLs (tests move it). @default performance */
  readonly clock?: { now(): number };
}

export function createMemoryResponseStore(observer: StoreObserver, options: MemoryResponseStoreOptions = {}): ResponseStore {
  const entries = new LRUCache<string, StoredResponse>({
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: sizeOf,
    ttlAutopurge: false,
    ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}),
    dispose: (entry, _key, reason) => {
      observer.bytes(-sizeOf(entry));
      if (reason === 'evict') observer.evicted();
    },
  });
  return {
    kind: 'memory',
    async get(key) {
      return entries.get(key);
    },
    async set(key, entry, ttlMs) {
      entries.set(key, entry, { ttl: ttlMs });
      // An answer larger than the whole store is refused by the LRU (it is not in it).
      if (entries.has(key)) observer.bytes(sizeOf(entry));
    },
    async delete(key) {
      entries.delete(key);
    },
    async close() {
      entries.clear();
    },
  };
}

/** Over the gateway's shared command connection; Redis's own maxmemory policy evicts. */
export function createRedisResponseStore(redis: Redis): ResponseStore {
  return {
    kind: 'redis',
    async get(key) {
      const raw = await redis.getBuffer(key);
      return raw === null ? undefined : parse(raw);
    },
    async set(key, entry, ttlMs) {
      await redis.set(key, serialize(entry), 'PX', Math.max(1, Math.round(ttlMs)));
    },
    async delete(key) {
      await redis.del(key);
    },
    async close() {
      // The connection is the gateway's: its owner closes it.
    },
  };
}

function sizeOf(entry: StoredResponse): number {
  return entry.body.length + entry.counters.reduce((n, c) => n + c.length + 8, 64);
}

/** The header line (counters, generations, headers as JSON), a newline, then the body untouched: no parse of the body on a hit. */
function serialize(entry: StoredResponse): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify([entry.counters, entry.generations, entry.headers])}\n`), entry.body]);
}

function parse(raw: Buffer): StoredResponse | undefined {
  const newline = raw.indexOf(0x0a);
  if (newline < 0) return undefined;
  try {
    const [counters, generations, headers] = JSON.parse(raw.subarray(0, newline).toString('utf8')) as [string[], number[], Array<[string, string]>];
    if (!Array.isArray(counters) || !Array.isArray(generations) || counters.length !== generations.length || !Array.isArray(headers)) return undefined;
    return { counters, generations, headers, body: raw.subarray(newline + 1) };
  } catch {
    return undefined;
  }
}
