// Sends and the account's rate budget: a send that finds no budget slot is
// QUEUED at once (queuedUntil says when its slot comes) instead of holding the
// mutation or surfacing a rate-limit error, and /metrics shows the sends by
// outcome and the queue.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it, onTestFinished } from 'vitest';
import { createLocalBudget, createRateBudgets, type RateBudget } from '../src/providers/rate-budget.js';
import { startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { until, useTestGateway } from './helpers/gateway.js';
import { AGENT_KEY, conversationOn, KEYS_ENV, type SendAnswer } from './helpers/outbound.js';

/** No field that reads the provider: the budget is spent on purpose here. */
const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { outboundMessage { id status queuedUntil } userErrors { code } } }';

let podium: PodiumEmulator | null = null;
afterEach(async () => {
  await podium?.close();
  podium = null;
});

describe('sending within the rate budget', () => {
  it('queues a send the budget has no slot for, and counts sends and the queue in /metrics', async () => {
    podium = await startPodiumEmulator();
    const finder = await useTestGateway({ env: KEYS_ENV, podium });
    const conversation = await conversationOn(finder, 'PODIUM', 'SMS');
    // Three requests a minute: a send reads its conversation and posts (two), the second send finds one slot for its read.
    const t = await useTestGateway({ env: { ...KEYS_ENV, PODIUM_REQUESTS_PER_MINUTE: '3' }, podium, outbound: { intervalMs: 50 } });
    const one = await t.gql<SendAnswer>(SEND, { i: { to: { conversationId: conversation.id }, body: 'Within budget', idempotencyKey: 'b-1' } }, AGENT_KEY);
    expect(one.data!.sendMessage.outboundMessage!.status).toBe('SENT');
    const started = Date.now();
    const two = await t.gql<SendAnswer>(SEND, { i: { to: { conversationId: conversation.id }, body: 'Past the budget', idempotencyKey: 'b-2' } }, AGENT_KEY);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(two.errors).toBeUndefined();
    const queued = two.data!.sendMessage.outboundMessage!;
    expect(queued.status).toBe('QUEUED');
    // A slot every 20 s.
    expect(Date.parse(queued.queuedUntil!) - Date.now()).toBeGreaterThan(5_000);
    expect(podium.sendCount()).toBe(1);
    const metrics = async (): Promise<string> => (await fetch(`${t.url}/metrics`)).text();
    await until(async () => /gateway_send_queue_depth 1\b/.test(await metrics()), 'queue depth 1 in /metrics');
    const text = await metrics();
    expect(text).toMatch(/gateway_sends_total\{provider="PODIUM",outcome="SENT"\} 1\b/);
    expect(text).toMatch(/gateway_sends_total\{provider="PODIUM",outcome="QUEUED"\} 1\b/);
  });

  it('fails a send PROVIDER_RATE_LIMITED at once when its slot would come past the queue bound', async () => {
    podium = await startPodiumEmulator();
    const finder = await useTestGateway({ env: KEYS_ENV, podium });
    const conversation = await conversationOn(finder, 'PODIUM', 'SMS');
    const t = await useTestGateway({ env: { ...KEYS_ENV, PODIUM_REQUESTS_PER_MINUTE: '3', GATEWAY_SEND_QUEUE_MAX_SECONDS: '5' }, podium });
    await t.gql<SendAnswer>(SEND, { i: { to: { conversationId: conversation.id }, body: 'Within budget', idempotencyKey: 'c-1' } }, AGENT_KEY);
    const late = await t.gql<{ sendMessage: { outboundMessage: { status: string; failureReason: string | null } } }>(
      'mutation($i: SendMessageInput!) { sendMessage(input: $i) { outboundMessage { status failureReason } } }',
      { i: { to: { conversationId: conversation.id }, body: 'Too late', idempotencyKey: 'c-2' } },
      AGENT_KEY,
    );
    expect(late.errors).toBeUndefined();
    expect(late.data!.sendMessage.outboundMessage.status).toBe('FAILED');
    expect(late.data!.sendMessage.outboundMessage.failureReason).toMatch(/^PROVIDER_RATE_LIMITED/);
    expect(podium.sendCount()).toBe(1);
  });
});

describe('sends ahead of reads in the rate budget', () => {
  async function readsThenSend(budget: RateBudget): Promise<{ reads: number[]; tenthRead: number; send: number }> {
    const reads: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await budget.take(0, { leaveReserve: true });
      reads.push(r.ok ? r.waitMs : -1);
    }
    const tenth = await budget.take(0, { leaveReserve: true });
    const send = await budget.take(0);
    return { reads, tenthRead: tenth.ok ? -1 : tenth.retryAfterMs, send: send.ok ? send.waitMs : -1 };
  }

  it('leaves the last tenth of the bucket to sends, in process and in Redis', async () => {
    const limit = { requests: 10, perMs: 60_000 };
    const budgets = createRateBudgets(inject('redisUrl'), `rb${randomUUID().slice(0, 8)}`);
    onTestFinished(() => budgets.close());
    for (const budget of [createLocalBudget(limit), budgets.budget('reserve', limit)]) {
      const { reads, tenthRead, send } = await readsThenSend(budget);
      expect(reads).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
      // The tenth read would wait for the bucket to refill past the reserve (a slot is 6 s); the send takes the reserve now.
      expect(tenthRead).toBeGreaterThan(5_000);
      expect(send).toBe(0);
    }
  });
});
