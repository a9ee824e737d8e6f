// The response cache through real gateways against the Podium emulator: an
// identical query answered from the stored bytes with no upstream call, dropped
// by a webhook before its 200 (on one instance and across two sharing Redis),
// never shared between account scopes or roles, rebuilt after an eviction, and
// never used for mutations. The emulator counts upstream requests; the
// gateway's metrics say whether an answer came from the response cache.
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { encodeId } from '../src/ids.js';
import { startSmoochEmulator } from '../src/sandbox/smooch/index.js';
import { ADMIN_KEY, useTestGateway, VIEWER_KEY, type TestGateway } from './helpers/gateway.js';
import { conversationOn } from './helpers/outbound.js';

const INBOX = `query Inbox($first: Int) { conversations(provider: PODIUM, first: $first) { edges { node { id providerId contact { name } assignedUser { name }
  messages(first: 10) { edges { node { id providerId body sender { __typename ... on User { name } ... on Contact { name } } } } } } } } }`;

interface Inbox {
  conversations: { edges: Array<{ node: { providerId: string; messages: { edges: Array<{ node: { providerId: string } }> } } }> };
}

const CACHE_ON = { GATEWAY_CACHE: 'on' };

async function inbox(t: TestGateway, key = VIEWER_KEY, first = 50): Promise<Inbox> {
  const res = await t.gql<Inbox>(INBOX, { first }, key);
  expect(res.errors).toBeUndefined();
  return res.data as Inbox;
}

/** Upstream reads of what a query shows (not the gateway's own webhook coverage check) the emulator counted while `run` ran. */
async function callsDuring(t: TestGateway, run: () => Promise<unknown>): Promise<number> {
  t.podium.resetRequests();
  await run();
  return t.podium.requestCount({ pathPattern: /^\/v4\/(conversations|contacts|users)/ });
}

/** The response cache's look-ups by result, and its evictions, from /metrics. */
async function responseCacheCounts(t: TestGateway): Promise<Counts> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const read = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    hit: read(/^gateway_response_cache_requests_total\{result="hit"\} (\d+)/m),
    miss: read(/^gateway_response_cache_requests_total\{result="miss"\} (\d+)/m),
    stale: read(/^gateway_response_cache_requests_total\{result="stale"\} (\d+)/m),
    evictions: read(/^gateway_response_cache_evictions_total (\d+)/m),
    storedBytes: read(/^gateway_response_cache_stored_bytes_total (\d+)/m),
  };
}

interface Counts {
  readonly hit: number;
  readonly miss: number;
  readonly stale: number;
  readonly evictions: number;
  readonly storedBytes: number;
}

/** What `run` changed in the response cache's counts. */
async function countsDuring(t: TestGateway, run: () => Promise<unknown>): Promise<Counts> {
  const before = await responseCacheCounts(t);
  await run();
  const after = await responseCacheCounts(t);
  return {
    hit: after.hit - before.hit,
    miss: after.miss - before.miss,
    stale: after.stale - before.stale,
    evictions: after.evictions - before.evictions,
    storedBytes: after.storedBytes - before.storedBytes,
  };
}

const newest = (emitted: { messageId?: string | null }): string | undefined => emitted.messageId?.split('/').pop();

