// A send whose recipient cannot be looked up for want of rate budget: the
// mutation answers QUEUED (queuedUntil: when the budget expects a slot), never a
// rate-limit error, and the worker looks the recipient up before it sends
// (an unknown one then ends FAILED with INVALID_RECIPIENT).
import { describe, expect, it } from 'vitest';
import type { LeadConnectorEmulator } from '../src/sandbox/leadconnector/index.js';
import { until, useTestGateway, type TestGateway } from './helpers/gateway.js';
import { AGENT_KEY, conversationId, KEYS_ENV, type SendAnswer } from './helpers/outbound.js';

/** No field that reads the provider: the budget is spent on purpose here. */
const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { outboundMessage { id status queuedUntil channel } userErrors { code } } }';
const send = (t: TestGateway, input: Record<string, unknown>) => t.gql<SendAnswer>(SEND, { i: input }, AGENT_KEY);

async function state(t: TestGateway, id: string): Promise<{ status: string; failureReason: string | null; channel: string | null }> {
  const res = await t.gql<{ node: { status: string; failureReason: string | null; channel: string | null } | null }>(
    'query($id: ID!) { node(id: $id) { ... on OutboundMessage { status failureReason channel } } }',
    { id },
  );
  return res.data?.node ?? { status: 'missing', failureReason: null, channel: null };
}

describe('a send whose recipient lookup finds no budget', () => {
  it('is QUEUED instead of refused, replays the same, and goes out once the budget frees', async () => {
    // Three requests per 10 s, and no reserve for sends left at that size: reads can spend all of it.
    const t = await useTestGateway({ env: { ...KEYS_ENV, LEADCONNECTOR_REQUESTS_PER_10_SECONDS: '3' }, providers: ['LEADCONNECTOR'], outbound: { intervalMs: 50 } });
    const lc = t.emulators.LEADCONNECTOR as LeadConnectorEmulator;
    const conversations = lc.fixtures.conversationIds;
    for (let first = 1; first <= 3; first++) {
      const read = await t.gql('query($n: Int) { conversations(provider: LEADCONNECTOR, first: $n) { edges { node { id } } } }', { n: first });
      expect(read.errors).toBeUndefined();
    }
    // One the reads did not list, so no cache answers its lookup.
    const recipient = conversationId('LEADCONNECTOR', conversations[conversations.length - 1]!);
    const input = { to: { conversationId: recipient }, body: 'Deferred lookup', idempotencyKey: 'deferred-1' };
    const started = Date.now();
    const answer = await send(t, input);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(answer.errors).toBeUndefined();
    const queued = answer.data!.sendMessage.outboundMessage!;
    expect(queued.status).toBe('QUEUED');
    expect(Date.parse(queued.queuedUntil!)).toBeGreaterThan(Date.now());
    const replay = await send(t, input);
    expect(replay.data!.sendMessage.outboundMessage!.id).toBe(queued.id);
    const unknown = await send(t, { to: { conversationId: conversationId('LEADCONNECTOR', 'ZzZzZzZzZzZzZzZzZzZz') }, body: 'Nobody', idempotencyKey: 'deferred-2' });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data!.sendMessage.userErrors).toEqual([]);
    const doomed = unknown.data!.sendMessage.outboundMessage!;
    expect(doomed.status).toBe('QUEUED');
    expect(lc.sendCount()).toBe(0);

    await until(async () => /^(SENT|DELIVERED)$/.test((await state(t, queued.id)).status), 'the deferred send sent', 25_000);
    expect((await state(t, queued.id)).channel).not.toBeNull();
    expect(lc.sendCount()).toBe(1);
    await until(async () => (await state(t, doomed.id)).status === 'FAILED', 'the unknown recipient failed', 25_000);
    expect((await state(t, doomed.id)).failureReason).toMatch(/^INVALID_RECIPIENT/);
    expect(lc.sendCount()).toBe(1);
  }, 60_000);

  it('looks the recipient up in the tenth of the budget reads leave to sends', async () => {
    // Ten requests per 10 s: reads stop at nine, the send's lookup takes the tenth.
    const t = await useTestGateway({ env: { ...KEYS_ENV, LEADCONNECTOR_REQUESTS_PER_10_SECONDS: '10' }, providers: ['LEADCONNECTOR'], outbound: { intervalMs: 50 } });
    const lc = t.emulators.LEADCONNECTOR as LeadConnectorEmulator;
    for (let first = 1; first <= 9; first++) {
      const read = await t.gql('query($n: Int) { conversations(provider: LEADCONNECTOR, first: $n) { edges { node { id } } } }', { n: first });
      expect(read.errors).toBeUndefined();
    }
    const conversations = lc.fixtures.conversationIds;
    const recipient = conversationId('LEADCONNECTOR', conversations[conversations.length - 1]!);
    const answer = await send(t, { to: { conversationId: recipient }, body: 'Looked up as a send', idempotencyKey: 'reserve-1' });
    expect(answer.errors).toBeUndefined();
    const queued = answer.data!.sendMessage.outboundMessage!;
    // Looked up (its channel is known), then queued: the post found no slot left.
    expect(queued.status).toBe('QUEUED');
    expect(queued.channel).not.toBeNull();
    await until(async () => /^(SENT|DELIVERED)$/.test((await state(t, queued.id)).status), 'the queued send sent', 25_000);
    expect(lc.sendCount()).toBe(1);
  }, 60_000);
});
