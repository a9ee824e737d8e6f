// Ingest details that protect what is stored and who may deliver: the after-stored
// hooks run before the answer, a multi-event Smooch delivery keeps its body
// once and is bounded, the webhook admin races do not cost a delivery, and a
// slow subscriber is cut off without holding back the others.
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createIngest } from '../src/events/ingest.js';
import { createLiveEvents } from '../src/events/live-events.js';
import { createMemoryPubSub } from '../src/events/pubsub/memory.js';
import { createMemoryStore, createMongoStore } from '../src/events/store/index.js';
import { openEventStream } from '../src/events/stream.js';
import type { PublishedEvent, StoredEvent } from '../src/events/types.js';
import { createMetrics } from '../src/metrics.js';
import { mongoDb, podiumDelivery } from './helpers/events.js';
import { useTestGateway } from './helpers/gateway.js';

const logger = pino({ level: 'silent' });

function smoochDelivery(count: number, prefix: string): string {
  return JSON.stringify({
    app: { id: 'app-1' },
    webhook: { id: 'wh-1', version: 'v2' },
    events: Array.from({ length: count }, (_, i) => ({
      id: `${prefix}-${i}`,
      createdAt: '2025-03-04T05:06:07.000Z',
      type: 'conversation:message',
      payload: {
        conversation: { id: 'conv-1', type: 'personal' },
        message: { id: `${prefix}-msg-${i}`, received: '2025-03-04T05:06:07.000Z', author: { type: 'user', userId: 'user-1', displayName: 'Ana' }, content: { type: 'text', text: `message ${i} ${'x'.repeat(200)}` }, source: { type: 'whatsapp' } },
      },
    })),
  });
}

describe('ingest', () => {
  it('runs the after-stored hooks after the events are stored and before the provider gets its answer', async () => {
    const t = await useTestGateway();
    const store = createMemoryStore();
    const order: string[] = [];
    const ingest = createIngest({
      providers: t.gateway.providers,
      store,
      pubsub: createMemoryPubSub(),
      metrics: createMetrics(),
      logger,
      afterStored: [
        async ({ events }: { readonly events: readonly StoredEvent[] }) => {
          order.push(`stored:${(await store.getEvent(events[0]!.id)) ? 'durable' : 'missing'}`);
        },
      ],
    });
    const raw = podiumDelivery('hook-1', 'conv-1');
    const answered = ingest.receive('PODIUM', { headers: t.podium.signWebhook(raw), rawBody: Buffer.from(raw), receivedAt: new Date() }).then((r) => {
      order.push(`answered:${r.status}`);
    });
    await answered;
    await ingest.drain();
    expect(order).toEqual(['stored:durable', 'answered:200']);

    // A failing hook means no acknowledgement: the provider retries, and the redelivery dedupes.
    const failing = createIngest({ providers: t.gateway.providers, store, pubsub: createMemoryPubSub(), metrics: createMetrics(), logger, afterStored: [() => Promise.reject(new Error('cache down'))] });
    const again = await failing.receive('PODIUM', { headers: t.podium.signWebhook(raw), rawBody: Buffer.from(raw), receivedAt: new Date() });
    expect(again.status).toBe(503);
  });

  it('stores a 50-event Smooch delivery with one copy of its body, and a 150-event one once, as unprocessable', async () => {
    const { url, db } = mongoDb();
    const t = await useTestGateway({ providers: ['SMOOCH'], store: createMongoStore({ url, db }) });
    const smooch = t.emulators.SMOOCH!;
    const mongo = new MongoClient(url);
    onTestFinished(() => mongo.close());
    const body = smoochDelivery(50, 'small');

    const res = await t.webhook('smooch', body, smooch.signWebhook(body));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 50, duplicates: 0, unprocessable: 0 });
    const events = await mongo.db(db).collection('events').find({}).toArray();
    const deliveries = await mongo.db(db).collection('deliveries').find({}).toArray();
    expect(events).toHaveLength(50);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!['rawBody']).toBe(body);
    // Stored bytes: the body once plus small event documents, not 50 bodies.
    const storedBytes = JSON.stringify(events).length + JSON.stringify(deliveries).length;
    expect(storedBytes).toBeLessThan(body.length * 3);
    expect(events.every((e) => e['rawBody'] === undefined)).toBe(true);
    const listed = await t.gql<{ messageEvents: { edges: Array<{ node: { rawBody: string } }> } }>('{ messageEvents(first: 3) { edges { node { rawBody } } } }');
    expect(listed.data!.messageEvents.edges.map((e) => e.node.rawBody)).toEqual([body, body, body]);

    const big = smoochDelivery(150, 'big');
    const bigRes = await t.webhook('smooch', big, smooch.signWebhook(big));
    expect(bigRes.status).toBe(200);
    expect(bigRes.body).toMatchObject({ received: 1, unprocessable: 1 });
    const kept = await mongo.db(db).collection('events').find({ status: 'UNPROCESSABLE' }).toArray();
    expect(kept).toHaveLength(1);
    expect(kept[0]!['reason']).toMatch(/holds 150 events; at most 100/);
    expect(kept[0]!['rawBody']).toBe(big);
  });

  it('accepts a Smooch delivery that arrives while its webhook is being created, and one a cached secret list lacks', async () => {
    const store = createMemoryStore();
    const t = await useTestGateway({ providers: ['SMOOCH'], store });
    const webhook = { provider: 'SMOOCH' as const, url: `${t.url}/webhooks/smooch`, eventTypes: ['conversation:message'], locationId: null, organizationId: null, disabled: false, editable: true, createdAt: null, updatedAt: null };
    const body = smoochDelivery(1, 'race');
    const send = (secret: string) => t.webhook('smooch', body, { 'x-api-key': secret });

    // Primes the 5-second secrets cache without the new secret.
    expect((await send('wrong')).status).toBe(401);
    // Another instance stores a new webhook: the cache does not know it, the store does.
    await store.saveWebhook({ ...webhook, id: 'other-instance', secret: 'secret-b' });
    expect((await send('secret-b')).status).toBe(200);

    expect((await send('still-wrong')).status).toBe(401);

    // A creation in progress here: the delivery waits for its secret instead of a 401.
    let reads = 0;
    const counted = { ...store, listWebhooks: (provider: 'SMOOCH') => ((reads += 1), store.listWebhooks(provider)) };
    const ingest = createIngest({ providers: t.gateway.providers, store: counted, pubsub: createMemoryPubSub(), metrics: createMetrics(), logger });
    const done = ingest.beginWebhookCreation('SMOOCH');
    const early = ingest.receive('SMOOCH', { headers: { 'x-api-key': 'secret-c' }, rawBody: Buffer.from(body), receivedAt: new Date() });
    while (reads === 0) await new Promise((r) => setImmediate(r));
    // Verification has failed against the secrets without it; without the wait a 401 would be out by now.
    await new Promise((r) => setImmediate(r));
    await store.saveWebhook({ ...webhook, id: 'being-created', secret: 'secret-c' });
    done();
    expect((await early).status).toBe(200);
    await ingest.drain();
  });

  it('keeps a webhook mirror created while a webhooks listing was running', async () => {
    const store = createMemoryStore();
    const t = await useTestGateway({ store });
    t.podium.setLatency(1_000);
    const listing = t.gql<{ webhooks: unknown[] }>('query { webhooks(provider: PODIUM) { id } }');
    const deadline = Date.now() + 10_000;
    while (t.podium.requestCount({ method: 'GET', pathPrefix: '/v4/webhooks' }) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // Created (and mirrored) after the listing's snapshot started: the snapshot cannot show it.
    await store.saveWebhook({ provider: 'PODIUM', id: 'just-created', url: 'https://example.com/h', eventTypes: ['message.received'], locationId: null, organizationId: null, disabled: false, secret: 's', editable: true, createdAt: null, updatedAt: null });
    expect((await listing).errors).toBeUndefined();
    expect(await store.getWebhook('PODIUM', 'just-created')).not.toBeNull();

    t.podium.setLatency(0);
    await t.gql('query { webhooks(provider: PODIUM) { id } }');
    expect(await store.getWebhook('PODIUM', 'just-created')).toBeNull();
  });
});

