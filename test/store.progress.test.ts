// One write per webhook event: an event claimed in its insert is recorded as
// published by its store's publish progress (one document per store), not by a
// write per event, and what a store held but never published (it died, or its
// publish never started) is still offered to every other instance's outbox.
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { idFloor } from '../src/events/cursor.js';
import { newEventId } from '../src/events/event-id.js';
import { createMongoStore, type MongoStoreOptions } from '../src/events/store/mongo.js';
import type { EventStore, NewEvent } from '../src/events/types.js';

let admin: MongoClient | null = null;
function adminClient(): MongoClient {
  admin ??= new MongoClient(inject('mongodbUrl'), { serverSelectionTimeoutMS: 5_000 });
  return admin;
}
afterAll(async () => {
  await admin?.close();
});

function openStore(db: string, options: Partial<MongoStoreOptions> = {}): EventStore {
  const store = createMongoStore({ url: inject('mongodbUrl'), db, ...options } as MongoStoreOptions);
  onTestFinished(() => store.close());
  return store;
}

function freshDb(): string {
  const db = `gateway_test_${randomUUID().replaceAll('-', '')}`;
  onTestFinished(async () => {
    await adminClient().db(db).dropDatabase();
  });
  return db;
}

function newEvent(eventKey = `uid:${randomUUID()}`): NewEvent {
  const receivedAt = new Date().toISOString();
  return {
    provider: 'PODIUM',
    eventKey,
    providerEventType: 'message.received',
    kind: 'RECEIVED',
    status: 'PROCESSED',
    reason: null,
    message: { provider: 'PODIUM', id: `m-${eventKey}`, conversationId: 'conv-1', contactRef: 'c-1', locationId: null, direction: 'INBOUND', status: 'RECEIVED', channel: 'SMS', body: 'hi', attachments: [], email: null, sender: { kind: 'CONTACT', contactRef: 'c-1', name: 'Ana' }, failureReason: null, callDurationSeconds: null, createdAt: receivedAt },
    rawBody: JSON.stringify({ eventKey }),
    receivedAt,
  };
}

