// The outbound store contract, run against both adapters (in memory, and
// MongoDB on FerretDB): one claim per (account, key), updates only from the
// statuses given and under the lease, lookups by provider message, the queue
// of unsettled sends, early webhook reports, and expiry after the key's TTL
// (reads ignore it at once, the sweep deletes it). Then the MongoDB adapter's
// side collections (every hot path there is a lookup by _id): stale, lagging
// and lost entries of unsettled sends, links and their expiry.
import type { Db, Document } from 'mongodb';
import pino from 'pino';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { createOutboundBus } from '../src/outbound/bus.js';
import { createDispatcher } from '../src/outbound/dispatch.js';
import type { MessageSender } from '../src/providers/sender.js';
import { createMemoryOutboundStore } from '../src/outbound/memory-store.js';
import { createMongoOutboundStore, openMongoOutboundStore } from '../src/outbound/mongo-store.js';
import { openMongoDatabase } from '../src/infra/clients.js';
import { nextSeq } from '../src/outbound/seq.js';
import { OBSERVATION_TTL_MS, type OutboundRecord, type OutboundStore } from '../src/outbound/types.js';
import { mongoTestDb } from './helpers/gateway.js';

const TTL = 60_000;

function record(id: string, key: string, at: number): OutboundRecord {
  return {
    id, provider: 'PODIUM', account: 'env', scope: 'PODIUM:env', idempotencyKey: key, inputHash: `h-${key}`,
    target: { conversationId: 'c1', contactRef: null, contactName: null, channel: 'SMS', address: '+18015550000', locationId: null },
    body: 'hi', subject: null, attachments: [], status: 'QUEUED', failureReason: null, messageId: null, conversationId: 'c1',
    queuedUntil: null, dueAt: at, attempts: 0, firstAttemptAt: null, createdAt: new Date(at).toISOString(), updatedAt: new Date(at).toISOString(),
    seq: nextSeq(at), expiresAt: at + TTL,
  };
}

const adapters: ReadonlyArray<[string, (now: () => number) => OutboundStore]> = [
  ['memory', (now) => createMemoryOutboundStore(now)],
  ['mongodb', (now) => openMongoOutboundStore(inject('mongodbUrl'), mongoTestDb().db, now)],
];