describe('slow subscribers', () => {
  it('ends the subscription of a client that does not read, counts it, and keeps serving the others', async () => {
    const pubsub = createMemoryPubSub();
    const metrics = createMetrics();
    const store = createMemoryStore();
    const deps = { pubsub, store, liveEvents: createLiveEvents({ pubsub, log: store, logger, metrics }), metrics, logger };
    const slow = openEventStream(deps, { kind: 'RECEIVED' }, { maxBuffered: 3 });
    const fast = openEventStream(deps, { kind: 'RECEIVED' }, { maxBuffered: 3 });
    const received: string[] = [];
    const reading = (async () => {
      for await (const e of fast) {
        received.push(e.eventId);
        if (received.length === 6) break;
      }
    })();
    for (let i = 0; i < 6; i += 1) {
      await pubsub.publish(event(`e${i}`));
      await new Promise((r) => setImmediate(r));
    }
    await reading;

    expect(received).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5'].map((id) => id.padEnd(28, '0')));
    await expect(slow.next()).rejects.toThrow(/subscriber too slow: 3 events unread; resubscribe with after/);
    expect(pubsub.listenerCount()).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('gateway_subscriptions_dropped_total')).toMatch(/reason="slow"} 1/);
  });
});

function event(eventId: string): PublishedEvent {
  return {
    eventId: eventId.padEnd(28, '0'),
    provider: 'SMOOCH',
    kind: 'RECEIVED',
    providerEventType: 'conversation:message',
    receivedAt: '2025-03-04T05:06:08.123Z',
    message: { provider: 'SMOOCH', id: eventId, conversationId: 'c', contactRef: 'u', locationId: null, direction: 'INBOUND', status: 'RECEIVED', channel: 'WHATSAPP', body: 'hi', attachments: [], email: null, sender: { kind: 'CONTACT', contactRef: 'u', name: 'Ana' }, failureReason: null, callDurationSeconds: null, createdAt: '2025-03-04T05:06:07.000Z' },
  };
}
