// The store is the log, the pubsub only the doorbell: an acknowledged event
// reaches subscribers exactly once even when the publish fails, when the
// process died between the 200 and the publish, and across a Redis outage.
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { inject } from 'vitest';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMemoryPubSub } from '../src/events/pubsub/memory.js';
import { createRedisPubSub } from '../src/events/pubsub/redis.js';
import { createMemoryStore, createMongoStore } from '../src/events/store/index.js';
import type { PubSub, PublishedEvent } from '../src/events/types.js';
import { until as waitFor } from './helpers/gateway.js';
import { mongoDb, podiumDelivery, record, useEventsGateway } from './helpers/events.js';

/** Records what reaches the pubsub's listeners, and waits for an event id. */
function listen(pubsub: PubSub) {
  const seen: string[] = [];
  const unsubscribe = pubsub.subscribe((e: PublishedEvent) => seen.push(e.eventId));
  onTestFinished(unsubscribe);
  return {
    seen,
    async until(id: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (!seen.includes(id)) {
        if (Date.now() > deadline) throw new Error(`event ${id} never reached the pubsub; got ${seen.join(', ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

const fast = { intervalMs: 50, graceMs: 0, leaseMs: 300 };

describe('the outbox', () => {
  it('publishes an acknowledged event whose publish failed, once, without any redelivery', async () => {
    const inner = createMemoryPubSub();
    let refusals = 3;
    const flaky: PubSub = {
      ...inner,
      async publish(event) {
        if (refusals-- > 0) throw new Error('pubsub down');
        await inner.publish(event);
      },
    };
    const store = createMemoryStore();
    const heard = listen(inner);
    const t = await useEventsGateway({ store, pubsub: flaky, outbox: { ...fast, leaseMs: 60_000 } });

    const res = await t.deliver();
    expect(res.status).toBe(200);
    const [id] = res.body.eventIds!;
    await heard.until(id!);
    const sentinel = (await t.deliver()).body.eventIds![0]!;
    await heard.until(sentinel);

    expect(heard.seen.filter((e) => e === id)).toHaveLength(1);
    expect((await store.getEvent(id!))?.published).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^gateway_events_published_total\{path="outbox"\} [1-9]/m);
    expect(metrics).toMatch(/^gateway_event_publish_failures_total [1-9]/m);
  });

  it('publishes on restart what a process that died after the 200 stored but never published', async () => {
    const { url, db } = mongoDb();
    const dead = createMongoStore({ url, db });
    // The dead process: one event stored and never claimed, one claimed mid-publish.
    const base = { provider: 'PODIUM', providerEventType: 'message.received', kind: 'RECEIVED', status: 'PROCESSED', reason: null, receivedAt: new Date().toISOString() } as const;
    const message = (id: string) => ({ provider: 'PODIUM' as const, id, conversationId: 'conv-1', contactRef: 'c-1', locationId: null, direction: 'INBOUND' as const, status: 'RECEIVED' as const, channel: 'SMS' as const, body: 'hi', attachments: [], email: null, sender: { kind: 'CONTACT' as const, contactRef: 'c-1', name: 'Ana' }, failureReason: null, callDurationSeconds: null, createdAt: base.receivedAt });
    const [unclaimed, claimed] = await dead.insertEvents(['m-1', 'm-2'].map((m) => ({ ...base, eventKey: `uid:${randomUUID()}`, message: message(m), rawBody: podiumDelivery(m, 'conv-1') })));
    expect(await dead.claimPublish(claimed!.event.id)).toBe(true);
    await dead.close();

    const pubsub = createMemoryPubSub();
    const heard = listen(pubsub);
    const store = createMongoStore({ url, db });
    const t = await useEventsGateway({ store, pubsub, outbox: fast });
    await heard.until(unclaimed!.event.id);
    // The abandoned claim is taken over once its lease ran out.
    await heard.until(claimed!.event.id);
    const sentinel = (await t.deliver()).body.eventIds![0]!;
    await heard.until(sentinel);

    expect(heard.seen.filter((id) => id === unclaimed!.event.id || id === claimed!.event.id).sort()).toEqual([unclaimed!.event.id, claimed!.event.id].sort());
    expect((await store.getEvent(claimed!.event.id))?.published).toBe(true);
  });

  it('catches subscribers up from the store after its Redis connection was lost, each event once', async () => {
    const proxy = await redisProxy(inject('redisUrl'));
    const { url, db } = mongoDb();
    // A publishes straight to Redis; B reaches Redis through the proxy, which the outage cuts.
    const a = await useEventsGateway({ store: createMongoStore({ url, db }), pubsub: createRedisPubSub(inject('redisUrl')), outbox: fast });
    const b = await useEventsGateway({ store: createMongoStore({ url, db }), pubsub: createRedisPubSub(proxy.url, { connectTimeoutMs: 300 }), outbox: fast, podium: a.podium });
    const sub = record(b.ws());
    // B must be listening before A publishes: a live event published earlier is no one's to replay.
    await waitFor(async () => /^gateway_subscription_group_members 1$/m.test(await (await fetch(`${b.url}/metrics`)).text()), 'the subscription on B');
    // ...and its Redis SUBSCRIBE acknowledged, which /readyz waits for once a listener exists.
    await waitFor(async () => (await fetch(`${b.url}/readyz`)).status === 200, "B's Redis subscription");
    const first = (await a.deliver()).body.eventIds![0]!;
    await sub.until((e) => e.some((x) => x.eventId === first), 'the event before the outage');

    proxy.cut();
    // Published by A while B is not subscribed: Redis keeps nothing for B.
    const heardByA = listen(a.gateway.pubsub);
    const missed = (await a.deliver()).body.eventIds![0]!;
    await heardByA.until(missed);
    proxy.restore();
    await sub.until((e) => e.some((x) => x.eventId === missed), 'the event published during the outage');
    const sentinel = (await a.deliver()).body.eventIds![0]!;
    await sub.until((e) => e.some((x) => x.eventId === sentinel), 'the sentinel');

    expect(sub.events.map((e) => e.eventId)).toEqual([first, missed, sentinel]);
  });
});

/** A TCP proxy in front of Redis whose connections can be cut and refused, like an outage. */
async function redisProxy(target: string): Promise<{ url: string; cut(): void; restore(): void }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createServer((client) => {
    if (!up) return client.destroy();
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  const address = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
  };
}
