// The cross-request cache against the Podium emulator: the inbox query served
// again without upstream calls, refreshed by the provider's own webhooks before
// they are acknowledged (on one instance and across two sharing Redis), shared
// between concurrent requests and between subscribers, and short TTLs where no
// webhook covers the provider (a controllable clock, not sleeps).
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMemoryBackend } from '../src/cache/backend.js';
import { createGatewayCache } from '../src/cache/index.js';
import { createMetrics } from '../src/metrics.js';
import { createLogger } from '../src/logger.js';
import { createPodiumProvider } from '../src/providers/podium/index.js';
import { startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { collect, useTestGateway, VIEWER_KEY, type TestGateway } from './helpers/gateway.js';

const INBOX = `{ conversations(provider: PODIUM, first: 50) { edges { node { id providerId contact { name } assignedUser { name }
  messages(first: 10) { edges { node { id providerId body sender { __typename ... on User { name } ... on Contact { name } } } } } } } } }`;

interface Inbox {
  conversations: { edges: Array<{ node: { providerId: string; messages: { edges: Array<{ node: { providerId: string } }> } } }> };
}

async function inbox(t: TestGateway): Promise<Inbox> {
  const res = await t.gql<Inbox>(INBOX, {}, VIEWER_KEY);
  expect(res.errors).toBeUndefined();
  return res.data as Inbox;
}

/** Upstream calls the emulator counted while `run` ran. */
async function callsDuring(t: TestGateway, run: () => Promise<unknown>): Promise<number> {
  t.podium.resetRequests();
  await run();
  return t.podium.requestCount();
}

const CACHE_ON = { GATEWAY_CACHE: 'on' };

describe('the entity cache', () => {
  it('serves the inbox again with no upstream call, and after a message webhook with the new message for at most 5 calls', async () => {
    const t = await useTestGateway({ env: CACHE_ON });
    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    expect(await callsDuring(t, () => inbox(t))).toBe(111);
    expect(await callsDuring(t, () => inbox(t))).toBe(0);

    const listed = (await inbox(t)).conversations.edges.map((e) => e.node.providerId);
    // Several webhooks in a row: each costs only what it changed.
    for (const conversationId of listed.slice(0, 3)) {
      const emitted = await t.podium.emitMessageEvent('RECEIVED', { conversationId });
      expect(emitted.deliveries.map((d) => d.status)).toEqual([200]);
      let after: Inbox | null = null;
      const calls = await callsDuring(t, async () => (after = await inbox(t)));
      expect(calls).toBeLessThanOrEqual(5);
      const conversation = after!.conversations.edges.find((e) => e.node.providerId === conversationId);
      expect(conversation?.node.messages.edges.map((e) => e.node.providerId)).toContain(emitted.messageId?.split('/').pop());
    }
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_cache_requests_total\{entity="contact",result="hit"\} [1-9]/);
    expect(metrics).toMatch(/gateway_cache_invalidations_total\{provider="PODIUM",cause="webhook"\} 3/);
  });

  it('lets 10 concurrent cold inbox queries share their upstream calls', async () => {
    const t = await useTestGateway({ env: CACHE_ON });
    const calls = await callsDuring(t, () => Promise.all(Array.from({ length: 10 }, () => inbox(t))));
    expect(calls).toBeLessThanOrEqual(Math.floor(1.2 * 111));
  });

  it('shares entries and invalidations between two instances on one Redis', async () => {
    const env = { ...CACHE_ON, GATEWAY_CACHE_PREFIX: `t${Date.now()}${Math.random().toString(36).slice(2, 8)}` };
    const a = await useTestGateway({ env, redis: true });
    const b = await useTestGateway({ env, redis: true, podium: a.podium });
    // The provider delivers its webhooks to A only.
    await a.podium.addWebhookTarget(`${a.url}/webhooks/podium`);
    expect(await callsDuring(a, () => inbox(b))).toBe(111);
    expect(await callsDuring(a, () => inbox(a))).toBe(0);
    const first = (await inbox(a)).conversations.edges[0]!.node.providerId;
    const emitted = await a.podium.emitMessageEvent('RECEIVED', { conversationId: first });
    expect(emitted.deliveries.map((d) => d.status)).toEqual([200]);
    const seen = (await inbox(b)).conversations.edges.find((e) => e.node.providerId === first);
    expect(seen?.node.messages.edges.map((e) => e.node.providerId)).toContain(emitted.messageId?.split('/').pop());
  });

  it('does not acknowledge a webhook it could not invalidate: the provider is asked to retry', async () => {
    const { createMemoryPubSub } = await import('../src/events/pubsub/memory.js');
    // Nothing listens on port 1: every cache read and invalidation fails.
    const t = await useTestGateway({ env: { ...CACHE_ON, REDIS_URL: 'redis://127.0.0.1:1' }, pubsub: createMemoryPubSub() });
    expect((await t.gql(INBOX, {}, VIEWER_KEY)).errors).toBeUndefined(); // reads fall back to upstream
    const emitted = await t.podium.emitMessageEvent('RECEIVED');
    const res = await fetch(`${t.url}/webhooks/podium`, { method: 'POST', headers: { 'content-type': 'application/json', ...emitted.headers }, body: emitted.rawBody });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error?: string }).error).toBeDefined();
  });

  it('makes one event to 20 subscribers of the same subscription cost the calls of one', async () => {
    const t = await useTestGateway({ env: CACHE_ON });
    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    const query = `subscription { messageReceived { message { conversation { contact { name } } sender { __typename ... on Contact { name } } } } }`;
    const subscribers = Array.from({ length: 20 }, () => collect(t.ws(), query));
    await new Promise((r) => setTimeout(r, 200));
    t.podium.resetRequests();
    await t.podium.emitMessageEvent('RECEIVED');
    await Promise.all(subscribers.map((s) => s.done));
    expect(t.podium.requestCount()).toBeLessThanOrEqual(3);
  });
});