describe.each(adapters)('the outbound store (%s)', (_name, create) => {
  it('claims a key once, updates under its guards, finds sends by message, and expires them', async () => {
    let now = Date.now();
    const store = create(() => now);
    onTestFinished(() => store.close());
    const first = record('a'.repeat(24), 'k1', now);
    expect(await store.claim(first)).toEqual({ inserted: true, record: first });
    const again = await store.claim(record('b'.repeat(24), 'k1', now));
    expect(again).toMatchObject({ inserted: false, record: { id: first.id } });

    // One attempt per due time, however many race for it.
    const LEASE = 1_000;
    const takes = await Promise.all(Array.from({ length: 8 }, () => store.takeAttempt(first, LEASE)));
    expect(takes.filter(Boolean)).toHaveLength(1);
    expect(await store.takeAttempt({ ...first, dueAt: now + 1 }, LEASE)).toBe(true);
    // Held less than a lease: nobody else takes it, however long the send has been due.
    const taken = now;
    now += LEASE - 1;
    expect(await store.takeAttempt(first, LEASE)).toBe(false);
    // A taker that died before moving the send frees it a lease later, to exactly one of the racers.
    now = taken + LEASE;
    const retakes = await Promise.all(Array.from({ length: 8 }, () => store.takeAttempt(first, LEASE)));
    expect(retakes.filter(Boolean)).toHaveLength(1);
    expect(await store.takeAttempt(first, LEASE)).toBe(false);
    now = taken;
    expect(await store.update(first.id, ['SENDING'], { status: 'SENT' })).toBeNull();
    expect(await store.update(first.id, ['QUEUED'], { status: 'SENDING' }, { dueAt: now + 1 })).toBeNull();
    const leased = await store.update(first.id, ['QUEUED'], { status: 'SENDING', dueAt: now + 5_000 }, { dueAt: now });
    expect(leased).toMatchObject({ status: 'SENDING', dueAt: now + 5_000 });
    expect(leased!.seq > first.seq).toBe(true);
    await store.update(first.id, ['SENDING'], { status: 'SENT', messageId: 'c1/m1', dueAt: null });
    expect(await store.findByMessage('PODIUM', 'env', 'c1/m1')).toMatchObject({ id: first.id, status: 'SENT' });
    expect((await store.findByMessages('PODIUM', 'env', ['c1/m1', 'c1/m2'])).map((r) => r.id)).toEqual([first.id]);
    expect(await store.findByMessage('PODIUM', 'stored-account', 'c1/m1')).toBeNull();
    expect((await store.changedAfter(first.seq, { scopes: ['PODIUM:env'] }, 10)).map((r) => r.status)).toEqual(['SENT']);

    expect(await store.announce(leased!, 'e-1')).toBe('e-1');
    expect(await store.announce(leased!, 'e-2')).toBe('e-1');

    now += TTL + 1;
    expect(await store.get(first.id)).toBeNull();
    expect(await store.findByKey('PODIUM:env', 'k1')).toBeNull();
    // The key is free again after its TTL: a new send (the same id, derived from the key) that inherits nothing of the old one.
    const later = record(first.id, 'k1', now);
    expect(await store.claim(later)).toEqual({ inserted: true, record: later });
    expect(await store.announce(later, 'e-3')).toBe('e-3');
    expect(await store.takeAttempt(later, LEASE)).toBe(true);
    now += TTL + 1;
    expect(await store.sweep(now)).toBeGreaterThanOrEqual(1);
    expect(await store.get(later.id)).toBeNull();
  });

  it('lets one of two instances send a long-due send, even when their clocks straddle a lease boundary', async () => {
    const LEASE = 10_000;
    const t = Date.now();
    const store = create(() => t);
    onTestFinished(() => store.close());
    let upstream = 0;
    const sender: MessageSender = {
      channels: ['SMS'], maxBodyLength: () => 1_600, needsAddress: () => true, carriesAttachments: () => false, carriesSubject: () => false,
      async send() {
        upstream++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { messageId: `c1/m${upstream}`, conversationId: 'c1' };
      },
      findSent: async () => null,
    };
    // Due almost a lease ago on one instance's clock, a little more than a lease ago on the other's.
    const due = record('d'.repeat(24), 'k-due', t - LEASE + 1);
    await store.claim(due);
    const instance = (clock: number) =>
      createDispatcher({ store, bus: createOutboundBus(null), logger: pino({ level: 'silent' }), senderFor: async () => sender, invalidate: async () => undefined, queueMaxMs: 600_000, leaseMs: LEASE, now: () => clock });
    const answers = await Promise.all([instance(t).attempt(due), instance(t + 2).attempt(due)]);
    expect(upstream).toBe(1);
    expect(answers.map((a) => a.status)).toContain('SENT');
    expect(await store.get(due.id)).toMatchObject({ status: 'SENT', messageId: 'c1/m1', attempts: 1 });
  });

  it('lets exactly one of racing claims take a key whose send expired, whatever a sweep does meanwhile', async () => {
    let now = Date.now();
    const store = create(() => now);
    onTestFinished(() => store.close());
    const old = record('e'.repeat(24), 'k-again', now);
    await store.claim(old);
    now += TTL + 1;
    // The same id (derived from the key), another input each.
    const racers = Array.from({ length: 6 }, (_, i) => ({ ...record(old.id, 'k-again', now), inputHash: `h-${i}` }));
    const [, ...claims] = await Promise.all([store.sweep(now), ...racers.map((r) => store.claim(r)), store.sweep(now)]);
    const winners = claims.filter((c) => typeof c !== 'number' && c.inserted);
    expect(winners).toHaveLength(1);
    const winner = (winners[0] as { record: OutboundRecord }).record;
    expect(claims.filter((c) => typeof c !== 'number').every((c) => c.record.inputHash === winner.inputHash)).toBe(true);
    expect(await store.get(old.id)).toMatchObject({ inputHash: winner.inputHash, createdAt: winner.createdAt });
    expect((await store.due(now, 10)).map((r) => r.inputHash)).toEqual([winner.inputHash]);
  });

  it('keeps an entry for each unsettled send: due when its turn comes, gone once it settles, and counted in the queue', async () => {
    let now = Date.now();
    const store = create(() => now);
    onTestFinished(() => store.close());
    const queued = record('1'.repeat(24), 'k-q', now);
    const later = { ...record('2'.repeat(24), 'k-later', now + 1), dueAt: now + 1_000 };
    const other = { ...record('3'.repeat(24), 'k-other', now + 2), target: { ...queued.target, conversationId: 'c2' }, conversationId: 'c2', dueAt: now + 30_000 };
    for (const r of [queued, later, other]) await store.claim(r);
    expect((await store.due(now, 10)).map((r) => r.id)).toEqual([queued.id]);
    expect(await store.queuedBefore(later)).toBe(1);
    expect(await store.queuedBefore(queued)).toBe(0);
    expect(await store.queuedBefore(other)).toBe(0);
    expect(await store.queueStats()).toEqual({ depth: 3, oldest: Date.parse(queued.createdAt) });

    // Leased: SENDING, due again only when the lease runs out (an interrupted attempt).
    await store.update(queued.id, ['QUEUED'], { status: 'SENDING', dueAt: now + 5_000 }, { dueAt: now });
    now += 1_000;
    expect((await store.due(now, 10)).map((r) => r.id)).toEqual([later.id]);
    expect(await store.queuedBefore(later)).toBe(0);
    now += 4_000;
    expect((await store.due(now, 10)).map((r) => [r.id, r.status])).toEqual([[queued.id, 'SENDING'], [later.id, 'QUEUED']]);
    expect(await store.queueStats()).toEqual({ depth: 2, oldest: Date.parse(later.createdAt) });

    await store.update(queued.id, ['SENDING'], { status: 'SENT', messageId: 'c1/m1', dueAt: null });
    await store.update(later.id, ['QUEUED'], { status: 'FAILED', failureReason: 'no', dueAt: null });
    await store.update(other.id, ['QUEUED'], { dueAt: now + 60_000 });
    expect(await store.due(now + 1_000, 10)).toEqual([]);
    expect(await store.queueStats()).toEqual({ depth: 1, oldest: Date.parse(other.createdAt) });
    // Right after the update that names it, the message finds its send.
    expect(await store.findByMessage('PODIUM', 'env', 'c1/m1')).toMatchObject({ id: queued.id, status: 'SENT' });
    expect(await store.findByMessage('PODIUM', 'env', 'c1/m2')).toBeNull();
    expect(await store.findByMessage('LEADCONNECTOR', 'env', 'c1/m1')).toBeNull();
  });

  it('keeps every report about a message no send named yet, in order, for an hour', async () => {
    let now = Date.now();
    const store = create(() => now);
    onTestFinished(() => store.close());
    const report = (status: 'SENT' | 'DELIVERED' | 'READ', at: number) => ({ provider: 'PODIUM' as const, account: 'env', messageId: 'c1/m9', status, failureReason: null, at });
    await Promise.all([report('SENT', 1), report('DELIVERED', 2)].map((o) => store.observe(o)));
    await store.observe({ ...report('READ', 3), eventId: 'e-3' });
    await store.observe({ ...report('SENT', 4), messageId: 'c1/m10' });
    const seen = await store.observations('PODIUM', 'env', 'c1/m9');
    expect(seen.map((o) => o.status).sort()).toEqual(['DELIVERED', 'READ', 'SENT']);
    expect(seen.find((o) => o.status === 'READ')).toEqual({ ...report('READ', 3), eventId: 'e-3' });
    expect(await store.observations('PODIUM', 'other', 'c1/m9')).toEqual([]);
    now += OBSERVATION_TTL_MS + 1;
    expect(await store.observations('PODIUM', 'env', 'c1/m9')).toEqual([]);
    await store.sweep(now);
    expect(await store.observations('PODIUM', 'env', 'c1/m10')).toEqual([]);
    // A new report after the old ones were swept is found again.
    await store.observe({ ...report('SENT', 5), at: now });
    expect((await store.observations('PODIUM', 'env', 'c1/m9')).map((o) => o.status)).toEqual(['SENT']);
  });

  it('forgets an expired send everywhere: by key, by message, in the queue', async () => {
    let now = Date.now();
    const store = create(() => now);
    onTestFinished(() => store.close());
    const sent = record('4'.repeat(24), 'k-sent', now);
    const stuck = record('5'.repeat(24), 'k-stuck', now);
    await store.claim(sent);
    await store.claim(stuck);
    await store.update(sent.id, ['QUEUED'], { status: 'SENT', messageId: 'c1/m4', dueAt: null });
    now += TTL + 1;
    expect(await store.findByMessage('PODIUM', 'env', 'c1/m4')).toBeNull();
    expect(await store.findByMessages('PODIUM', 'env', ['c1/m4'])).toEqual([]);
    expect(await store.due(now, 10)).toEqual([]);
    expect(await store.queueStats()).toEqual({ depth: 0, oldest: null });
    expect(await store.sweep(now)).toBe(2);
    expect(await store.findByKey('PODIUM:env', 'k-stuck')).toBeNull();
  });
});

