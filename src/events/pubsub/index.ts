// Picks the pubsub from configuration: Redis when a URL is configured (events
// cross gateway instances), otherwise in-process (one instance only).
import type { PubSub } from '../types.js';
import { createMemoryPubSub } from './memory.js';
import { createRedisPubSub } from './redis.js';

export { createMemoryPubSub, type PubSubOptions } from './memory.js';
export { createRedisPubSub, MESSAGE_EVENTS_CHANNEL, type RedisPubSubOptions } from './redis.js';

export function createPubSub(config: { readonly redisUrl: string | null }): PubSub {
  return config.redisUrl === null ? createMemoryPubSub() : createRedisPubSub(config.redisUrl);
}
