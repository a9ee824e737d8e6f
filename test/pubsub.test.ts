// One conformance suite for every PubSub: in-process and Redis (a real
// redis-server from the global setup, or REDIS_URL). "Exactly once" is checked
// without sleeping: events on one channel arrive in publish order, so once a
// later sentinel event has arrived, any duplicate of an earlier one would have too.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { createMemoryPubSub, type PubSubOptions } from '../src/events/pubsub/memory.js';
import { createPubSub } from '../src/events/pubsub/index.js';
import { createRedisPubSub, MESSAGE_EVENTS_CHANNEL } from '../src/events/pubsub/redis.js';
import type { PubSub, PublishedEvent } from '../src/events/types.js';

function publishedEvent(overrides: Partial<PublishedEvent> = {}): PublishedEvent {
  return {
    eventId: randomUUID(),
    provider: 'SMOOCH',
    kind: 'RECEIVED',
    providerEventType: 'conversation:message',
    receivedAt: '2025-03-04T05:06:08.123Z',
    message: {
      provider: 'SMOOCH',
      id: 'conv-1/msg-1',
      conversationId: 'conv-1',
      contactRef: 'user-1',
      locationId: null,
      direction: 'INBOUND',
      status: 'RECEIVED',
      channel: 'WHATSAPP',
      body: 'Hi there 👋',
      attachments: [],
      email: null,
      sender: { kind: 'CONTACT', contactRef: 'user-1', name: 'Ana' },
      failureReason: null,
      callDurationSeconds: null,
      createdAt: '2025-03-04T05:06:07.000Z',
    },
    ...overrides,
  };
}

/** Records what one listener receives and resolves waits on specific events. */
function record(pubsub: PubSub): { events: PublishedEvent[]; received(eventId: string): Promise<void>; unsubscribe: () => void } {
  const events: PublishedEvent[] = [];
  const waiters = new Map<string, () => void>();
  const unsubscribe = pubsub.subscribe((event) => {
    events.push(event);
    waiters.get(event.eventId)?.();
  });
  return {
    events,
    unsubscribe,
    received(eventId) {
      if (events.some((event) => event.eventId === eventId)) return Promise.resolve();
      return new Promise((resolve) => waiters.set(eventId, resolve));
    },
  };
}

type Open = (options?: PubSubOptions) => PubSub;

const openMemory: Open = (options) => {
  const pubsub = createMemoryPubSub(options);
  onTestFinished(() => pubsub.close());
  return pubsub;
};

const openRedis: Open = (options) => {
  const pubsub = createRedisPubSub(inject('redisUrl'), options);
  onTestFinished(() => pubsub.close());
  return pubsub;
};