function cacheOver(emulator: PodiumEmulator, clock = { now: () => performance.now() }) {
  const cache = createGatewayCache({
    config: { enabled: true, ttlMs: 600_000, uncoveredTtlMs: 30_000, usersTtlMs: 300_000, maxEntries: 1_000, prefix: 'unit' },
    redisUrl: null,
    registry: createMetrics().registry,
    logger: createLogger('silent'),
    scopes: new Map(),
    clock,
    backend: createMemoryBackend({ clock }),
  });
  const raw = createPodiumProvider(emulator.providerConfig(), { upstream: { timeoutMs: 2_000, maxRetries: 0 }, publicUrl: 'http://localhost', allowUnsignedWebhooks: true });
  return { cache, raw };
}

describe('cache consistency', () => {
  it('never keeps what a load read before an invalidation that landed while it ran', async () => {
    const emulator = await startPodiumEmulator();
    onTestFinished(() => emulator.close());
    const { cache, raw } = cacheOver(emulator);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // The upstream answer is read, then held: the webhook lands between the read and the cache write.
    const held = { ...raw, getConversations: async (ids: readonly string[]) => ((r) => gate.then(() => r))(await raw.getConversations(ids)) };
    const podium = cache.wrap(new Map([['PODIUM', held]])).get('PODIUM')!;
    const [id] = emulator.fixtures.conversationIds;
    const slow = podium.getConversations([id!]);
    await new Promise((r) => setTimeout(r, 50));
    await cache.invalidate('PODIUM', { conversationIds: [id!] }, 'webhook');
    open();
    await slow;
    emulator.resetRequests();
    await podium.getConversations([id!]);
    expect(emulator.requestCount()).toBe(1);
    emulator.resetRequests();
    await podium.getConversations([id!]);
    expect(emulator.requestCount()).toBe(0);
  });
});

describe('cache TTLs', () => {
  it('keeps entries a short TTL while no webhook covers the provider, the long one once deliveries arrive', async () => {
    const emulator = await startPodiumEmulator();
    onTestFinished(() => emulator.close());
    let now = 1_000_000;
    const { cache, raw } = cacheOver(emulator, { now: () => now });
    const podium = cache.wrap(new Map([['PODIUM', raw]])).get('PODIUM')!;
    const [user] = emulator.fixtures.userIds;
    const read = async (): Promise<number> => {
      emulator.resetRequests();
      await podium.getUsers([user!]);
      return emulator.requestCount();
    };
    expect(cache.coverage('PODIUM')).toBe('ttl-only');
    expect(await read()).toBe(1);
    now += 29_000;
    expect(await read()).toBe(0);
    now += 2_000;
    expect(await read()).toBe(1); // past the 30 s uncovered TTL
    cache.noteDelivery('PODIUM');
    expect(cache.coverage('PODIUM')).toBe('webhooks');
    now += 31_000;
    expect(await read()).toBe(1); // the entry was stored under the short TTL
    now += 200_000;
    expect(await read()).toBe(0); // stored under the users TTL (5 minutes)
    now += 3_600_000;
    expect(cache.coverage('PODIUM')).toBe('ttl-only'); // no delivery for an hour
  });
});
