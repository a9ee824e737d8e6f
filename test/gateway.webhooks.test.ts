// POST /webhooks/podium through the real gateway on MongoDB (FerretDB):
// verify -> normalize -> store -> 200 -> publish, and every bad-input answer.
import { gzipSync } from 'node:zlib';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoStore } from '../src/events/store/mongo.js';
import { ADMIN_KEY, collect, until, useTestGateway, type TestGateway } from './helpers/gateway.js';

// The message.failed example from seeds/podium-message-webhooks.txt, verbatim.
const FAILED = {
  data: {
    body: 'Hello',
    contact: { externalIdentifier: null, name: 'Brandon Tyson', uid: '8f1c7fca-8d87-4f82-a0a2-18907ebbedfe' },
    conversation: {
      assignedUser: { name: null, uid: null },
      channel: { identifier: '+18014890896', type: 'phone' },
      startedAt: '2021-07-01T08:17:27.824975Z',
      uid: '7206d08f-7e5d-4928-b2e5-5b80d1af834r',
    },
    createdAt: '2021-07-01T08:17:27.895070Z',
    failureReason: 'landline',
    location: { organizationUid: '4915e1a7-f1df-5b17-a03c-efb54betee1e', uid: '4e87d39b-4e86-5a5a-a76a-de655a8484ea' },
    sender: { uid: '71f99893-068a-5a3e-9c19-ef37d4d69278' },
    uid: 'b5de248b-3583-4b65-8ab9-042391b06857',
  },
  metadata: { eventType: 'message.failed', eventUid: '6f4b7811-a4d9-4074-a420-9775a2d33231', version: '2021.04.01' },
};

const EVENTS = `query($filter: StoredEventFilter) { messageEvents(filter: $filter, first: 20) { edges { node {
  id provider eventKey providerEventType type status reason rawBody published message { providerId status failureReason }
} } } }`;

interface StoredEventNode {
  eventKey: string;
  type: string | null;
  status: string;
  reason: string | null;
  rawBody: string;
  published: boolean;
  providerEventType: string | null;
  message: { providerId: string; status: string; failureReason: string } | null;
}

