// One conformance suite for every EventStore: the in-memory store and the
// MongoDB store against a real server (FerretDB from the global setup, or
// MONGODB_URL), each test on a database of its own.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { newEventId } from '../src/events/event-id.js';
import { createMemoryStore } from '../src/events/store/memory.js';
import { createMongoStore } from '../src/events/store/mongo.js';
import { createStore } from '../src/events/store/index.js';
import type { EventStore, NewEvent, StoredEvent } from '../src/events/types.js';
import type { MessageRecord, WebhookRecord } from '../src/model.js';

let admin: MongoClient | null = null;
/** A driver connection of the test's own, to inspect and drop databases. */
function adminClient(): MongoClient {
  admin ??= new MongoClient(inject('mongodbUrl'), { serverSelectionTimeoutMS: 5_000 });
  return admin;
}
afterAll(async () => {
  await admin?.close();
});

function freshDbName(): string {
  return `gateway_test_${randomUUID().replaceAll('-', '')}`;
}

/** A MongoDB store on a database nobody else uses, dropped after the test. */
function openMongoStore(db = freshDbName(), now?: () => number): EventStore {
  const store = createMongoStore({ url: inject('mongodbUrl'), db, ...(now ? { now } : {}) });
  onTestFinished(async () => {
    await store.close();
    await adminClient().db(db).dropDatabase();
  });
  return store;
}

function openMemoryStore(now?: () => number): EventStore {
  const store = createMemoryStore(now ? { now } : {});
  onTestFinished(() => store.close());
  return store;
}

function message(overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    provider: 'PODIUM',
    id: 'msg-1',
    conversationId: 'conv-1',
    contactRef: 'contact-1',
    locationId: 'loc-1',
    direction: 'INBOUND',
    status: 'RECEIVED',
    channel: 'EMAIL',
    body: 'Hello — is the café open on Sunday? 😊',
    attachments: [{ url: 'https://files.example.com/a.png', contentType: 'image/png' }],
    email: {
      subject: 'Opening hours',
      from: 'ana@example.com',
      to: ['shop@example.com'],
      cc: [],
      bcc: [],
      html: '<p>Hello</p>',
      threadId: null,
    },
    sender: { kind: 'CONTACT', contactRef: 'contact-1', name: 'Ana' },
    failureReason: null,
    callDurationSeconds: null,
    createdAt: '2025-03-04T05:06:07.089Z',
    ...overrides,
  };
}

function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    provider: 'PODIUM',
    eventKey: randomUUID(),
    providerEventType: 'message.received',
    kind: 'RECEIVED',
    status: 'PROCESSED',
    reason: null,
    message: message(),
    rawBody: '{"metadata":{"eventType":"message.received"},"data":{"body":"Hello"}}',
    receivedAt: '2025-03-04T05:06:08.123Z',
    ...overrides,
  };
}

function webhook(overrides: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    provider: 'PODIUM',
    id: 'wh-1',
    url: 'https://gateway.example.com/webhooks/podium',
    eventTypes: ['message.received', 'message.sent'],
    locationId: 'loc-1',
    organizationId: 'org-1',
    disabled: false,
    secret: 's3cr3t-value',
    editable: true,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: null,
    ...overrides,
  };
}

