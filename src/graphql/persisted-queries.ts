// Automatic persisted queries (Apollo's APQ protocol, always on): a client sends
// the SHA-256 of a document first and the document only when the gateway does
// not know it yet. Registered documents live in Redis when REDIS_URL is set,
// so every instance knows what one instance was told; otherwise in Apollo's
// bounded in-process LRU. With trusted documents on, the manifest answers first
// (trusted-documents.ts, in the operation pipeline): unlisted documents never
// get registered.
import type { PersistedQueryOptions } from '@apollo/server';
import type { Redis } from 'ioredis';
import { openRedis } from '../infra/clients.js';
import type { Logger } from 'pino';

type ApqCache = NonNullable<PersistedQueryOptions['cache']>;

/** How long a registered document is kept after its last registration. */
const APQ_TTL_SECONDS = 86_400; // 1 day: clients re-register by themselves after a miss

export interface PersistedQueries {
  /** Apollo's `persistedQueries` option. */
  readonly options: PersistedQueryOptions;
  close(): Promise<void>;
}

/** `redis`: a URL (a connection of its own, closed by close()), the gateway's shared connection (closed by its owner), or none. */
export function createPersistedQueries(options: { readonly redis: string | Redis | null; readonly prefix: string; readonly logger: Logger }): PersistedQueries {
  if (!options.redis) {
    // Apollo's default cache: an LRU bounded by size (about 30 MiB).
    return { options: { ttl: APQ_TTL_SECONDS }, close: async () => {} };
  }
  const owned = typeof options.redis === 'string';
  const redis = typeof options.redis === 'string' ? openRedis(options.redis, 'command') : options.redis;
  const key = (k: string): string => `${options.prefix}:${k}`;
  const cache: ApqCache = {
    async get(k) {
      try {
        return (await redis.get(key(k))) ?? undefined;
      } catch (err) {
        // A miss: the client sends the document again, and the request still runs.
        options.logger.warn({ err }, 'persisted query cache unreachable; treating as a miss');
        return undefined;
      }
    },
    async set(k, value, setOptions) {
      const ttl = setOptions?.ttl;
      if (ttl) await redis.set(key(k), value, 'EX', Math.max(1, Math.round(ttl)));
      else await redis.set(key(k), value);
    },
    async delete(k) {
      return (await redis.del(key(k))) > 0;
    },
  };
  return {
    options: { cache, ttl: APQ_TTL_SECONDS },
    async close() {
      if (owned) redis.disconnect();
    },
  };
}
