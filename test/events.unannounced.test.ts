// The persist step's answer from its after-stored hooks: events a hook names
// unannounced (a send's repeated messageSent) stay stored but are marked
// published before the ingest, the outbox sweep or a replay could publish them.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createOutbox } from '../src/events/outbox.js';
import { createPersist } from '../src/events/persist.js';
import { createMemoryPubSub } from '../src/events/pubsub/memory.js';
import { createMemoryStore } from '../src/events/store/memory.js';
import type { PublishedEvent } from '../src/events/types.js';
import type { ParsedEvent } from '../src/providers/provider.js';

const logger = pino({ level: 'silent' });
const origin = { provider: 'LEADCONNECTOR' as const, rawBody: '{"a":1}', receivedAt: '2025-03-04T05:06:08.123Z', account: null };

function parsed(eventKey: string, status: 'SENT' | 'DELIVERED', ok = true): ParsedEvent {
  const message: PublishedEvent['message'] = {
    provider: 'LEADCONNECTOR',
    id: 'msg-1',
    conversationId: 'conv-1',
    contactRef: 'contact-1',
    locationId: 'loc-1',
    direction: 'OUTBOUND',
    status,
    channel: 'SMS',
    body: 'Your car is ready',
    attachments: [],
    email: null,
    sender: null,
    failureReason: null,
    callDurationSeconds: null,
    createdAt: '2025-03-04T05:06:07.000Z',
  };
  return { eventKey, providerEventType: 'OutboundMessage', result: ok ? { ok: true, event: { kind: 'SENT', message } } : { ok: false, reason: 'unknown shape' } };
}

describe('events an after-stored hook answers unannounced', () => {
  it('are stored, marked published, and never reach the pubsub from the ingest path or the sweep', async () => {
    const store = createMemoryStore();
    const pubsub = createMemoryPubSub();
    const heard: string[] = [];
    pubsub.subscribe((e) => heard.push(e.eventId));
    // The hook names the second event of the delivery (the "delivered" repeat).
    const persist = createPersist({ log: store, claims: store, afterStored: [async () => undefined, async (batch) => ({ unannounced: [batch.events[1]!.id] })] });
    const results = await persist.storeDelivery(origin, [parsed('k1', 'SENT'), parsed('k2', 'DELIVERED')], { source: 'webhook', claimForPublish: true });
    const [first, second] = results.map((r) => r.event);
    expect(results.map((r) => [r.inserted, r.event.published])).toEqual([
      [true, false],
      [true, true],
    ]);
    expect(await store.publishedAmong([first!.id, second!.id])).toEqual(new Set([second!.id]));

    const outbox = createOutbox({ log: store, claims: store, pubsub, logger });
    await outbox.publish(results.map((r) => r.event), { claimed: true });
    // Whatever is left unpublished is the sweep's: the repeat is not among it.
    const scan = await store.scanUnpublished({ limit: 10, after: null, before: 'g' });
    expect(scan.events).toEqual([]);
    expect(heard).toEqual([first!.id]);
    expect(await store.listEvents({}, { limit: 10, before: null })).toHaveLength(2);
  });

  it('are marked published by a replay that makes them processed, so the replay does not publish them', async () => {
    const store = createMemoryStore();
    let unannounced: string[] = [];
    const persist = createPersist({ log: store, claims: store, afterStored: [async () => ({ unannounced })] });
    const [stored] = await persist.storeDelivery(origin, [parsed('k1', 'DELIVERED', false)], { source: 'webhook' });
    unannounced = [stored!.event.id];
    const updated = await persist.storeReplayed(stored!.event, parsed('k1', 'DELIVERED'), null);
    expect(updated).toMatchObject({ id: stored!.event.id, status: 'PROCESSED', published: true });
    expect(await store.publishedAmong([stored!.event.id])).toEqual(new Set([stored!.event.id]));
  });

  it('fail the persist when it was given no claims to mark them in, with the events stored', async () => {
    const store = createMemoryStore();
    const persist = createPersist({ log: store, afterStored: [async (batch) => ({ unannounced: [batch.events[0]!.id] })] });
    await expect(persist.storeDelivery(origin, [parsed('k1', 'SENT')], { source: 'webhook' })).rejects.toThrow('no publish claims');
    expect(await store.listEvents({}, { limit: 10, before: null })).toHaveLength(1);
  });
});
