// replayEvent: a stored delivery re-run through normalize -> store -> publish
// after a fix, on the embedded store and on MongoDB (FerretDB). Subscribers get
// a replayed event once, however often it is replayed; duplicates are checked
// with a sentinel event delivered after the replays (pubsub order), not a sleep.
import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMongoStore } from '../src/events/store/mongo.js';
import { startPodiumEmulator } from '../src/sandbox/podium/index.js';
import { mongoDb, record, useEventsGateway } from './helpers/events.js';
import { ADMIN_KEY, until, VIEWER_KEY } from './helpers/gateway.js';
import { BROKEN_REASON, fixablePodium } from './helpers/replay.js';

const REPLAY = `mutation($id: ID!) { replayEvent(id: $id) {
  outcome reason events { id }
  event { id status reason type published message { body } }
} }`;
const EVENTS = `query($status: StoredEventStatus) { messageEvents(filter: { status: $status }, first: 10) { edges { node { id status reason rawBody published } } } }`;

interface Replayed {
  replayEvent: { outcome: string; reason: string | null; events: unknown[]; event: { id: string; status: string; reason: string | null; type: string | null; published: boolean; message: { body: string } | null } };
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown>, key = ADMIN_KEY) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data: T | null; errors?: Array<{ message: string; extensions: { code: string } }> };
}

const stores = [
  { name: 'embedded store', store: () => undefined },
  { name: 'MongoDB', store: () => createMongoStore(mongoDb()) },
];

describe.each(stores)('replayEvent ($name)', ({ store }) => {
  it('stores an unprocessable event that normalizes after a fix as processed and publishes it once, however often it is replayed', async () => {
    const podium = await startPodiumEmulator();
    const fixable = fixablePodium(podium);
    const t = await useEventsGateway({ podium, providers: fixable.providers, store: store() });
    const live = record(t.ws());
    await until(() => t.gateway.pubsub.listenerCount() === 1, 'the subscription');
    // What reached the pubsub, before any subscriber's own dedupe.
    const published: string[] = [];
    onTestFinished(t.gateway.pubsub.subscribe((e) => published.push(e.eventId)));

    const delivered = await t.deliver();
    expect(delivered.body).toMatchObject({ received: 1, unprocessable: 1 });
    const listed = await gql<{ messageEvents: { edges: Array<{ node: { id: string; status: string; reason: string; rawBody: string } }> } }>(t.url, EVENTS, { status: 'UNPROCESSABLE' });
    const stored = listed.data!.messageEvents.edges[0]!.node;
    expect(stored).toMatchObject({ status: 'UNPROCESSABLE', reason: BROKEN_REASON });
    expect(JSON.parse(stored.rawBody).metadata.eventType).toBe('message.received');

    // Before the fix the replay changes nothing.
    const early = await gql<Replayed>(t.url, REPLAY, { id: stored.id });
    expect(early.data!.replayEvent).toMatchObject({ outcome: 'STILL_UNPROCESSABLE', reason: BROKEN_REASON, event: { status: 'UNPROCESSABLE', published: false } });

    fixable.fix();
    const [a, b] = await Promise.all([gql<Replayed>(t.url, REPLAY, { id: stored.id }), gql<Replayed>(t.url, REPLAY, { id: stored.id })]);
    for (const r of [a, b]) {
      expect(r.errors).toBeUndefined();
      expect(r.data!.replayEvent.event).toMatchObject({ id: stored.id, status: 'PROCESSED', reason: null, type: 'RECEIVED' });
      expect(r.data!.replayEvent.event.message?.body).toMatch(/^hello /);
    }
    const again = await gql<Replayed>(t.url, REPLAY, { id: stored.id });
    expect(again.data!.replayEvent).toMatchObject({ outcome: 'ALREADY_PROCESSED', event: { status: 'PROCESSED', published: true } });

    // The sentinel is published after every replay above answered: once it arrives, any duplicate would have too.
    const sentinel = await t.deliver(randomUUID());
    expect(sentinel.body).toMatchObject({ unprocessable: 0 });
    const sentinelId = sentinel.body.eventIds![0]!;
    await live.until((events) => events.some((e) => e.eventId === sentinelId), 'the sentinel event');
    const storeId = Buffer.from(stored.id, 'base64url').toString('utf8').split(':').pop();
    expect(live.events.map((e) => e.eventId)).toEqual([storeId, sentinelId]);
    expect(published).toEqual([storeId, sentinelId]);

    const processed = await gql<{ messageEvents: { edges: Array<{ node: { id: string; published: boolean } }> } }>(t.url, EVENTS, { status: 'UNPROCESSABLE' });
    expect(processed.data!.messageEvents.edges).toEqual([]);
  });

  it('does not publish a processed event again', async () => {
    const podium = await startPodiumEmulator();
    const fixable = fixablePodium(podium);
    fixable.fix();
    const t = await useEventsGateway({ podium, providers: fixable.providers, store: store() });
    const live = record(t.ws());
    await until(() => t.gateway.pubsub.listenerCount() === 1, 'the subscription');
    const published: string[] = [];
    onTestFinished(t.gateway.pubsub.subscribe((e) => published.push(e.eventId)));
    const first = await t.deliver();
    const firstId = first.body.eventIds![0]!;
    await live.until((events) => events.length === 1, 'the delivered event');

    const listed = await gql<{ messageEvents: { edges: Array<{ node: { id: string } }> } }>(t.url, EVENTS, { status: 'PROCESSED' });
    const replayed = await gql<Replayed>(t.url, REPLAY, { id: listed.data!.messageEvents.edges[0]!.node.id });
    expect(replayed.data!.replayEvent).toMatchObject({ outcome: 'ALREADY_PROCESSED', event: { status: 'PROCESSED', published: true } });

    const sentinelId = (await t.deliver()).body.eventIds![0]!;
    await live.until((events) => events.some((e) => e.eventId === sentinelId), 'the sentinel event');
    expect(live.events.map((e) => e.eventId)).toEqual([firstId, sentinelId]);
    expect(published).toEqual([firstId, sentinelId]);
  });
});

describe('replayEvent input', () => {
  it('answers a malformed id with BAD_USER_INPUT, an unknown one with NOT_FOUND and a viewer key with FORBIDDEN', async () => {
    const t = await useEventsGateway();
    const malformed = await gql<Replayed>(t.url, REPLAY, { id: 'not an id' });
    expect(malformed.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const wrongType = await gql<Replayed>(t.url, REPLAY, { id: Buffer.from('PODIUM:Contact:abc').toString('base64url') });
    expect(wrongType.errors?.[0]).toMatchObject({ message: 'Expected a StoredEvent id, got a Contact id', extensions: { code: 'BAD_USER_INPUT' } });
    const unknown = await gql<Replayed>(t.url, REPLAY, { id: Buffer.from('PODIUM:StoredEvent:0000000000000000000000000000').toString('base64url') });
    expect(unknown.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(unknown.errors?.[0]?.message).toMatch(/no stored PODIUM event/);
    const viewer = await gql<Replayed>(t.url, REPLAY, { id: 'x' }, VIEWER_KEY);
    expect(viewer.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });
});
