// The outbound lifecycle across orders, subscribers and interruptions, through
// the real gateway and emulators: webhooks that arrive before the send's own
// answer, outboundMessageUpdated (current state first, then each change),
// the links from provider messages and events back to the send, and a send
// whose answer never came, settled from the provider's messages, not re-sent.
import { describe, expect, it } from 'vitest';
import { collect, until, useTestGateway, type TestGateway } from './helpers/gateway.js';
import { AGENT_KEY, conversationOn, KEYS_ENV, send } from './helpers/outbound.js';

async function podiumGateway(env: Record<string, string> = {}, outbound?: { intervalMs?: number; leaseMs?: number }): Promise<TestGateway> {
  const t = await useTestGateway({ env: { ...KEYS_ENV, ...env }, outbound });
  await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
  return t;
}

async function status(t: TestGateway, id: string): Promise<{ status: string; failureReason: string | null }> {
  const res = await t.gql<{ node: { status: string; failureReason: string | null } }>('query($id: ID!) { node(id: $id) { ... on OutboundMessage { status failureReason } } }', { id });
  return res.data!.node;
}

const UPDATED = 'subscription($ids: [ID!]) { outboundMessageUpdated(ids: $ids) { cursor outboundMessage { id status failureReason } } }';
type Updated = { outboundMessageUpdated: { cursor: string; outboundMessage: { id: string; status: string; failureReason: string | null } } };

