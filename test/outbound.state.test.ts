// The outbound lifecycle moves forward only, whatever order the provider's
// reports and the send's own answer arrive in: table-driven over the state
// machine, and through the dispatcher and observer on the in-memory store
// (the same contract the MongoDB store implements).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../src/events/types.js';
import type { MessageRecord } from '../src/model.js';
import { ProviderError } from '../src/errors.js';
import type { MessageSender } from '../src/providers/sender.js';
import { createOutboundBus } from '../src/outbound/bus.js';
import { createDispatcher } from '../src/outbound/dispatch.js';
import { createMemoryOutboundStore } from '../src/outbound/memory-store.js';
import { createObserver } from '../src/outbound/observe.js';
import { nextSeq } from '../src/outbound/seq.js';
import { canMove } from '../src/outbound/state.js';
import type { OutboundRecord, OutboundStatus } from '../src/outbound/types.js';

describe('canMove', () => {
  it.each<[OutboundStatus, OutboundStatus, boolean]>([
    ['QUEUED', 'SENDING', true],
    ['SENDING', 'SENT', true],
    ['SENT', 'DELIVERED', true],
    ['DELIVERED', 'READ', true],
    ['SENT', 'FAILED', true],
    ['SENDING', 'UNCERTAIN', true],
    ['UNCERTAIN', 'SENT', true],
    ['SENDING', 'QUEUED', true],
    ['FAILED', 'SENT', false],
    ['FAILED', 'DELIVERED', false],
    ['DELIVERED', 'SENT', false],
    ['DELIVERED', 'FAILED', false],
    ['READ', 'DELIVERED', false],
    ['SENT', 'SENDING', false],
    ['SENT', 'QUEUED', false],
  ])('%s -> %s: %s', (from, to, allowed) => {
    expect(canMove(from, to)).toBe(allowed);
  });
});

const MESSAGE_ID = 'conv-1/msg-1';

function sentEvent(kind: 'SENT' | 'FAILED', status: MessageRecord['status']): StoredEvent {
  const message = { provider: 'PODIUM', id: MESSAGE_ID, conversationId: 'conv-1', direction: 'OUTBOUND', status, failureReason: kind === 'FAILED' ? 'landline' : null } as MessageRecord;
  return { id: 'e', provider: 'PODIUM', eventKey: `${kind}:${status}`, providerEventType: null, kind, status: 'PROCESSED', reason: null, message, rawBody: '', receivedAt: '', published: false };
}

function harness(answer: () => Promise<void> = async () => undefined, overrides: Partial<MessageSender> = {}, queueMaxMs = 600_000) {
  const store = createMemoryOutboundStore();
  const sender: MessageSender = {
    channels: ['SMS'],
    maxBodyLength: () => 1_600,
    needsAddress: () => true,
    carriesAttachments: () => false,
    carriesSubject: () => false,
    async send() {
      await answer();
      return { messageId: MESSAGE_ID, conversationId: 'conv-1' };
    },
    findSent: async () => null,
    ...overrides,
  };
  const dispatcher = createDispatcher({
    store,
    bus: createOutboundBus(null),
    logger: pino({ level: 'silent' }),
    senderFor: async () => sender,
    invalidate: async () => undefined,
    queueMaxMs,
    leaseMs: 30_000,
  });
  const observe = createObserver(store, dispatcher, async () => sender);
  const t = Date.now();
  const record: OutboundRecord = {
    id: 'a'.repeat(24), provider: 'PODIUM', account: 'env', scope: 'PODIUM:env', idempotencyKey: 'k', inputHash: 'h',
    target: { conversationId: 'conv-1', contactRef: null, contactName: null, channel: 'SMS', address: '+18015550000', locationId: null },
    body: 'hi', subject: null, attachments: [], status: 'QUEUED', failureReason: null, messageId: null, conversationId: 'conv-1',
    queuedUntil: null, dueAt: t + 30_000, attempts: 0, firstAttemptAt: null, createdAt: new Date(t).toISOString(), updatedAt: new Date(t).toISOString(),
    seq: nextSeq(t), expiresAt: t + 86_400_000,
  };
  return { store, dispatcher, observe, record };
}

describe('reports in any order', () => {
  it('stays FAILED when the failure is reported before the sent webhook', async () => {
    const h = harness();
    await h.store.claim(h.record);
    const sent = await h.dispatcher.attempt(h.record);
    expect(sent.status).toBe('SENT');
    await h.observe([sentEvent('FAILED', 'FAILED')]);
    await h.observe([sentEvent('SENT', 'SENT')]);
    expect((await h.store.get(h.record.id))).toMatchObject({ status: 'FAILED', failureReason: 'landline' });
  });

  it("applies reports that came before the send's answer once the answer names the message", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const h = harness(() => held);
    await h.store.claim(h.record);
    const attempt = h.dispatcher.attempt(h.record);
    await h.observe([sentEvent('SENT', 'DELIVERED')]);
    await h.observe([sentEvent('SENT', 'SENT')]);
    release();
    expect((await attempt).status).toBe('DELIVERED');
  });
});

describe('an interrupted send the provider cannot be asked about', () => {
  const unreachable = { findSent: async (): Promise<never> => Promise.reject(new ProviderError('PODIUM', 'UNAVAILABLE', 'Podium answered 503')) };

  it('is looked up again later while within the send bound, and never sent blindly', async () => {
    let sends = 0;
    const h = harness(async () => void sends++, unreachable);
    const interrupted = { ...h.record, status: 'SENDING' as const, attempts: 1, firstAttemptAt: h.record.createdAt, dueAt: Date.now() - 1 };
    await h.store.claim(interrupted);
    const after = await h.dispatcher.attempt(interrupted);
    expect(after).toMatchObject({ status: 'SENDING', attempts: 1 });
    expect(after.dueAt).toBeGreaterThan(Date.now());
    expect(sends).toBe(0);
  });

  it('ends UNCERTAIN past the send bound, with the reason it could not be asked', async () => {
    let sends = 0;
    const h = harness(async () => void sends++, unreachable, 1_000);
    const old = new Date(Date.now() - 5_000).toISOString();
    const interrupted = { ...h.record, status: 'SENDING' as const, attempts: 1, firstAttemptAt: old, createdAt: old, dueAt: Date.now() - 1 };
    await h.store.claim(interrupted);
    expect(await h.dispatcher.attempt(interrupted)).toMatchObject({ status: 'UNCERTAIN', failureReason: expect.stringContaining('503') });
    expect(sends).toBe(0);
  });
});
