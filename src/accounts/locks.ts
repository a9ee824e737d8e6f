// The lock a token refresh takes so that, across every instance, one caller
// spends a refresh token and the others wait for what it persisted: Redis
// `SET NX PX` when the gateway has Redis, else a lock document in the accounts
// store. Either way the lock expires, so a holder that died frees it.
import type { Redis } from 'ioredis';
import { openRedis } from '../infra/clients.js';
import type { AccountStore } from './store/types.js';

export interface RefreshLocks {
  /** True when `key` was taken for `ttlMs`; false while someone else holds it. */
  tryLock(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Releases `key` if `owner` still holds it. */
  unlock(key: string, owner: string): Promise<void>;
  close(): Promise<void>;
}

export function storeLocks(store: AccountStore): RefreshLocks {
  return { tryLock: (k, o, t) => store.tryLock(k, o, t), unlock: (k, o) => store.unlock(k, o), close: async () => undefined };
}

// Deletes the key only while it still names this owner, in one step.
const UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Over a connection of its own at a URL (closed by close()), or the gateway's shared one (closed by its owner). */
export function redisLocks(target: string | Redis, prefix: string): RefreshLocks {
  const owned = typeof target === 'string';
  const redis = owned ? openRedis(target, 'command') : target;
  const name = (key: string): string => `${prefix}:account-lock:${key}`;
  return {
    async tryLock(key, owner, ttlMs) {
      return (await redis.set(name(key), owner, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async unlock(key, owner) {
      await redis.eval(UNLOCK, 1, name(key), owner);
    },
    async close() {
      if (owned) redis.disconnect();
    },
  };
}

/** Locks of this process only: for an adapter built without a gateway (tests, tools). */
export function memoryLocks(): RefreshLocks {
  const held = new Map<string, { owner: string; until: number }>();
  return {
    async tryLock(key, owner, ttlMs) {
      const current = held.get(key);
      if (current && current.until > Date.now()) return false;
      held.set(key, { owner, until: Date.now() + ttlMs });
      return true;
    },
    async unlock(key, owner) {
      if (held.get(key)?.owner === owner) held.delete(key);
    },
    async close() {},
  };
}