describe('the response cache', () => {
  it('answers an identical inbox query from the stored bytes with no upstream call, and after a webhook with the new message', async () => {
    const t = await useTestGateway({ env: CACHE_ON });
    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    const first = await inbox(t);
    let again: Inbox | null = null;
    const counts = await countsDuring(t, async () => expect(await callsDuring(t, async () => (again = await inbox(t)))).toBe(0));
    expect(counts).toMatchObject({ hit: 1, miss: 0 });
    expect(again).toEqual(first);

    const conversationId = first.conversations.edges[0]!.node.providerId;
    const emitted = await t.podium.emitMessageEvent('RECEIVED', { conversationId });
    expect(emitted.deliveries.map((d) => d.status)).toEqual([200]);
    let after: Inbox | null = null;
    expect(await countsDuring(t, async () => (after = await inbox(t)))).toMatchObject({ hit: 0, stale: 1 });
    const seen = after!.conversations.edges.find((e) => e.node.providerId === conversationId);
    expect(seen?.node.messages.edges.map((e) => e.node.providerId)).toContain(newest(emitted));
    // Rebuilt and stored again: the next identical query is a hit.
    expect(await countsDuring(t, () => inbox(t))).toMatchObject({ hit: 1 });
  });

  it('shows a webhook taken by one instance in the next query on the other (one Redis)', async () => {
    const env = { ...CACHE_ON, GATEWAY_CACHE_PREFIX: `r${Date.now()}${Math.random().toString(36).slice(2, 8)}` };
    const a = await useTestGateway({ env, redis: true });
    const b = await useTestGateway({ env, redis: true, podium: a.podium });
    await a.podium.addWebhookTarget(`${a.url}/webhooks/podium`);
    const built = await inbox(b);
    // B's answer is in Redis: A serves it without running the query.
    expect(await countsDuring(a, async () => expect(await callsDuring(a, () => inbox(a))).toBe(0))).toMatchObject({ hit: 1, miss: 0 });
    const conversationId = built.conversations.edges[0]!.node.providerId;
    const emitted = await a.podium.emitMessageEvent('RECEIVED', { conversationId });
    expect(emitted.deliveries.map((d) => d.status)).toEqual([200]);
    const seen = (await inbox(b)).conversations.edges.find((e) => e.node.providerId === conversationId);
    expect(seen?.node.messages.edges.map((e) => e.node.providerId)).toContain(newest(emitted));
  });

  it('never shares an answer between keys scoped to different accounts', async () => {
    const t = await useTestGateway({ env: CACHE_ON, providers: ['PODIUM', 'LEADCONNECTOR'] });
    const create = 'mutation($a: [ID!]) { createApiKey(role: VIEWER, accounts: $a, name: "tenant") { key } }';
    const keyOf = async (account: string): Promise<string> => {
      const res = await t.gql<{ createApiKey: { key: string } }>(create, { a: [account] }, ADMIN_KEY);
      expect(res.errors).toBeUndefined();
      return res.data!.createApiKey.key;
    };
    const podiumKey = await keyOf(encodeId('PODIUM', 'Account', 'env'));
    const otherKey = await keyOf(encodeId('LEADCONNECTOR', 'Account', 'env'));
    await inbox(t, podiumKey);
    await inbox(t, podiumKey);
    // The same document and variables with a key that does not reach the Podium account: refused, never the stored answer.
    const refused = await t.gql<Inbox>(INBOX, { first: 50 }, otherKey);
    expect(refused.data?.conversations ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('never serves a viewer’s answer to an admin, nor an admin’s to a viewer', async () => {
    const t = await useTestGateway({ env: CACHE_ON });
    await inbox(t, VIEWER_KEY);
    expect(await countsDuring(t, () => inbox(t, ADMIN_KEY))).toMatchObject({ hit: 0, miss: 1 });
    expect(await countsDuring(t, () => inbox(t, ADMIN_KEY))).toMatchObject({ hit: 1 });
    expect(await countsDuring(t, () => inbox(t, VIEWER_KEY))).toMatchObject({ hit: 1 });
  });

  it('rebuilds an answer evicted to make room, then serves it again', async () => {
    // Room for one inbox answer (about 110 KB) only.
    const t = await useTestGateway({ env: CACHE_ON, responseCacheMaxBytes: 150_000 });
    await inbox(t, VIEWER_KEY, 50);
    await inbox(t, VIEWER_KEY, 49);
    const rebuilt = await countsDuring(t, () => inbox(t, VIEWER_KEY, 50));
    expect(rebuilt).toMatchObject({ hit: 0, miss: 1 });
    expect(rebuilt.evictions).toBeGreaterThanOrEqual(1);
    expect(await countsDuring(t, () => inbox(t, VIEWER_KEY, 50))).toMatchObject({ hit: 1 });
  });

  it('rebuilds an answer Redis dropped', async () => {
    const prefix = `r${Date.now()}${Math.random().toString(36).slice(2, 8)}`;
    const t = await useTestGateway({ env: { ...CACHE_ON, GATEWAY_CACHE_PREFIX: prefix }, redis: true });
    const redis = new Redis(inject('redisUrl'));
    onTestFinished(() => void redis.disconnect());
    await inbox(t);
    const stored = await redis.keys(`${prefix}:r:*`);
    expect(stored).toHaveLength(1);
    await redis.del(...stored);
    expect(await countsDuring(t, () => inbox(t))).toMatchObject({ hit: 0, miss: 1 });
    expect(await countsDuring(t, () => inbox(t))).toMatchObject({ hit: 1 });
  });

  it('never stores a mutation, even one whose answer reads cached conversations', async () => {
    const t = await useTestGateway({ env: CACHE_ON });
    const conversation = (await conversationOn(t, 'PODIUM', 'SMS')).id;
    const send = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { outboundMessage { status conversation { id } } userErrors { code } } }';
    const counts = await countsDuring(t, async () => {
      const res = await t.gql<{ sendMessage: { userErrors: unknown[] } }>(send, { i: { to: { conversationId: conversation }, body: 'Once', idempotencyKey: 'response-cache-1' } }, ADMIN_KEY);
      expect(res.errors).toBeUndefined();
      expect(res.data!.sendMessage.userErrors).toEqual([]);
    });
    expect(counts).toMatchObject({ hit: 0, storedBytes: 0 });
  });

  it('never stores a query that reads beyond the entity cache (outbound messages, accounts)', async () => {
    const t = await useTestGateway({ env: CACHE_ON });
    for (const query of [
      '{ conversations(provider: PODIUM, first: 2) { edges { node { id account { name } } } } }',
      '{ conversations(provider: PODIUM, first: 2) { edges { node { messages(first: 2) { edges { node { ...Sent } } } } } } } fragment Sent on Message { outboundMessage { status } }',
    ]) {
      const counts = await countsDuring(t, async () => {
        for (let i = 0; i < 2; i++) expect((await t.gql(query, {}, VIEWER_KEY)).errors).toBeUndefined();
      });
      expect(counts).toMatchObject({ hit: 0, storedBytes: 0 });
    }
  });

  it('stops serving a disconnected account’s answers at once', async () => {
    const smooch = await startSmoochEmulator();
    onTestFinished(() => smooch.close());
    const t = await useTestGateway({ env: { ...CACHE_ON, GATEWAY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') } });
    const api = smooch.providerConfig().api;
    const connected = await t.gql<{ connectSmoochAccount: { id: string } }>('mutation($i: ConnectSmoochAccountInput!) { connectSmoochAccount(input: $i) { id } }', {
      i: { appId: api.appId, keyId: api.keyId, secret: api.secret, apiUrl: api.apiUrl },
    }, ADMIN_KEY);
    expect(connected.errors).toBeUndefined();
    const account = connected.data!.connectSmoochAccount.id;
    const query = 'query($a: ID) { conversations(provider: SMOOCH, account: $a, first: 5) { edges { node { id } } } }';
    expect((await t.gql(query, { a: account }, VIEWER_KEY)).errors).toBeUndefined();
    expect(await countsDuring(t, () => t.gql(query, { a: account }, VIEWER_KEY))).toMatchObject({ hit: 1 });
    const removed = await t.gql<{ disconnectAccount: boolean }>('mutation($id: ID!) { disconnectAccount(id: $id) }', { id: account }, ADMIN_KEY);
    expect(removed.data?.disconnectAccount).toBe(true);
    // The account is unknown now: an error, not the answer stored before.
    const after = await t.gql(query, { a: account }, VIEWER_KEY);
    expect(after.errors).toBeDefined();
  });

  it('is off with the cache: every identical query runs', async () => {
    const t = await useTestGateway({ env: { GATEWAY_CACHE: 'off' } });
    await inbox(t);
    expect(await callsDuring(t, () => inbox(t))).toBe(111);
    expect(await responseCacheCounts(t)).toMatchObject({ hit: 0, miss: 0 });
  });
});