/** A localhost port with nothing listening on it. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('Expected a TCP address');
  return address.port;
}

const ids = (events: readonly StoredEvent[]): string[] => events.map((event) => event.id);

describe.each([
  { name: 'memory', open: openMemoryStore },
  { name: 'MongoDB', open: (now?: () => number) => openMongoStore(undefined, now) },
])('$name event store', ({ open }) => {
  it('stores a new event with an id, unpublished, exactly as given', async () => {
    const store = open();
    const input = newEvent();

    const { inserted, event } = await store.insertEvent(input);

    expect(inserted).toBe(true);
    expect(event).toEqual({ ...input, id: expect.any(String), published: false });
    expect(await store.getEvent(event.id)).toEqual(event);
    expect(await store.getEvent(newEventId())).toBeNull();
  });

  it('answers a redelivery with the original event and stores nothing new', async () => {
    const store = open();
    const first = await store.insertEvent(newEvent({ eventKey: 'delivery-1', rawBody: '{"attempt":1}' }));

    const again = await store.insertEvent(newEvent({ eventKey: 'delivery-1', rawBody: '{"attempt":2}' }));

    expect(again).toEqual({ inserted: false, event: first.event });
    expect(ids(await store.listEvents({}, { limit: 10, before: null }))).toEqual([first.event.id]);
  });

  it('treats the same event key from another provider as a different event', async () => {
    const store = open();
    const podium = await store.insertEvent(newEvent({ eventKey: 'shared-key' }));
    const smooch = await store.insertEvent(newEvent({ provider: 'SMOOCH', eventKey: 'shared-key' }));

    expect(smooch.inserted).toBe(true);
    expect(smooch.event.id).not.toBe(podium.event.id);
  });

  it('stores exactly one of five concurrent duplicate deliveries', async () => {
    const store = open();
    const delivery = newEvent({ eventKey: 'raced' });

    const results = await Promise.all(Array.from({ length: 5 }, () => store.insertEvent(delivery)));

    expect(results.filter((result) => result.inserted)).toHaveLength(1);
    expect(new Set(results.map((result) => result.event.id)).size).toBe(1);
    expect(await store.listEvents({}, { limit: 10, before: null })).toHaveLength(1);
  });

  it('lets exactly one caller claim an event for publishing', async () => {
    const store = open();
    const { event } = await store.insertEvent(newEvent());

    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimPublish(event.id)));

    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claimPublish(event.id)).toBe(false);
    // A claim is not a publish: the event stays offered to the outbox until marked.
    expect((await store.getEvent(event.id))?.published).toBe(false);
    await store.markPublished([event.id]);
    expect((await store.getEvent(event.id))?.published).toBe(true);
    expect(await store.claimPublish(event.id, { takeOverAfterMs: 0 })).toBe(false);
    expect(await store.claimPublish(newEventId())).toBe(false);
  });

  it('lets exactly one caller take over an abandoned claim, and none a fresh one', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const store = open(() => clock);
    const { event } = await store.insertEvent(newEvent());
    expect(await store.claimPublish(event.id)).toBe(true);
    expect(await store.claimPublish(event.id, { takeOverAfterMs: 60_000 })).toBe(false);
    clock += 61_000;

    // The winner's claim is fresh, so the others (concurrent or not) find it held.
    const takeovers = await Promise.all(Array.from({ length: 5 }, () => store.claimPublish(event.id, { takeOverAfterMs: 60_000 })));

    expect(takeovers.filter(Boolean)).toHaveLength(1);
    // A redelivery still sees it unpublished: the outbox, not the provider, finishes the job.
    expect((await store.insertEvent(newEvent({ eventKey: event.eventKey }))).event.published).toBe(false);
  });

  it('holds the claim of an event claimed in its insert until its lease runs out, then lets exactly one caller take over', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const store = open(() => clock);
    const [claimed] = await store.insertEvents([newEvent()], { claimForPublish: true });
    const { event } = claimed!;
    expect(await store.claimPublish(event.id)).toBe(false);
    expect(await store.claimPublish(event.id, { takeOverAfterMs: 60_000 })).toBe(false);
    clock += 61_000;
    const takeovers = await Promise.all(Array.from({ length: 5 }, () => store.claimPublish(event.id, { takeOverAfterMs: 60_000 })));
    expect(takeovers.filter(Boolean)).toHaveLength(1);
    // Without the option nothing is claimed: the first caller gets it.
    const { event: plain } = await store.insertEvent(newEvent());
    expect(await store.claimPublish(plain.id)).toBe(true);
  });

  it('offers processed, unpublished events oldest first within bounds, and forgets published ones', async () => {
    const store = open();
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) ids.push((await store.insertEvent(newEvent())).event.id);
    await store.insertEvent(newEvent({ status: 'UNPROCESSABLE', kind: null, message: null, reason: 'no' }));
    await store.markPublished([ids[1]!]);

    const all = await store.scanUnpublished({ limit: 10, after: null, before: 'g' });
    expect(all.events.map((e) => e.id)).toEqual([ids[0], ids[2], ids[3]]);
    expect(all.scannedTo).toBeNull();
    // A full page may have more after it: the scan says where it stopped.
    const page = await store.scanUnpublished({ limit: 2, after: ids[0]!, before: 'g' });
    expect(page.events.map((e) => e.id)).toEqual([ids[2]]);
    expect(page.scannedTo).toBe(ids[2]);
  });

  it('replays events after an id, oldest first, filtered', async () => {
    const store = open();
    const ids: string[] = [];
    for (const provider of ['PODIUM', 'SMOOCH', 'PODIUM', 'PODIUM'] as const) ids.push((await store.insertEvent(newEvent({ provider }))).event.id);

    const after = await store.listEventsAfter({ provider: 'PODIUM' }, { limit: 10, after: ids[0]! });
    expect(after.map((e) => e.id)).toEqual([ids[2], ids[3]]);
    expect((await store.listEventsAfter({}, { limit: 1, after: ids[1]! })).map((e) => e.id)).toEqual([ids[2]]);
  });

  it('keeps one raw body for the events of one delivery and deletes past the retention', async () => {
    const store = open();
    const rawBody = JSON.stringify({ events: Array.from({ length: 3 }, (_, i) => ({ id: `e${i}` })) });
    const results = await store.insertEvents(['a', 'b', 'c'].map((eventKey) => newEvent({ eventKey, rawBody })));
    expect(results.every((r) => r.inserted && r.event.rawBody === rawBody)).toBe(true);
    expect((await store.getEvent(results[2]!.event.id))?.rawBody).toBe(rawBody);
    expect((await store.listEvents({}, { limit: 5, before: null })).map((e) => e.rawBody)).toEqual([rawBody, rawBody, rawBody]);

    expect(await store.deleteEventsBefore(results[1]!.event.id)).toBe(1);
    expect(await store.getEvent(results[0]!.event.id)).toBeNull();
    expect((await store.getEvent(results[1]!.event.id))?.rawBody).toBe(rawBody);
  });

  it('lists events newest first, filtered by provider, status, kind and conversation', async () => {
    const store = open();
    const insert = async (overrides: Partial<NewEvent>): Promise<string> => (await store.insertEvent(newEvent(overrides))).event.id;
    const a = await insert({ provider: 'PODIUM', kind: 'RECEIVED', message: message({ conversationId: 'c1' }) });
    const b = await insert({ provider: 'SMOOCH', kind: 'SENT', message: message({ provider: 'SMOOCH', conversationId: 'c2' }) });
    const c = await insert({ provider: 'PODIUM', kind: 'FAILED', message: message({ conversationId: 'c2' }) });
    const d = await insert({ provider: 'PODIUM', kind: null, status: 'UNPROCESSABLE', reason: 'unknown event type', message: null });
    const e = await insert({ provider: 'LEADCONNECTOR', kind: 'RECEIVED', message: message({ provider: 'LEADCONNECTOR', conversationId: 'c1' }) });
    const all = { limit: 50, before: null };

    expect([a, b, c, d, e]).toEqual([a, b, c, d, e].sort());
    expect(ids(await store.listEvents({}, all))).toEqual([e, d, c, b, a]);
    expect(ids(await store.listEvents({ provider: 'PODIUM' }, all))).toEqual([d, c, a]);
    expect(ids(await store.listEvents({ status: 'UNPROCESSABLE' }, all))).toEqual([d]);
    expect(ids(await store.listEvents({ kind: 'RECEIVED' }, all))).toEqual([e, a]);
    expect(ids(await store.listEvents({ conversationId: 'c2' }, all))).toEqual([c, b]);
    expect(ids(await store.listEvents({ provider: 'PODIUM', conversationId: 'c1' }, all))).toEqual([a]);
    expect(ids(await store.listEvents({ provider: null, status: null, kind: null, conversationId: null }, all))).toEqual([e, d, c, b, a]);
    expect(await store.listEvents({ conversationId: 'nowhere' }, all)).toEqual([]);
  });

  it('pages newest first with an exclusive `before` cursor', async () => {
    const store = open();
    const inserted: string[] = [];
    for (let i = 0; i < 5; i += 1) inserted.push((await store.insertEvent(newEvent())).event.id);

    const first = ids(await store.listEvents({}, { limit: 2, before: null }));
    const second = ids(await store.listEvents({}, { limit: 2, before: first.at(-1) ?? null }));
    const third = ids(await store.listEvents({}, { limit: 2, before: second.at(-1) ?? null }));

    expect([first, second, third]).toEqual([inserted.slice(3).reverse(), inserted.slice(1, 3).reverse(), [inserted[0]]]);
    expect(await store.listEvents({}, { limit: 0, before: null })).toEqual([]);
    expect(await store.listEvents({}, { limit: 2, before: inserted[0] ?? null })).toEqual([]);
  });

  it('mirrors webhook subscriptions per provider, secrets included', async () => {
    const store = open();
    await store.saveWebhook(webhook({ id: 'wh-2', secret: null, disabled: true }));
    await store.saveWebhook(webhook({ id: 'wh-1' }));
    await store.saveWebhook(webhook({ provider: 'SMOOCH', id: 'wh-1', secret: 'smooch-secret', editable: false }));

    expect(await store.getWebhook('PODIUM', 'wh-1')).toEqual(webhook({ id: 'wh-1' }));
    expect((await store.getWebhook('SMOOCH', 'wh-1'))?.secret).toBe('smooch-secret');
    expect(await store.getWebhook('LEADCONNECTOR', 'wh-1')).toBeNull();
    expect(await store.listWebhooks('PODIUM')).toEqual([webhook({ id: 'wh-1' }), webhook({ id: 'wh-2', secret: null, disabled: true })]);
    expect(await store.listWebhooks('LEADCONNECTOR')).toEqual([]);
  });

  it('replaces a saved webhook on save and forgets it on delete', async () => {
    const store = open();
    await store.saveWebhook(webhook());
    const updated = webhook({ url: 'https://new.example.com/hook', eventTypes: ['message.failed'], secret: 'rotated', updatedAt: '2025-02-02T00:00:00.000Z' });

    await store.saveWebhook(updated);
    expect(await store.listWebhooks('PODIUM')).toEqual([updated]);

    await store.deleteWebhook('PODIUM', 'wh-1');
    await store.deleteWebhook('PODIUM', 'never-existed');
    expect(await store.getWebhook('PODIUM', 'wh-1')).toBeNull();
    expect(await store.listWebhooks('PODIUM')).toEqual([]);
  });

  it('answers ping', async () => {
    const store = open();
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('MongoDB event store specifics', () => {
  it('stores an event as a document keyed by its id, with a unique (provider, eventKey) index', async () => {
    const db = freshDbName();
    const store = openMongoStore(db);
    const input = newEvent({ eventKey: 'doc-shape' });

    const { event } = await store.insertEvent(input);

    const events = adminClient().db(db).collection<{ _id: string }>('events');
    expect(await events.findOne({ _id: event.id })).toEqual({
      _id: event.id,
      provider: 'PODIUM',
      eventKey: 'doc-shape',
      providerEventType: input.providerEventType,
      kind: input.kind,
      status: input.status,
      reason: null,
      message: input.message,
      rawBody: input.rawBody,
      receivedAt: input.receivedAt,
      receivedAtDate: new Date(input.receivedAt),
    });
    const indexes = await events.indexes();
    expect(indexes).toContainEqual(expect.objectContaining({ key: { provider: 1, eventKey: 1 }, unique: true }));
    await expect(events.insertOne({ ...input, _id: newEventId() })).rejects.toMatchObject({ code: 11000 });
  });

  it('starts on an existing database, twice at once, creating each index once and serving both', async () => {
    const db = freshDbName();
    const first = openMongoStore(db);
    await first.insertEvent(newEvent({ eventKey: 'before-restart' }));
    await first.close();

    // A restart and a second instance: both find the indexes (or create the missing ones) and serve.
    const [a, b] = [createMongoStore({ url: inject('mongodbUrl'), db }), createMongoStore({ url: inject('mongodbUrl'), db })];
    onTestFinished(() => Promise.all([a.close(), b.close()]).then(() => undefined));
    await Promise.all([a.ping(), b.ping()]);
    await Promise.all([a.insertEvent(newEvent({ eventKey: 'from-a' })), b.insertEvent(newEvent({ eventKey: 'from-b' }))]);
    expect((await a.insertEvent(newEvent({ eventKey: 'before-restart' }))).inserted).toBe(false);

    const names = (await adminClient().db(db).collection('events').indexes()).map((i) => i.name).sort();
    expect(names).toEqual(['_id_', 'conversation_id_desc', 'provider_eventKey_unique', 'provider_id_desc']);
  });

  it('is not ready while an index cannot be created, and says which', async () => {
    const db = freshDbName();
    // An index of the same name with other keys, as an old deployment might have left.
    await adminClient().db(db).collection('events').createIndex({ eventKey: 1 }, { name: 'provider_id_desc' });
    const store = openMongoStore(db);

    await expect(store.ping()).rejects.toThrow(/provider_id_desc on events exists with another definition/);
    await expect(store.insertEvent(newEvent())).rejects.toThrow(/provider_id_desc/);
  });

  it('never shows the password of its URL in an error', async () => {
    const store = createMongoStore({ url: `mongodb://gateway:s3cret-pw@127.0.0.1:${await unusedPort()}/`, db: 'x', serverSelectionTimeoutMs: 300 });
    onTestFinished(() => store.close());
    const error = await store.ping().then(() => null, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).not.toContain('s3cret-pw');
  });

  it('records a publish as a claim document, read back as the event\'s published flag', async () => {
    const db = freshDbName();
    const store = openMongoStore(db);
    const { event } = await store.insertEvent(newEvent());
    const claims = adminClient().db(db).collection<{ _id: string }>('publish_claims');
    const events = adminClient().db(db).collection<{ _id: string }>('events');

    await store.claimPublish(event.id);
    expect(await claims.findOne({ _id: event.id })).toEqual({ _id: event.id, event: event.id, attempt: 0, claimedAt: expect.any(Date) });
    expect((await store.getEvent(event.id))?.published).toBe(false);
    await store.claimPublish(event.id, { takeOverAfterMs: 0 });
    expect(await claims.findOne({ _id: `${event.id}:1` })).toMatchObject({ event: event.id, attempt: 1 });

    // Published is an insert of its own, never an update of the event.
    await store.markPublished([event.id]);
    await store.markPublished([event.id]);
    expect(await adminClient().db(db).collection('published_events').find({}).toArray()).toEqual([{ _id: event.id }]);
    expect(await events.findOne({ _id: event.id })).not.toHaveProperty('published');
    expect((await store.listEvents({}, { limit: 5, before: null }))[0]?.published).toBe(true);

    // Events published before the outbox have only a claim without `event`: read as published, never taken over.
    const legacyId = newEventId();
    await events.insertOne({ ...(await events.findOne({ _id: event.id }))!, _id: legacyId, eventKey: 'legacy' } as never);
    expect((await store.getEvent(legacyId))?.published).toBe(false);
    await claims.insertOne({ _id: legacyId, claimedAt: new Date(0) } as never);
    expect((await store.getEvent(legacyId))?.published).toBe(true);
    expect(await store.claimPublish(legacyId, { takeOverAfterMs: 0 })).toBe(false);

    await store.claimPublish(newEventId());
    expect(await claims.countDocuments()).toBe(3);
  });

  it('stores webhooks under `<provider>:<id>`', async () => {
    const db = freshDbName();
    const store = openMongoStore(db);

    await store.saveWebhook(webhook({ provider: 'SMOOCH', id: 'abc' }));

    const stored = await adminClient().db(db).collection<{ _id: string }>('webhooks').findOne({ _id: 'SMOOCH:abc' });
    expect(stored).toMatchObject({ provider: 'SMOOCH', id: 'abc', secret: 's3cr3t-value' });
  });

  it('is created without a reachable server and rejects operations when none answers', async () => {
    const store = createMongoStore({ url: `mongodb://127.0.0.1:${await unusedPort()}/`, db: 'unreachable', serverSelectionTimeoutMs: 200 });
    onTestFinished(() => store.close());

    await expect(store.insertEvent(newEvent())).rejects.toThrow();
    // The failed index creation is retried, so later calls fail the same way rather than hang.
    await expect(store.listEvents({}, { limit: 1, before: null })).rejects.toThrow();
    await expect(store.ping()).rejects.toThrow();
  });
});

describe('createStore', () => {
  it('uses the embedded store when no MongoDB URL is configured and MongoDB otherwise', async () => {
    const memory = createStore({ mongodbUrl: null, mongodbDb: 'unused' });
    onTestFinished(() => memory.close());
    await memory.saveWebhook(webhook());
    expect(await memory.listWebhooks('PODIUM')).toHaveLength(1);

    const db = freshDbName();
    const mongo = createStore({ mongodbUrl: inject('mongodbUrl'), mongodbDb: db });
    onTestFinished(async () => {
      await mongo.close();
      await adminClient().db(db).dropDatabase();
    });
    await mongo.saveWebhook(webhook());
    expect(await adminClient().db(db).collection('webhooks').countDocuments()).toBe(1);
  });
});

describe('newEventId', () => {
  it('returns fixed-width ids that sort in creation order', () => {
    const generated = Array.from({ length: 10_000 }, () => newEventId());

    expect(new Set(generated.map((id) => id.length))).toEqual(new Set([28]));
    expect(generated.every((id) => /^[0-9a-f]+$/.test(id))).toBe(true);
    expect([...generated].sort()).toEqual(generated);
    expect(new Set(generated).size).toBe(generated.length);
  });
});
