// The outbound store contract, run against both adapters (in memory, and
// MongoDB on FerretDB): one claim per (account, key), updates only from the
// statuses given and under the lease, lookups by provider message, and
// expiry after the key's TTL (reads ignore it at once, the sweep deletes it).
import pino from 'pino';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { createOutboundBus } from '../src/outbound/bus.js';
import { createDispatcher } from '../src/outbound/dispatch.js';
import type { MessageSender } from '../src/providers/sender.js';
import { createMemoryOutboundStore } from '../src/outbound/memory-store.js';
import { openMongoOutboundStore } from '../src/outbound/mongo-store.js';
import { nextSeq } from '../src/outbound/seq.js';
import type { OutboundRecord, OutboundStore } from '../src/outbound/types.js';
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

    now += TTL + 1;
    expect(await store.get(first.id)).toBeNull();
    expect(await store.findByKey('PODIUM:env', 'k1')).toBeNull();
    // The key is free again after its TTL.
    const later = record('c'.repeat(24), 'k1', now);
    expect(await store.claim(later)).toEqual({ inserted: true, record: later });
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
});