describe('the publish progress of the MongoDB store', () => {
  it('records the publishes of events claimed in their inserts without a document per event, as every instance reads them', async () => {
    const db = freshDb();
    const a = openStore(db);
    const other = openStore(db);
    const results = await a.insertEvents([newEvent(), newEvent(), newEvent()], { claimForPublish: true });
    const ids = results.map((r) => r.event.id);
    expect((await other.scanUnpublished({ limit: 10, after: null, before: 'g' })).events.map((e) => e.id)).toEqual(ids);

    await a.markPublished(ids.slice(0, 2));

    expect(await adminClient().db(db).collection('published_events').countDocuments()).toBe(0);
    expect(await adminClient().db(db).collection('publish_progress').countDocuments()).toBe(1);
    expect([...(await other.publishedAmong(ids))].sort()).toEqual(ids.slice(0, 2).sort());
    expect((await other.scanUnpublished({ limit: 10, after: null, before: 'g' })).events.map((e) => e.id)).toEqual([ids[2]]);
    expect((await other.getEvent(ids[0]!))?.published).toBe(true);
    // Another store's publish of an event it did not claim is a mark of its own.
    await other.markPublished([ids[2]!]);
    expect(await adminClient().db(db).collection('published_events').find({}).toArray()).toEqual([{ _id: ids[2] }]);
  });

  it('offers what a store held but never published once the hold ran out, while later publishes still count', async () => {
    const db = freshDb();
    const a = openStore(db, { publishProgress: { intervalMs: 10, holdMs: 100 } });
    const other = openStore(db);
    // The first event's publish never starts (an after-stored hook rejected); the second is published.
    const [stuck, done] = await a.insertEvents([newEvent(), newEvent()], { claimForPublish: true });
    await new Promise((resolve) => setTimeout(resolve, 250));
    await a.markPublished([done!.event.id]);

    expect([...(await other.publishedAmong([stuck!.event.id, done!.event.id]))]).toEqual([done!.event.id]);
    expect(await other.claimPublish(stuck!.event.id, { takeOverAfterMs: 0 })).toBe(true);
    // Published late by its holder after all: recorded as such.
    await a.markPublished([stuck!.event.id]);
    expect((await other.getEvent(stuck!.event.id))?.published).toBe(true);
  });

  it('leaves what a store that died before recording its publishes held to the other instances', async () => {
    const db = freshDb();
    const dead = createMongoStore({ url: inject('mongodbUrl'), db });
    const [event] = await dead.insertEvents([newEvent()], { claimForPublish: true });
    // Killed: nothing is flushed.
    const other = openStore(db);

    expect((await other.scanUnpublished({ limit: 10, after: null, before: 'g' })).events.map((e) => e.id)).toEqual([event!.event.id]);
    expect(await other.claimPublish(event!.event.id, { takeOverAfterMs: 0 })).toBe(true);
    await other.markPublished([event!.event.id]);
    expect((await other.getEvent(event!.event.id))?.published).toBe(true);
    await dead.close();
  });

  it('reads its own publish as published before its progress document is written, and other stores once it is', async () => {
    const db = freshDb();
    const a = openStore(db, { publishProgress: { intervalMs: 60_000, holdMs: 120_000 } });
    const other = openStore(db);
    const [first, second] = await a.insertEvents([newEvent(), newEvent()], { claimForPublish: true });
    await a.markPublished([first!.event.id]);
    // The next write waits out the interval.
    const recorded = a.markPublished([second!.event.id]);

    expect((await a.getEvent(second!.event.id))?.published).toBe(true);
    expect((await other.getEvent(second!.event.id))?.published).toBe(false);
    expect((await other.getEvent(first!.event.id))?.published).toBe(true);
    // Closing writes what is left.
    await a.close();
    await recorded.catch(() => undefined);
    expect((await other.getEvent(second!.event.id))?.published).toBe(true);
  });

  it('detects a duplicate from the insert alone and releases its hold', async () => {
    const db = freshDb();
    const a = openStore(db, { publishProgress: { intervalMs: 10, holdMs: 60_000 } });
    const key = `uid:${randomUUID()}`;
    const [first] = await a.insertEvents([newEvent(key)], { claimForPublish: true });
    const [again] = await a.insertEvents([newEvent(key)], { claimForPublish: true });
    expect(again).toMatchObject({ inserted: false, event: { id: first!.event.id } });
    await a.markPublished([first!.event.id]);
    // Nothing else is held: the progress passes every id made so far.
    expect((await a.getEvent(first!.event.id))?.published).toBe(true);
    expect(await adminClient().db(db).collection('events').countDocuments()).toBe(1);
  });

  // An event no progress document accounts for (inserted behind the stores' back): seen by a scan of `events`, never by the progress alone.
  async function insertGhost(db: string, id: string): Promise<void> {
    const event = newEvent();
    const { rawBody, ...fields } = event;
    await adminClient().db(db).collection<{ _id: string } & Record<string, unknown>>('events').insertOne({ _id: id, ...fields, rawBody, receivedAtDate: new Date(event.receivedAt) });
  }
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  it('answers a range every progress document has passed from those documents alone, without scanning the events', async () => {
    const db = freshDb();
    const a = openStore(db);
    const other = openStore(db);
    const [published] = await a.insertEvents([newEvent()], { claimForPublish: true });
    const ghost = newEventId();
    const before = newEventId();
    await insertGhost(db, ghost);
    // The write that records it comes after `before`: this holder has nothing unpublished below it.
    await a.markPublished([published!.event.id]);

    expect((await other.scanUnpublished({ limit: 10, after: null, before })).events).toEqual([]);
    // Up to the newest ids, this holder's document no longer rules everything out: the range is scanned.
    expect((await other.scanUnpublished({ limit: 10, after: null, before: 'g' })).events.map((e) => e.id)).toEqual([ghost]);
  });

  it('scans up to the bound a holder that died wrote before its inserts, and no further', async () => {
    const db = freshDb();
    const dead = createMongoStore({ url: inject('mongodbUrl'), db, publishProgress: { intervalMs: 10, heartbeatMs: 20 } });
    const [left] = await dead.insertEvents([newEvent()], { claimForPublish: true });
    // Killed: nothing is flushed, and its bound is 5 heartbeats (100 ms) ahead of its last write.
    const other = openStore(db);
    expect((await other.scanUnpublished({ limit: 10, after: null, before: 'g' })).events.map((e) => e.id)).toEqual([left!.event.id]);
    const past = Date.now() + 10_000;
    const ghost = idFloor(past + 1).slice(0, 12) + '0'.repeat(15) + '1';
    await insertGhost(db, ghost);
    expect((await other.scanUnpublished({ limit: 10, after: idFloor(past), before: 'g' })).events).toEqual([]);
    await dead.close();
  });

  it('keeps the range of a processed event inserted without a claim open until its publish is marked', async () => {
    const db = freshDb();
    const a = openStore(db, { publishProgress: { intervalMs: 10, heartbeatMs: 20 } });
    const other = openStore(db);
    const { event } = await a.insertEvent(newEvent());
    const before = newEventId();
    // Heartbeats are written meanwhile; without the event they would pass `before`.
    await sleep(100);
    expect((await other.scanUnpublished({ limit: 10, after: null, before })).events.map((e) => e.id)).toEqual([event.id]);

    await a.markPublished([event.id]);
    expect(await adminClient().db(db).collection('published_events').countDocuments()).toBe(1);
    await sleep(100);
    expect((await other.scanUnpublished({ limit: 10, after: null, before })).events).toEqual([]);
  });
});