describe('Podium webhooks on MongoDB', () => {
  let mongo: MongoClient;
  beforeAll(async () => {
    const { inject } = await import('vitest');
    mongo = new MongoClient(inject('mongodbUrl'));
    await mongo.connect();
  });
  afterAll(() => mongo.close());

  const dbOf = (t: TestGateway) => mongo.db(t.config.mongodbDb);
  const send = (t: TestGateway, body: unknown, headers?: Record<string, string>) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return t.webhook('podium', raw, headers ?? t.podium.signWebhook(raw));
  };

  it('stores an authentic event, answers 200, then publishes it once to subscribers', async () => {
    const t = await useTestGateway({ mongo: true });
    const client = t.ws();
    const sub = collect<{ messageFailed: { type: string; providerEventType: string; message: { providerId: string; failureReason: string } } }>(
      client,
      `subscription { messageFailed { type providerEventType message { providerId failureReason } } }`,
    );
    await until(() => t.gateway.pubsub.listenerCount() === 1, 'the subscription to register');

    const res = await send(t, FAILED);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 1, duplicates: 0, unprocessable: 0 });

    const [event] = await sub.done;
    expect(event!.messageFailed).toEqual({
      type: 'FAILED',
      providerEventType: 'message.failed',
      message: { providerId: 'b5de248b-3583-4b65-8ab9-042391b06857', failureReason: 'landline' },
    });
    const docs = await dbOf(t).collection('events').find({ provider: 'PODIUM' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      eventKey: expect.stringContaining('6f4b7811-a4d9-4074-a420-9775a2d33231'),
      status: 'PROCESSED',
      kind: 'FAILED',
      rawBody: JSON.stringify(FAILED),
    });
    // Claimed in its own insert (no separate claim write), and recorded as published without a write per event:
    // the store's publish progress covers it.
    expect(docs[0]!.claimedAt).toBeInstanceOf(Date);
    expect(await dbOf(t).collection('publish_claims').find({}).toArray()).toEqual([]);
    await until(async () => (await t.gateway.store.getEvent(String(docs[0]!._id)))?.published === true, 'the publish to be recorded');
    expect(await dbOf(t).collection('published_events').find({}).toArray()).toEqual([]);
  });

  it('stores a duplicate delivery once and publishes it once', async () => {
    const t = await useTestGateway({ mongo: true });
    const received: unknown[] = [];
    const unsubscribe = t.gateway.pubsub.subscribe((e) => received.push(e));
    const raw = JSON.stringify(FAILED);
    const first = await send(t, raw);
    // The same event again, re-signed with a new timestamp like a real retry.
    const again = await Promise.all([send(t, raw), send(t, raw)]);
    expect(first.status).toBe(200);
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    expect(again.map((r) => r.body.duplicates)).toEqual([1, 1]);
    expect(await dbOf(t).collection('events').countDocuments({ provider: 'PODIUM' })).toBe(1);
    await until(() => received.length >= 1, 'the publish');
    // Give any wrongly repeated publish the same chance to arrive: one more full round trip.
    await send(t, raw);
    expect(received).toHaveLength(1);
    unsubscribe();
  });

  it('rejects a bad or missing signature with 401 and stores nothing', async () => {
    const t = await useTestGateway({ mongo: true });
    const raw = JSON.stringify(FAILED);
    const headers = t.podium.signWebhook(raw);
    const tampered = await t.webhook('podium', raw.replace('Hello', 'Hellp'), headers);
    expect(tampered.status).toBe(401);
    expect(tampered.body.error).toBe('unauthorized');
    const unsigned = await t.webhook('podium', raw, {});
    expect(unsigned.status).toBe(401);
    const stale = await t.webhook('podium', raw, t.podium.signWebhook(raw, { timestampMs: Date.now() - 10 * 60_000 }));
    expect(stale.status).toBe(401);
    expect(await dbOf(t).collection('events').countDocuments({})).toBe(0);
  });

  it('answers 400 to a body that is not JSON and 413 to one over 1 MiB, storing nothing', async () => {
    const t = await useTestGateway({ mongo: true });
    const notJson = await send(t, '{"data": nope');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toBe('invalid_json');
    const huge = JSON.stringify({ data: { body: 'x'.repeat(1_048_577) }, metadata: { eventType: 'message.sent' } });
    const tooLarge = await send(t, huge);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error).toBe('payload_too_large');
    expect(await dbOf(t).collection('events').countDocuments({})).toBe(0);
  });

  it('decodes a gzip-encoded delivery, refuses a decompression bomb with 413 and an unknown encoding with 415', async () => {
    const t = await useTestGateway({ mongo: true });
    const raw = JSON.stringify(FAILED);
    const post = (body: Buffer, encoding: string) =>
      fetch(`${t.url}/webhooks/podium`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...t.podium.signWebhook(raw) },
        body,
      });
    // Podium signs the JSON it sends; the encoding is transport only.
    const gzipped = await post(gzipSync(raw), 'gzip');
    expect(gzipped.status).toBe(200);
    expect(await dbOf(t).collection('events').countDocuments({ provider: 'PODIUM' })).toBe(1);
    // 10 MiB of zeros compress to about 10 KiB: under the limit on the wire, far over it decoded.
    const bomb = await post(gzipSync(Buffer.alloc(10 * 1024 * 1024)), 'gzip');
    expect(bomb.status).toBe(413);
    expect(await bomb.json()).toMatchObject({ error: 'payload_too_large' });
    const unknown = await post(Buffer.from(raw), 'compress');
    expect(unknown.status).toBe(415);
    expect(await unknown.json()).toMatchObject({ error: 'unsupported_encoding' });
    const corrupt = await post(Buffer.from('not gzip at all'), 'gzip');
    expect(corrupt.status).toBe(400);
    expect(await dbOf(t).collection('events').countDocuments({})).toBe(1);
  });

  it('stores an authentic event of an unknown type as unprocessable, answers 200 and shows it to admins', async () => {
    const t = await useTestGateway({ mongo: true });
    const contactEvent = { data: { uid: 'c0ffee00-0000-4000-8000-000000000001', name: 'Ana' }, metadata: { eventType: 'contact.created', eventUid: 'evt-contact-1' } };
    const shapeless = { hello: 'world' };
    expect((await send(t, contactEvent)).status).toBe(200);
    expect((await send(t, shapeless)).status).toBe(200);
    const res = await t.gql<{ messageEvents: { edges: Array<{ node: StoredEventNode }> } }>(EVENTS, { filter: { status: 'UNPROCESSABLE' } }, ADMIN_KEY);
    const nodes = res.data!.messageEvents.edges.map((e) => e.node);
    expect(nodes).toHaveLength(2);
    // Newest first.
    expect(JSON.parse(nodes[0]!.rawBody)).toEqual(shapeless);
    expect(nodes[1]!.providerEventType).toBe('contact.created');
    for (const n of nodes) {
      expect(n.reason).toBeTruthy();
      expect(n.type).toBeNull();
      expect(n.published).toBe(false);
    }
  });

  it('answers 503 when the store is unreachable and publishes nothing', async () => {
    const store = createMongoStore({ url: 'mongodb://127.0.0.1:1/', db: 'nowhere', serverSelectionTimeoutMs: 300 });
    const t = await useTestGateway({ store });
    const received: unknown[] = [];
    t.gateway.pubsub.subscribe((e) => received.push(e));
    const res = await send(t, FAILED);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('store_unavailable');
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(received).toHaveLength(0);
  });
});