/** A localhost port with nothing listening on it. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('Expected a TCP address');
  return address.port;
}

describe.each([
  { name: 'in-process', open: openMemory },
  { name: 'Redis', open: openRedis },
])('$name pubsub', ({ open }) => {
  it('delivers a published event once to every subscriber', async () => {
    const pubsub = open();
    const first = record(pubsub);
    const second = record(pubsub);
    const event = publishedEvent();
    const sentinel = publishedEvent();

    await pubsub.publish(event);
    await pubsub.publish(sentinel);
    await Promise.all([first.received(sentinel.eventId), second.received(sentinel.eventId)]);

    expect(first.events).toEqual([event, sentinel]);
    expect(second.events).toEqual([event, sentinel]);
  });

  it('stops delivering to a listener after it unsubscribes', async () => {
    const pubsub = open();
    expect(pubsub.listenerCount()).toBe(0);
    const leaving = record(pubsub);
    const staying = record(pubsub);
    expect(pubsub.listenerCount()).toBe(2);

    leaving.unsubscribe();
    leaving.unsubscribe();
    expect(pubsub.listenerCount()).toBe(1);
    const event = publishedEvent();
    await pubsub.publish(event);
    await staying.received(event.eventId);

    expect(leaving.events).toEqual([]);
    staying.unsubscribe();
    expect(pubsub.listenerCount()).toBe(0);
  });

  it('keeps two subscriptions of the same function apart', async () => {
    const pubsub = open();
    const calls: string[] = [];
    const listener = (event: PublishedEvent): void => {
      calls.push(event.eventId);
    };
    const unsubscribeFirst = pubsub.subscribe(listener);
    const witness = record(pubsub);
    pubsub.subscribe(listener);

    unsubscribeFirst();
    const event = publishedEvent();
    await pubsub.publish(event);
    await witness.received(event.eventId);

    expect(calls).toEqual([event.eventId]);
    expect(pubsub.listenerCount()).toBe(2);
  });

  it('keeps delivering to the other listeners when one throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const pubsub = open({ onError: (error) => errors.push(error) });
    pubsub.subscribe(() => {
      throw new Error('listener broke');
    });
    const healthy = record(pubsub);
    const event = publishedEvent();
    const sentinel = publishedEvent();

    await pubsub.publish(event);
    await pubsub.publish(sentinel);
    await healthy.received(sentinel.eventId);

    expect(healthy.events).toEqual([event, sentinel]);
    expect(errors).toEqual([new Error('listener broke'), new Error('listener broke')]);
  });

  it('answers ping', async () => {
    const pubsub = open();
    await expect(pubsub.ping()).resolves.toBeUndefined();
  });
});

describe('Redis pubsub across instances', () => {
  it('delivers an event published on one instance exactly once to the listeners of both', async () => {
    const publisher = openRedis();
    const other = openRedis();
    const local = record(publisher);
    const remote = record(other);
    // ping resolves once this instance's subscription is in effect on Redis.
    await other.ping();
    const event = publishedEvent();
    const sentinel = publishedEvent();

    await publisher.publish(event);
    await publisher.publish(sentinel);
    await Promise.all([local.received(sentinel.eventId), remote.received(sentinel.eventId)]);

    expect(remote.events).toEqual([event, sentinel]);
    expect(local.events).toEqual([event, sentinel]);
  });

  it('reports and skips a message on the channel that is not a published event', async () => {
    const errors: unknown[] = [];
    const pubsub = openRedis({ onError: (error) => errors.push(error) });
    const listener = record(pubsub);
    await pubsub.ping();
    const raw = new Redis(inject('redisUrl'));
    onTestFinished(async () => {
      await raw.quit();
    });
    const sentinel = publishedEvent();

    await raw.publish(MESSAGE_EVENTS_CHANNEL, 'not json');
    await raw.publish(MESSAGE_EVENTS_CHANNEL, JSON.stringify({ hello: 'world' }));
    await pubsub.publish(sentinel);
    await listener.received(sentinel.eventId);

    expect(listener.events).toEqual([sentinel]);
    expect(errors).toHaveLength(2);
  });

  it('is created without a reachable server and rejects publish and ping when none answers', async () => {
    const pubsub = createRedisPubSub(`redis://127.0.0.1:${await unusedPort()}`, { connectTimeoutMs: 200 });
    onTestFinished(() => pubsub.close());
    const listener = record(pubsub);

    await expect(pubsub.publish(publishedEvent())).rejects.toThrow();
    await expect(pubsub.ping()).rejects.toThrow();
    expect(listener.events).toEqual([]);
  });
});

describe('createPubSub', () => {
  it('uses the in-process pubsub without a Redis URL and Redis otherwise', async () => {
    const memory = createPubSub({ redisUrl: null });
    onTestFinished(() => memory.close());
    const redis = createPubSub({ redisUrl: inject('redisUrl') });
    onTestFinished(() => redis.close());
    const observer = createRedisPubSub(inject('redisUrl'));
    onTestFinished(() => observer.close());
    const seen = record(observer);
    await observer.ping();
    const event = publishedEvent();

    await memory.publish(publishedEvent());
    await redis.publish(event);
    await seen.received(event.eventId);

    expect(seen.events).toEqual([event]);
  });
});
