// Sending with several gateway instances on one FerretDB store and one Redis:
// a key raced from both instances makes one upstream send, and a send queued
// for rate budget survives a restart and goes out, in order, from the next process.
import { afterEach, describe, expect, it } from 'vitest';
import { startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { mongoTestDb, startTestGateway, until, useTestGateway, type TestGateway } from './helpers/gateway.js';
import { conversationOn, KEYS_ENV, send } from './helpers/outbound.js';

let podium: PodiumEmulator | null = null;
afterEach(async () => {
  await podium?.close();
  podium = null;
});

function sharedEnv(): Record<string, string> {
  const db = mongoTestDb();
  return { ...KEYS_ENV, MONGODB_URL: db.url, MONGODB_DB: db.db };
}

async function status(t: TestGateway, id: string): Promise<string> {
  const res = await t.gql<{ node: { status: string } | null }>('query($id: ID!) { node(id: $id) { ... on OutboundMessage { status } } }', { id });
  return res.data?.node?.status ?? 'missing';
}

describe('sending across instances', () => {
  it('makes one upstream send for one key raced from two gateways', async () => {
    podium = await startPodiumEmulator();
    const env = sharedEnv();
    const a = await useTestGateway({ env, redis: true, podium });
    const b = await useTestGateway({ env, redis: true, podium });
    const conversation = await conversationOn(a, 'PODIUM', 'SMS');
    // A slow provider widens the window in which both instances see no intent yet.
    podium.setLatency(200, podium.sendRequests);
    const input = { to: { conversationId: conversation.id }, body: 'Only once', idempotencyKey: 'race-1' };
    const answers = await Promise.all([a, b, a, b, a, b].map((t) => send(t, input)));
    const ids = new Set(answers.map((r) => r.data?.sendMessage.outboundMessage?.id));
    expect(answers.every((r) => r.data?.sendMessage.userErrors.length === 0)).toBe(true);
    expect(ids.size).toBe(1);
    expect(podium.sendCount()).toBe(1);
  });

  it('makes one upstream send per queued send when both instances\' workers race for them', async () => {
    podium = await startPodiumEmulator();
    const env = { ...sharedEnv(), GATEWAY_UPSTREAM_MAX_RETRIES: '0' };
    const a = await useTestGateway({ env, redis: true, podium, outbound: { intervalMs: 10 } });
    const b = await useTestGateway({ env, redis: true, podium, outbound: { intervalMs: 10 } });
    const conversation = await conversationOn(a, 'PODIUM', 'SMS');
    // The first send meets a 429 and queues for a second; the others queue behind it, so both workers find all of them due at once.
    podium.injectFault({ ...podium.sendRequests, status: 429, retryAfterSeconds: 2 });
    const queue = (i: number) => send(i % 2 === 0 ? a : b, { to: { conversationId: conversation.id }, body: `Queued ${i}`, idempotencyKey: `race-q-${i}` });
    // The others at once, while the first still waits for its turn: sent one by one, a slow machine let the queue drain midway.
    const answers = [await queue(0), ...(await Promise.all(Array.from({ length: 29 }, (_, i) => queue(i + 1))))];
    expect(answers.map((res) => res.data?.sendMessage.outboundMessage?.status)).toEqual(Array.from({ length: 30 }, () => 'QUEUED'));
    const ids = answers.map((res) => res.data!.sendMessage.outboundMessage!.id);
    await until(async () => (await Promise.all(ids.map((id) => status(a, id)))).every((s) => /^(SENT|DELIVERED)$/.test(s)), 'all queued sends sent', 20_000);
    // The refused first attempt, then one request per send.
    expect(podium.sendCount()).toBe(31);
  });

  it('keeps sends queued for rate budget across a restart and sends them in order from the next process', async () => {
    podium = await startPodiumEmulator();
    const env = { ...sharedEnv(), GATEWAY_UPSTREAM_MAX_RETRIES: '0' };
    const first = await startTestGateway({ env, podium });
    const conversation = await conversationOn(first, 'PODIUM', 'SMS');
    podium.injectFault({ ...podium.sendRequests, status: 429, retryAfterSeconds: 1 });
    const one = await send(first, { to: { conversationId: conversation.id }, body: 'Queued one', idempotencyKey: 'q-1' });
    const two = await send(first, { to: { conversationId: conversation.id }, body: 'Queued two', idempotencyKey: 'q-2' });
    const queued = [one, two].map((r) => r.data!.sendMessage.outboundMessage!);
    expect(queued.map((q) => q.status)).toEqual(['QUEUED', 'QUEUED']);
    expect(Date.parse(queued[0]!.queuedUntil!)).toBeGreaterThan(Date.now() - 1_000);
    expect(podium.sendCount()).toBe(1);
    await first.close();

    const next = await useTestGateway({ env, podium, outbound: { intervalMs: 50 } });
    await until(async () => (await status(next, queued[1]!.id)) !== 'QUEUED' && (await status(next, queued[0]!.id)) !== 'QUEUED', 'both queued sends sent', 10_000);
    expect(await status(next, queued[0]!.id)).toMatch(/^(SENT|DELIVERED)$/);
    expect(podium.sendCount()).toBe(3);
    const messages = await next.gql<{ conversation: { messages: { edges: Array<{ node: { body: string } }> } } }>('query($id: ID!) { conversation(id: $id) { messages(first: 5) { edges { node { body } } } } }', { id: conversation.id });
    // Newest first: two went after one.
    expect(messages.data!.conversation.messages.edges.map((e) => e.node.body).slice(0, 2)).toEqual(['Queued two', 'Queued one']);
  });
});
