// The Redis pubsub: carries events between gateway instances over one channel.
// The only module that imports the Redis client. One connection publishes, one
// subscribes (a subscribed Redis connection can run nothing else).
//
// A published event reaches this instance's own listeners through Redis like
// everyone else's, never directly, so each listener sees it exactly once.
// Connections made here are opened on first use, so start-up does not wait for
// Redis; shared ones (RedisConnections) are the caller's to open and close.
import type { Redis } from 'ioredis';
import { openRedis, quitRedis } from '../../infra/clients.js';
import type { PubSub, PublishedEvent } from '../types.js';
import { createListenerSet, reportToProcess, type PubSubOptions } from './memory.js';

export const MESSAGE_EVENTS_CHANNEL = 'gateway:message-events';

export interface RedisPubSubOptions extends PubSubOptions {
  /**
   * How long one connection attempt may take; `publish` and `ping` reject after
   * three failed attempts.
   * @default 2_000 (2 seconds)
   */
  readonly connectTimeoutMs?: number;
}

/** A command connection and a subscriber connection owned by someone else (closed by its owner, not by the pubsub). */
export interface RedisConnections {
  readonly publisher: Redis;
  readonly subscriber: Redis;
}

/** The two connections of a pubsub of its own, opened on first use. */
function openConnections(url: string, connectTimeoutMs: number): RedisConnections {
  // Failing fast lets the ingest release its claim and the provider redeliver; the
  // SUBSCRIBE waits however long Redis is away (infra/clients.ts).
  return { publisher: openRedis(url, 'command', { connectTimeoutMs }), subscriber: openRedis(url, 'subscriber', { connectTimeoutMs }) };
}

/**
 * Watches the subscriber connection for a lost subscription: messages published
 * while it was down are gone for good (Redis pubsub keeps nothing), so once it
 * is in effect again the `resubscribed` listeners catch up from the store.
 */
function watchSubscription(subscriber: Redis, onError: (error: unknown) => void) {
  let subscribed = false;
  /** When the established subscription was lost; null while it is in effect (or was never made). */
  let lostAt: number | null = null;
  const resubscribed = new Set<(lostAt: number) => void>();

  subscriber.on('close', () => {
    if (subscribed) lostAt ??= Date.now();
  });
  subscriber.on('ready', () => {
    const since = lostAt;
    if (since === null) return;
    // The client re-subscribes by itself on 'ready'; our SUBSCRIBE queues behind
    // it, so once it answers, the subscription is in effect again.
    subscriber.subscribe(MESSAGE_EVENTS_CHANNEL).then(
      () => {
        if (lostAt !== since) return;
        lostAt = null;
        for (const listener of [...resubscribed]) {
          try {
            listener(since);
          } catch (error) {
            onError(error);
          }
        }
      },
      () => undefined, // lost again: the next 'ready' tries again
    );
  });

  return {
    isSubscribed: () => subscribed,
    markSubscribed() {
      subscribed = true;
    },
    onResubscribed(listener: (lostAt: number) => void): () => void {
      const entry = (at: number): void => listener(at);
      resubscribed.add(entry);
      return () => {
        resubscribed.delete(entry);
      };
    },
  };
}

/**
 * A pubsub over Redis at `url` (two connections of its own, closed by close()),
 * or over connections the caller shares and closes.
 */
export function createRedisPubSub(target: string | RedisConnections, options: RedisPubSubOptions = {}): PubSub {
  const onError = options.onError ?? reportToProcess;
  const owned = typeof target === 'string';
  const { publisher, subscriber } = owned ? openConnections(target, options.connectTimeoutMs ?? 2_000) : target;
  const listeners = createListenerSet(onError);
  const watch = watchSubscription(subscriber, onError);
  let subscription: Promise<void> | null = null;

  subscriber.on('message', (channel: string, payload: string) => {
    if (channel !== MESSAGE_EVENTS_CHANNEL) return;
    let event: PublishedEvent;
    try {
      event = decode(payload);
    } catch (error) {
      onError(error);
      return;
    }
    listeners.deliver(event);
  });

  const subscribeChannel = (): Promise<void> => {
    subscription ??= subscriber.subscribe(MESSAGE_EVENTS_CHANNEL).then(
      () => watch.markSubscribed(),
      (error: unknown) => {
        // Refused (e.g. an ACL) or closed: the next subscribe/publish/ping asks again.
        subscription = null;
        throw error;
      },
    );
    return subscription;
  };

  // Our own listeners must hear what we publish, so the SUBSCRIBE has to be in
  // effect before the PUBLISH. The PING bounds the wait: it rejects when Redis
  // is unreachable, where the queued SUBSCRIBE alone would wait forever.
  const untilSubscribed = async (): Promise<void> => {
    if (watch.isSubscribed() || listeners.size === 0) return;
    await Promise.all([subscribeChannel(), publisher.ping()]);
  };

  return {
    async publish(event: PublishedEvent): Promise<void> {
      await untilSubscribed();
      await publisher.publish(MESSAGE_EVENTS_CHANNEL, JSON.stringify(event));
    },
    subscribe(listener: (event: PublishedEvent) => void): () => void {
      const unsubscribe = listeners.add(listener);
      // Failures show on publish/ping; this only starts the subscription.
      subscribeChannel().catch(() => {});
      return unsubscribe;
    },
    onResubscribed: watch.onResubscribed,
    listenerCount: () => listeners.size,
    async ping(): Promise<void> {
      await publisher.ping();
      await untilSubscribed();
    },
    async close(): Promise<void> {
      if (owned) await Promise.all([quitRedis(publisher), quitRedis(subscriber)]);
    },
  };
}

function decode(payload: string): PublishedEvent {
  const value: unknown = JSON.parse(payload);
  if (typeof value !== 'object' || value === null || typeof (value as { eventId?: unknown }).eventId !== 'string') {
    throw new Error(`Expected a published event (an object with a string eventId) on ${MESSAGE_EVENTS_CHANNEL}, received: ${payload.slice(0, 200)}`);
  }
  return value as PublishedEvent;
}
