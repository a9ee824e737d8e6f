// The gateway's shared clients: one MongoClient for every collection (events,
// accounts, keys, sends, the directory) and one Redis pair (commands; pubsub
// subscriptions) for the cache, the rate budgets, persisted queries, pubsub and
// locks. Made once by the composition root, closed by it after every part that
// uses them.
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { openMongoDatabase, openRedis, quitRedis, type MongoDatabase, type RedisPair } from './clients.js';

export interface SharedClients {
  /** The configured database; null on the embedded store. */
  readonly db: Db | null;
  /** Null without REDIS_URL. */
  readonly redis: RedisPair | null;
  /** The CLIENT SETNAME of this gateway's Redis connections (one name per gateway instance). */
  readonly redisName: string;
  /** Closes the Redis pair, then the MongoClient; rejects with the first failure after trying both. */
  close(): Promise<void>;
}

export function openSharedClients(config: { readonly mongodbUrl: string | null; readonly mongodbDb: string; readonly redisUrl: string | null }): SharedClients {
  const mongo: MongoDatabase | null = config.mongodbUrl === null ? null : openMongoDatabase(config.mongodbUrl, config.mongodbDb);
  const redisName = `messaging-gateway-${randomUUID().slice(0, 8)}`;
  const redis: RedisPair | null =
    config.redisUrl === null
      ? null
      : { command: openRedis(config.redisUrl, 'command', { connectionName: redisName }), subscriber: openRedis(config.redisUrl, 'subscriber', { connectionName: redisName }) };
  return {
    db: mongo?.db ?? null,
    redis,
    redisName,
    async close() {
      const results = await Promise.allSettled([redis ? quitRedis(redis.subscriber) : null, redis ? quitRedis(redis.command) : null]);
      results.push(...(await Promise.allSettled([mongo?.close()])));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
