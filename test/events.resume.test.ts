// Resumable subscriptions through the real gateway: `after` replays what was
// stored after the cursor in store order, then continues live, with no gap and
// no duplicate; on the embedded store, on FerretDB, and across two instances
// sharing MongoDB and Redis. Bad cursors fail the subscription with BAD_USER_INPUT.
import { describe, expect, it, onTestFinished } from 'vitest';
import { encodeEventCursor } from '../src/events/cursor.js';
import { newEventId } from '../src/events/event-id.js';
import { createMemoryStore, createMongoStore } from '../src/events/store/index.js';
import { createRedisPubSub } from '../src/events/pubsub/redis.js';
import type { EventStore } from '../src/events/types.js';
import { inject } from 'vitest';
import { mongoDb, record, useEventsGateway, type EventsGateway } from './helpers/events.js';

const listening = (t: EventsGateway, n: number) => async (): Promise<boolean> => t.gateway.pubsub.listenerCount() === n;

async function untilTrue(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Delivers `n` webhooks one after the other; resolves with their event ids. */
async function deliverMany(t: EventsGateway, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const res = await t.deliver();
    expect(res.status).toBe(200);
    ids.push(...(res.body.eventIds ?? []));
  }
  return ids;
}

async function resumesWithoutGapOrDuplicate(t: EventsGateway): Promise<void> {
  const first = record(t.ws());
  await untilTrue(listening(t, 1), 'the first subscription');
  // One at a time: publishes of back-to-back deliveries may overtake each other.
  const before = await deliverMany(t, 1);
  await first.until((e) => e.length === 1, 'the first live event');
  before.push(...(await deliverMany(t, 1)));
  await first.until((e) => e.length === 2, 'two live events');
  first.unsubscribe();
  await untilTrue(listening(t, 0), 'the first subscription to end');

  // Missed while away: replayed on resume.
  const missed = await deliverMany(t, 3);
  const resumed = record(t.ws(), first.events[0]!.cursor);
  await resumed.until((e) => e.length === 4, 'the replay');
  await untilTrue(listening(t, 1), 'the resumed subscription to listen');
  const live = await deliverMany(t, 1);
  await resumed.until((e) => e.length === 5, 'the live event after the replay');

  expect(resumed.events.map((e) => e.eventId)).toEqual([before[1], ...missed, ...live]);
  // Cursors only move forward, and the last one resumes after everything.
  const cursors = resumed.events.map((e) => e.cursor);
  expect(new Set(cursors).size).toBe(cursors.length);
  const again = record(t.ws(), cursors[cursors.length - 1]!);
  const sentinel = await deliverMany(t, 1);
  await again.until((e) => e.some((x) => x.eventId === sentinel[0]), 'the sentinel');
  expect(again.events.map((e) => e.eventId)).toEqual(sentinel);
}

describe('resumable subscriptions', () => {
  it('replays what was stored after the cursor, then goes live, on the embedded store', async () => {
    await resumesWithoutGapOrDuplicate(await useEventsGateway({ store: createMemoryStore() }));
  });

  it('replays what was stored after the cursor, then goes live, on FerretDB', async () => {
    const { url, db } = mongoDb();
    await resumesWithoutGapOrDuplicate(await useEventsGateway({ store: createMongoStore({ url, db }) }));
  });

  it('holds live events that arrive during the replay, and sends each once', async () => {
    const inner = createMemoryStore();
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    // The replay reads the store only once the racing events are stored and published live.
    const store: EventStore = { ...inner, listEventsAfter: async (filter, page) => (await gate, inner.listEventsAfter(filter, page)) };
    const t = await useEventsGateway({ store });
    const stored = await deliverMany(t, 30);
    const sub = record(t.ws(), encodeEventCursor(stored[0]!));
    await untilTrue(listening(t, 1), 'the subscription to listen while its replay waits');
    // Deliveries racing the replay: each must come exactly once, after the replayed ones.
    const racing = await deliverMany(t, 5);
    openGate();
    await sub.until((e) => e.length >= 34, 'replay and racing events');
    const sentinel = await deliverMany(t, 1);
    await sub.until((e) => e.some((x) => x.eventId === sentinel[0]), 'the sentinel');
    expect(sub.events.map((e) => e.eventId)).toEqual([...stored.slice(1), ...racing, ...sentinel]);
  });

  it('resumes on another instance with a cursor from the first (one MongoDB, one Redis)', async () => {
    const { url, db } = mongoDb();
    const open = (): EventStore => createMongoStore({ url, db });
    const a = await useEventsGateway({ store: open(), pubsub: createRedisPubSub(inject('redisUrl')) });
    const b = await useEventsGateway({ store: open(), pubsub: createRedisPubSub(inject('redisUrl')), podium: a.podium });
    const onA = record(a.ws());
    await untilTrue(listening(a, 1), 'the subscription on A');
    const ids = await deliverMany(a, 1);
    await onA.until((e) => e.length === 1, 'the first event on A');
    ids.push(...(await deliverMany(a, 2)));
    await onA.until((e) => e.length === 3, 'three events on A');

    const onB = record(b.ws(), onA.events[0]!.cursor);
    await onB.until((e) => e.length === 2, 'the replay on B');
    await untilTrue(listening(b, 1), 'the subscription on B');
    // Live on B, delivered through A's webhook endpoint.
    const live = await deliverMany(a, 1);
    await onB.until((e) => e.length === 3, 'the live event on B');
    expect(onB.events.map((e) => e.eventId)).toEqual([ids[1], ids[2], live[0]]);
  });

  it('fails the subscription with BAD_USER_INPUT for a malformed, an unknown or an expired cursor', async () => {
    const store = createMemoryStore({ retentionMs: 24 * 60 * 60 * 1000 });
    onTestFinished(() => store.close());
    const t = await useEventsGateway({ store });
    const expired = encodeEventCursor('0'.repeat(12) + '0'.repeat(16));
    for (const [after, message] of [
      ['not-a-cursor', /not an event cursor/],
      [encodeEventCursor(newEventId()), /names no stored event/],
      [expired, /older than the event retention \(1 days\)/],
    ] as const) {
      const sub = record(t.ws(), after);
      await sub.until(() => sub.error !== null, `the error for ${after}`).catch(() => undefined);
      const errors = sub.error as Array<{ message: string; extensions?: { code?: string } }>;
      expect(errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(errors[0]?.message).toMatch(message);
    }
    expect(t.gateway.pubsub.listenerCount()).toBe(0);
  });
});