describe('outbound lifecycle', () => {
  it("matches webhooks that arrive before the send's own answer (sent, then failed)", async () => {
    const t = await podiumGateway();
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    t.podium.setSendDelays({ sentMs: 0, outcomeMs: 0 });
    t.podium.failNextDeliveries(1, 'Carrier rejected the message');
    // Podium takes the message, sends its webhooks, and only then answers the POST.
    t.podium.injectFault({ ...t.podium.sendRequests, afterHandling: true, delayMs: 400 });
    const res = await send(t, { to: { conversationId: conversation.id }, body: 'Early webhooks', idempotencyKey: 'early-1' });
    const sent = res.data!.sendMessage.outboundMessage!;
    expect(sent.status).toBe('FAILED');
    expect(sent.failureReason).toBe('Carrier rejected the message');
    expect(t.podium.sendCount()).toBe(1);
  });

  it('sends each subscribed id its current state first, then every change, and links the message and its event back to the send', async () => {
    const t = await podiumGateway();
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    t.podium.setSendDelays({ sentMs: 300, outcomeMs: 50 });
    t.podium.failNextDeliveries(1);
    const events = collect<{ messageFailed: { outboundMessage: { id: string } | null; message: { outboundMessage: { id: string; status: string } | null } } }>(
      t.ws(AGENT_KEY),
      'subscription { messageFailed { outboundMessage { id } message { outboundMessage { id status } } } }',
    );
    await until(() => t.gateway.pubsub.listenerCount() > 0, 'messageFailed subscription');
    const res = await send(t, { to: { conversationId: conversation.id }, body: 'Follow me', idempotencyKey: 'follow-1' });
    const sent = res.data!.sendMessage.outboundMessage!;
    expect(sent.status).toBe('SENT');
    // Subscribed after the mutation answered: the current state comes first, so nothing is missed.
    const updates = collect<Updated>(t.ws(AGENT_KEY), UPDATED, { ids: [sent.id] }, 2);
    const [first, second] = await updates.done;
    expect(first!.outboundMessageUpdated.outboundMessage).toMatchObject({ id: sent.id, status: 'SENT' });
    expect(second!.outboundMessageUpdated.outboundMessage).toMatchObject({ id: sent.id, status: 'FAILED' });
    const [failed] = await events.done;
    expect(failed!.messageFailed.outboundMessage?.id).toBe(sent.id);
    expect(failed!.messageFailed.message.outboundMessage).toMatchObject({ id: sent.id, status: 'FAILED' });
    // Resuming after the first update delivers the change after it.
    const resumed = collect<Updated>(t.ws(AGENT_KEY), 'subscription($a: String) { outboundMessageUpdated(after: $a) { outboundMessage { id status } } }', { a: first!.outboundMessageUpdated.cursor });
    const [again] = await resumed.done;
    expect(again!.outboundMessageUpdated.outboundMessage).toEqual({ id: sent.id, status: 'FAILED' });
  });

  it('never re-sends a send whose answer timed out: it is found among the conversation messages and settled SENT', async () => {
    // The lease outlives the upstream timeout, as in production (30 s against 10 s).
    const t = await podiumGateway({ GATEWAY_UPSTREAM_TIMEOUT_MS: '300' }, { intervalMs: 50, leaseMs: 1_000 });
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    t.podium.injectFault({ ...t.podium.sendRequests, afterHandling: true, hang: true });
    const res = await send(t, { to: { conversationId: conversation.id }, body: 'Did this go out?', idempotencyKey: 'timeout-1' });
    const sent = res.data!.sendMessage.outboundMessage!;
    expect(sent.status).toBe('SENDING');
    await until(async () => (await status(t, sent.id)).status !== 'SENDING', 'the interrupted send settled', 10_000);
    expect((await status(t, sent.id)).status).toMatch(/^(SENT|DELIVERED)$/);
    expect(t.podium.sendCount()).toBe(1);
    const replay = await send(t, { to: { conversationId: conversation.id }, body: 'Did this go out?', idempotencyKey: 'timeout-1' });
    expect(replay.data!.sendMessage.outboundMessage!.id).toBe(sent.id);
    expect(t.podium.sendCount()).toBe(1);
  });

  it('sends again, once, when the interrupted attempt never reached the provider', async () => {
    const t = await podiumGateway({ GATEWAY_UPSTREAM_TIMEOUT_MS: '300' }, { intervalMs: 50, leaseMs: 1_000 });
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    // The request hangs before Podium handles it: nothing was made.
    t.podium.injectFault({ ...t.podium.sendRequests, hang: true });
    const res = await send(t, { to: { conversationId: conversation.id }, body: 'Second try', idempotencyKey: 'lost-1' });
    const sent = res.data!.sendMessage.outboundMessage!;
    await until(async () => (await status(t, sent.id)).status !== 'SENDING', 'the lost send sent again', 10_000);
    expect((await status(t, sent.id)).status).toMatch(/^(SENT|DELIVERED)$/);
    // Two POSTs, one message at Podium.
    expect(t.podium.sendCount()).toBe(2);
    const messages = await t.gql<{ conversation: { messages: { edges: Array<{ node: { body: string } }> } } }>('query($id: ID!) { conversation(id: $id) { messages(first: 20) { edges { node { body } } } } }', { id: conversation.id });
    expect(messages.data!.conversation.messages.edges.filter((e) => e.node.body === 'Second try')).toHaveLength(1);
  });

  it('retries a 503 after its Retry-After, looking the send up first: one message', async () => {
    const t = await podiumGateway({}, { intervalMs: 50 });
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    t.podium.injectFault({ ...t.podium.sendRequests, status: 503, retryAfterSeconds: 3 });
    const started = Date.now();
    const res = await send(t, { to: { conversationId: conversation.id }, body: 'After the outage', idempotencyKey: 'outage-1' });
    const sent = res.data!.sendMessage.outboundMessage!;
    expect(sent.status).toBe('SENDING');
    await until(async () => (await status(t, sent.id)).status !== 'SENDING', 'the send retried', 10_000);
    // Podium's Retry-After (3 s), not the gateway's own pause (2 s).
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect((await status(t, sent.id)).status).toMatch(/^(SENT|DELIVERED)$/);
    expect(t.podium.sendCount()).toBe(2);
    // The lookup before the retry read the conversation's messages.
    expect(t.podium.requestCount({ method: 'GET', pathPattern: /^\/v4\/conversations\/[^/]+\/messages$/ })).toBeGreaterThanOrEqual(1);
  });

  it("queues a send Podium answered 429 until its Retry-After instead of retrying in the mutation, then sends it once", async () => {
    const t = await podiumGateway({}, { intervalMs: 50 });
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    t.podium.injectFault({ ...t.podium.sendRequests, status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const res = await send(t, { to: { conversationId: conversation.id }, body: 'Slow down', idempotencyKey: 'limited-1' });
    const queued = res.data!.sendMessage.outboundMessage!;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(queued.status).toBe('QUEUED');
    expect(Date.parse(queued.queuedUntil!)).toBeGreaterThan(started + 900);
    await until(async () => /^(SENT|DELIVERED)$/.test((await status(t, queued.id)).status), 'the queued send sent', 10_000);
    expect(t.podium.sendCount()).toBe(2);
  });
});
