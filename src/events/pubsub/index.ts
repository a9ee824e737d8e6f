// Picks the pubsub from configuration: Redis when a URL is configured (events
// cross gateway instances), otherwise in-process (one instance only).
import type { RedisPair } from '../../infra/clients.js';
import type { PubSub } from '../types.js';
import { createMemoryPubSub } from './memory.js';
import { createRedisPubSub } from './redis.js';

export { createMemoryPubSub, type PubSubOptions } from './memory.js';
export { createRedisPubSub, MESSAGE_EVENTS_CHANNEL, type RedisPubSubOptions } from './redis.js';

/** `redis`: the gateway's shared connections, when it has them (closed by their owner). */
export function createPubSub(config: { readonly redisUrl: string | null }, redis: RedisPair | null = null): PubSub {
  if (config.redisUrl === null) return createMemoryPubSub();
  return createRedisPubSub(redis ? { publisher: redis.command, subscriber: redis.subscriber } : config.redisUrl);
}
