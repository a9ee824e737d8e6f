// The Redis cache backend: entries as JSON strings with a PX expiry, counters as
// INCR keys that outlive every entry (so an expired counter reading 0 again can
// only meet entries that expired before it). The only cache module that imports
// the Redis client.
import type { Redis } from 'ioredis';
import { openRedis } from '../infra/clients.js';
import type { CacheBackend, StoredEntry } from './backend.js';

/** Longer than the longest entry TTL config allows (1 hour). */
const COUNTER_TTL_MS = 86_400_000; // 24 hours

export interface RedisBackendOptions {
  /** @default 2_000 (ms) */
  readonly connectTimeoutMs?: number;
}

/** Over a connection of its own at a URL (closed by close()), or the gateway's shared one (closed by its owner). */
export function createRedisBackend(target: string | Redis, options: RedisBackendOptions = {}): CacheBackend {
  // Fail fast: a cache that cannot be read is a miss, one that cannot be invalidated fails the webhook.
  const owned = typeof target === 'string';
  const redis = owned ? openRedis(target, 'command', { connectTimeoutMs: options.connectTimeoutMs }) : target;
  return {
    kind: 'redis',
    async read(keys, counters) {
      if (keys.length === 0 && counters.length === 0) return { entries: [], generations: [] };
      const values = await redis.mget(...keys, ...counters);
      const entries = values.slice(0, keys.length).map((raw) => (raw === null ? undefined : parse(raw)));
      const generations = values.slice(keys.length).map((raw) => (raw === null ? 0 : Number(raw)));
      return { entries, generations };
    },
    async write(list) {
      if (list.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { key, entry, ttlMs } of list) pipeline.set(key, JSON.stringify(entry), 'PX', Math.max(1, Math.round(ttlMs)));
      await pipeline.exec();
    },
    async bump(counters) {
      if (counters.length === 0) return;
      const pipeline = redis.pipeline();
      for (const name of counters) pipeline.incr(name).pexpire(name, COUNTER_TTL_MS);
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    },
    async close() {
      if (owned) redis.disconnect();
    },
  };
}

function parse(raw: string): StoredEntry | undefined {
  try {
    const value = JSON.parse(raw) as StoredEntry;
    return Array.isArray(value.g) ? value : undefined;
  } catch {
    return undefined;
  }
}