describe('the outbound store on MongoDB, its side collections', () => {
  function open(now: () => number): { store: OutboundStore; db: Db } {
    const { url, db: name } = mongoTestDb();
    const database = openMongoDatabase(url, name);
    const store = createMongoOutboundStore({ db: database.db, close: () => database.close() }, now);
    onTestFinished(() => store.close());
    return { store, db: database.db };
  }
  const entries = (db: Db): Promise<Document[]> => db.collection('outbound_active').find({}).toArray();

  it('drops an entry whose record is gone or settled, for good', async () => {
    const now = Date.now();
    const { store, db } = open(() => now);
    const settled = record('6'.repeat(24), 'k-settled', now);
    await store.claim(settled);
    await store.update(settled.id, ['QUEUED'], { status: 'SENT', dueAt: null });
    expect(await entries(db)).toEqual([]);
    // As a lost delete or a crash between the claim's two writes would leave them.
    const stale = { scope: 'PODIUM:env', conversationId: 'c1', createdAt: new Date(now).toISOString(), status: 'QUEUED', dueAt: now, expiresAt: now + TTL };
    await db.collection('outbound_active').insertMany([{ _id: settled.id, ...stale }, { _id: '7'.repeat(24), ...stale }] as unknown as Document[]);
    expect(await store.queuedBefore({ ...settled, createdAt: new Date(now + 1).toISOString() })).toBe(0);
    expect(await store.due(now, 10)).toEqual([]);
    expect(await entries(db)).toEqual([]);
    expect(await store.due(now, 10)).toEqual([]);
    expect(await store.queueStats()).toEqual({ depth: 0, oldest: null });
  });

  it('repairs an entry behind its record, and re-enters a send whose entry was lost at the next sweep', async () => {
    let now = Date.now();
    const { store, db } = open(() => now);
    const behind = record('8'.repeat(24), 'k-behind', now);
    const lost = record('9'.repeat(24), 'k-lost', now);
    await store.claim(behind);
    await store.claim(lost);
    // The record moved on (a lease), its entry did not: not due before the record says so, and put in step.
    await db.collection('outbound_messages').updateOne({ _id: behind.id } as Document, { $set: { status: 'SENDING', dueAt: now + 5_000 } });
    await db.collection('outbound_active').deleteOne({ _id: lost.id } as Document);
    expect(await store.due(now, 10)).toEqual([]);
    expect(await db.collection('outbound_active').findOne({ _id: behind.id } as Document)).toMatchObject({ status: 'SENDING', dueAt: now + 5_000 });
    await store.sweep(now);
    expect((await store.due(now, 10)).map((r) => r.id)).toEqual([lost.id]);
    now += 5_000;
    expect((await store.due(now, 10)).map((r) => r.id)).toEqual([behind.id, lost.id]);
  });

  it('links a message to its send, and expires the links, entries and observations with their sends', async () => {
    let now = Date.now();
    const { store, db } = open(() => now);
    const sent = record('a1'.repeat(12), 'k-link', now);
    await store.claim(sent);
    await store.update(sent.id, ['QUEUED'], { status: 'SENDING', dueAt: now + 1_000 });
    await store.update(sent.id, ['SENDING'], { status: 'SENT', messageId: 'c1/m7', dueAt: null });
    await store.claim(record('a2'.repeat(12), 'k-open', now));
    await store.observe({ provider: 'PODIUM', account: 'env', messageId: 'c1/m8', status: 'SENT', failureReason: null, at: now });
    expect((await store.findByMessages('PODIUM', 'env', ['c1/m7', 'c1/m7', 'c1/m8'])).map((r) => r.id)).toEqual([sent.id]);
    const sizes = async (): Promise<number[]> =>
      Promise.all(['outbound_messages', 'outbound_active', 'outbound_links', 'outbound_observations', 'outbound_attempts'].map((c) => db.collection(c).countDocuments({})));
    expect(await sizes()).toEqual([2, 1, 1, 1, 0]);
    await store.takeAttempt(sent, 1_000);
    now += Math.max(TTL, OBSERVATION_TTL_MS) + 1;
    expect(await store.sweep(now)).toBe(2);
    expect((await sizes()).slice(0, 4)).toEqual([0, 0, 0, 0]);
    // What says who deleted each record goes a minute later.
    now += 60_001;
    await store.sweep(now);
    expect(await sizes()).toEqual([0, 0, 0, 0, 0]);
  });
});
