// The seams of the event pipeline: the persist step and its after-stored hooks
// (what the ingest and replayEvent share), retention on its own timer, and the
// adapters on connections a caller owns (one MongoClient, one Redis pair).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { idTime } from '../src/events/cursor.js';
import { createPersist, type StoredBatch } from '../src/events/persist.js';
import { createRedisPubSub } from '../src/events/pubsub/redis.js';
import { createRetention } from '../src/events/retention.js';
import { createMemoryStore } from '../src/events/store/memory.js';
import { createMongoStore } from '../src/events/store/mongo.js';
import type { PublishedEvent } from '../src/events/types.js';
import type { ParsedEvent } from '../src/providers/provider.js';

const logger = pino({ level: 'silent' });

function message(): PublishedEvent['message'] {
  return {
    provider: 'PODIUM' as const,
    id: 'msg-1',
    conversationId: 'conv-1',
    contactRef: 'contact-1',
    locationId: 'loc-1',
    direction: 'INBOUND' as const,
    status: 'RECEIVED' as const,
    channel: 'SMS' as const,
    body: 'Hello',
    attachments: [],
    email: null,
    sender: { kind: 'CONTACT' as const, contactRef: 'contact-1', name: 'Ana' },
    failureReason: null,
    callDurationSeconds: null,
    createdAt: '2025-03-04T05:06:07.000Z',
  };
}

function parsed(eventKey: string, ok = true): ParsedEvent {
  return {
    eventKey,
    providerEventType: 'message.received',
    result: ok ? { ok: true, event: { kind: 'RECEIVED', message: message() } } : { ok: false, reason: 'unknown shape' },
  };
}

const origin = { provider: 'PODIUM' as const, rawBody: '{"a":1}', receivedAt: '2025-03-04T05:06:08.123Z', account: 'acct-1' };

describe('the persist step', () => {
  it('stores a delivery stamped with its account, then runs the after-stored hooks in order with every event and the fresh ones', async () => {
    const store = createMemoryStore();
    const seen: string[] = [];
    const batches: StoredBatch[] = [];
    const persist = createPersist({
      log: store,
      afterStored: [
        async (batch) => {
          // Durable before any hook runs.
          seen.push(`first:${(await store.getEvent(batch.events[0]!.id)) ? 'stored' : 'missing'}`);
          batches.push(batch);
        },
        async () => void seen.push('second'),
      ],
    });
    await persist.storeDelivery(origin, [parsed('k1')], { source: 'webhook' });
    const again = await persist.storeDelivery(origin, [parsed('k1'), parsed('k2')], { source: 'webhook' });

    expect(seen).toEqual(['first:stored', 'second', 'first:stored', 'second']);
    expect(again.map((r) => r.inserted)).toEqual([false, true]);
    expect(batches[1]).toMatchObject({ source: 'webhook', provider: 'PODIUM' });
    expect(batches[1]!.events.map((e) => e.eventKey)).toEqual(['k1', 'k2']);
    expect(batches[1]!.fresh.map((e) => e.eventKey)).toEqual(['k2']);
    expect(batches[1]!.events.every((e) => e.account === 'acct-1' && e.message?.account === 'acct-1')).toBe(true);
  });

  it('turns a stored unprocessable event processed in place and runs the hooks as a replay', async () => {
    const store = createMemoryStore();
    const batches: StoredBatch[] = [];
    const persist = createPersist({ log: store, afterStored: [async (batch) => void batches.push(batch)] });
    const [stored] = await persist.storeDelivery({ ...origin, account: null }, [parsed('k1', false)], { source: 'webhook' });
    expect(stored!.event.status).toBe('UNPROCESSABLE');

    const updated = await persist.storeReplayed(stored!.event, parsed('k1'), 'acct-2');
    expect(updated).toMatchObject({ id: stored!.event.id, status: 'PROCESSED', account: 'acct-2', message: { account: 'acct-2' } });
    expect(batches.map((b) => [b.source, b.fresh.length])).toEqual([
      ['webhook', 1],
      ['replay', 1],
    ]);
  });

  it('fails when a hook fails, with the events stored', async () => {
    const store = createMemoryStore();
    const persist = createPersist({ log: store, afterStored: [() => Promise.reject(new Error('cache down'))] });
    await expect(persist.storeDelivery(origin, [parsed('k1')], { source: 'webhook' })).rejects.toThrow('cache down');
    expect(await store.listEvents({}, { limit: 10, before: null })).toHaveLength(1);
  });
});

describe('retention', () => {
  it('deletes the events past the retention when it starts, and keeps the rest', async () => {
    const store = createMemoryStore({ retentionMs: 60_000 });
    const old = (await store.insertEvent(newEvent('old'))).event;
    // Ids start with their millisecond: the next one is made in a later one.
    while (Date.now() <= idTime(old.id)) await new Promise((r) => setTimeout(r, 1));
    const kept = (await store.insertEvent(newEvent('kept'))).event;
    const run = async (now: number): Promise<void> => {
      const retention = createRetention({ log: store, claims: store, logger, now: () => now });
      retention.start();
      await retention.stop();
    };

    // Nothing is past the retention yet.
    await run(Date.now());
    expect(await store.getEvent(old.id)).not.toBeNull();
    // A minute after `kept` was made, `old` is past it.
    await run(idTime(kept.id) + 60_000);
    expect(await store.getEvent(old.id)).toBeNull();
    expect(await store.getEvent(kept.id)).not.toBeNull();
  });
});

describe('adapters on connections the caller owns', () => {
  it('runs a MongoDB store on an injected Db and leaves its client open on close', async () => {
    const client = new MongoClient(inject('mongodbUrl'), { ignoreUndefined: true, serverSelectionTimeoutMS: 5_000 });
    const name = `gateway_test_${randomUUID().replaceAll('-', '')}`;
    onTestFinished(async () => {
      await client.db(name).dropDatabase();
      await client.close();
    });
    const store = createMongoStore({ db: client.db(name) });
    const { event } = await store.insertEvent(newEvent('k1'));
    await store.ping();
    await store.close();
    // The store is closed, the client is not: it still reads what the store wrote.
    expect(await client.db(name).collection('events').countDocuments({ _id: event.id as never })).toBe(1);
  });

  it('runs a Redis pubsub on a shared connection pair and leaves both open on close', async () => {
    const publisher = new Redis(inject('redisUrl'));
    const subscriber = new Redis(inject('redisUrl'));
    onTestFinished(() => {
      publisher.disconnect();
      subscriber.disconnect();
    });
    const pubsub = createRedisPubSub({ publisher, subscriber });
    const received = new Promise<PublishedEvent>((resolve) => pubsub.subscribe(resolve));
    const event = { eventId: randomUUID(), provider: 'PODIUM', kind: 'RECEIVED', providerEventType: null, receivedAt: origin.receivedAt, message: message() } as PublishedEvent;
    await pubsub.publish(event);
    expect((await received).eventId).toBe(event.eventId);
    await pubsub.close();
    expect(await publisher.ping()).toBe('PONG');
    expect(publisher.status).toBe('ready');
  });
});

function newEvent(eventKey: string) {
  return {
    provider: 'PODIUM' as const,
    eventKey: `${eventKey}-${randomUUID()}`,
    providerEventType: 'message.received',
    kind: 'RECEIVED' as const,
    status: 'PROCESSED' as const,
    reason: null,
    message: message(),
    rawBody: '{}',
    receivedAt: origin.receivedAt,
  };
}
