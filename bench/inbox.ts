// Inbox benchmark: the 50-conversation inbox query against the Podium emulator
// in its own process, with Podium's default 300 requests/minute left on and the
// gateway subscribed to the emulator's webhooks, so the cache is kept fresh by
// them. Prints upstream calls per inbox load (cold, warm, after a webhook, 10
// concurrent cold), webhook-then-load cycles, agents loading in a loop while
// message webhooks arrive (loads per minute, stale answers, failures, latency),
// and one event fanned out to many subscribers. Run: npm run bench:inbox -- --help
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  BENCH_VIEWER_KEY,
  machineInfo,
  nowMs,
  parseFlags,
  printHeader,
  printTable,
  round,
  runBenchmark,
  startBenchGateway,
  summarize,
  type EmittedSummary,
  type EmulatorControl,
} from './harness.js';

const INBOX = `{ conversations(provider: PODIUM, first: 50) { edges { node { providerId contact { name } assignedUser { name }
  messages(first: 10) { edges { node { providerId body sender { __typename ... on User { name } ... on Contact { name } } } } } } } } }`;
const SUBSCRIPTION = `subscription { messageReceived(filter: { provider: PODIUM }) { message { providerId conversation { contact { name } }
  sender { __typename ... on Contact { name } ... on User { name } } } } }`;

const flags = parseFlags('npm run bench:inbox --', {
  agents: { default: 5, description: 'agents loading the inbox in a loop during the loop phase' },
  seconds: { default: 60, description: 'length of the loop phase (s)' },
  'event-interval': { default: 2_000, description: 'ms between message webhooks during the loop phase' },
  cycles: { default: 20, description: 'webhook-then-load cycles' },
  subscribers: { default: 100, description: 'graphql-ws subscribers of one subscription for the fan-out phase' },
});

interface InboxData {
  conversations: { edges: Array<{ node: { providerId: string; messages: { edges: Array<{ node: { providerId: string } }> } } }> };
}

interface Load {
  readonly ok: boolean;
  readonly data: InboxData | null;
  readonly error: string | null;
  readonly ms: number;
}

async function load(url: string): Promise<Load> {
  const started = nowMs();
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_VIEWER_KEY}` },
      body: JSON.stringify({ query: INBOX }),
    });
    const body = (await res.json()) as { data?: InboxData; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    const ms = nowMs() - started;
    if (res.status !== 200 || body.errors || body.data?.conversations.edges.length !== 50) {
      return { ok: false, data: body.data ?? null, error: body.errors?.[0]?.extensions?.code ?? `HTTP ${res.status}`, ms };
    }
    return { ok: true, data: body.data, error: null, ms };
  } catch (err) {
    return { ok: false, data: null, error: err instanceof Error ? err.message : String(err), ms: nowMs() - started };
  }
}

/** Upstream calls the emulator answered while `run` ran. */
async function callsDuring<T>(emulator: EmulatorControl, run: () => Promise<T>): Promise<{ calls: number; result: T }> {
  const before = (await emulator.stats()).requests;
  const result = await run();
  return { calls: (await emulator.stats()).requests - before, result };
}

/** Acknowledged message webhooks, by conversation: the newest message of each and when its 200 came. */
type Acked = Map<string, { messageUid: string; at: number }>;

function uidOf(emitted: EmittedSummary): string {
  return emitted.messageId?.split('/').pop() ?? '';
}

/** Conversations in a load that lack the newest message acknowledged before the load began. */
function staleIn(data: InboxData | null, acked: Acked, startedAt: number): number {
  let stale = 0;
  for (const edge of data?.conversations.edges ?? []) {
    const newest = acked.get(edge.node.providerId);
    if (!newest || newest.at > startedAt) continue;
    if (!edge.node.messages.edges.some((m) => m.node.providerId === newest.messageUid)) stale++;
  }
  return stale;
}

async function emit(emulator: EmulatorControl, acked: Acked, conversationId?: string): Promise<EmittedSummary> {
  const emitted = await emulator.emitMessageEvent('RECEIVED', conversationId);
  if (emitted.deliveries.some((d) => d.status !== 200)) throw new Error(`Expected every delivery to be answered 200, got ${JSON.stringify(emitted.deliveries)}`);
  acked.set(emitted.conversationId, { messageUid: uidOf(emitted), at: nowMs() });
  return emitted;
}

runBenchmark(async (cleanup) => {
  const machine = machineInfo();
  const bench = await startBenchGateway(cleanup, { emulatorProcess: true, podiumRequestsPerMinute: 300 });
  const { emulator, url } = bench;
  await emulator.addWebhookTarget(`${url}/webhooks/podium`);
  printHeader('bench:inbox', machine, { ...flags, podiumRequestsPerMinute: 300, cache: bench.config.cache.enabled ? 'on' : 'off' }, [
    'the Podium emulator runs in a child process; the gateway keeps its default client-side limit of 300 requests/minute',
    'the gateway is subscribed to the emulator webhooks, so webhooks invalidate the cache before they are acknowledged',
    'one webhook is delivered before the cold load, so the gateway knows its webhooks arrive (until then entries get the short uncovered TTL)',
    `query: ${INBOX.replace(/\s+/g, ' ')}`,
  ]);
  const acked: Acked = new Map();
  const figures: Record<string, unknown> = {};
  // A running gateway receives webhooks all along; the first one tells it they reach it (long TTLs from then on).
  await emit(emulator, acked);

  // 1. Cold, warm, and after one webhook.
  const cold = await callsDuring(emulator, () => load(url));
  const warm = await callsDuring(emulator, () => load(url));
  const first = cold.result.data?.conversations.edges[0]?.node.providerId;
  await emit(emulator, acked, first);
  const afterOne = await callsDuring(emulator, () => load(url));
  figures.cold = cold.calls;
  figures.warm = warm.calls;
  figures.afterOneWebhook = afterOne.calls;
  figures.coverage = bench.gateway.cache.coverage('PODIUM');

  // 2. Webhook-then-load cycles on conversations of the inbox.
  const cycleCalls: number[] = [];
  let cycleStale = 0;
  let cycleFailed = 0;
  const listed = cold.result.data?.conversations.edges.map((e) => e.node.providerId) ?? [];
  for (let i = 0; i < flags.cycles; i++) {
    await emit(emulator, acked, listed[i % Math.max(1, listed.length)]);
    const startedAt = nowMs();
    const { calls, result } = await callsDuring(emulator, () => load(url));
    cycleCalls.push(calls);
    if (!result.ok) cycleFailed++;
    cycleStale += staleIn(result.data, acked, startedAt);
  }
  figures.cycles = { count: flags.cycles, meanCalls: round(cycleCalls.reduce((a, b) => a + b, 0) / Math.max(1, cycleCalls.length), 2), maxCalls: Math.max(...cycleCalls), stale: cycleStale, failed: cycleFailed };

  // 3. Ten concurrent cold loads, on a second gateway with an empty cache over the same emulator.
  const second = await startBenchGateway(cleanup, { emulator, podiumRequestsPerMinute: 300 });
  const concurrent = await callsDuring(emulator, () => Promise.all(Array.from({ length: 10 }, () => load(second.url))));
  figures.tenConcurrentCold = { calls: concurrent.calls, ratioToOne: round(concurrent.calls / Math.max(1, cold.calls), 2), failed: concurrent.result.filter((r) => !r.ok).length };
  await second.close();

  // 4. Agents in a loop while webhooks arrive.
  const loop = await loopPhase(url, emulator, acked, listed);
  figures.loop = loop;

  // 5. One event to many subscribers of the same subscription.
  figures.fanOut = await fanOutPhase(url, emulator, flags.subscribers);

  printTable('Upstream calls per inbox load', ['load', 'upstream calls'], [
    ['cold', cold.calls],
    ['same again, nothing changed', warm.calls],
    ['after one message webhook', afterOne.calls],
    [`after each of ${flags.cycles} webhook-then-load cycles (mean / max)`, `${(figures.cycles as { meanCalls: number }).meanCalls} / ${Math.max(...cycleCalls)}`],
    ['10 concurrent cold loads, in all', concurrent.calls],
  ]);
  printTable(`${flags.agents} agents loading in a loop for ${flags.seconds} s, a message webhook every ${flags['event-interval']} ms`, ['loads', 'per minute', 'failed', 'stale', 'p50 ms', 'p99 ms', 'upstream calls/min', 'webhooks'], [
    [loop.loads, loop.loadsPerMinute, loop.failed, loop.stale, loop.latencyMs.p50, loop.latencyMs.p99, loop.upstreamCallsPerMinute, loop.webhooks],
  ]);
  const fan = figures.fanOut as { subscribers: number; delivered: number; upstreamCalls: number };
  printTable('One event to many subscribers', ['subscribers', 'delivered', 'upstream calls'], [[fan.subscribers, fan.delivered, fan.upstreamCalls]]);
  console.log(`stale answers in all: ${cycleStale + loop.stale} (expected 0); failed loads in all: ${cycleFailed + loop.failed}`);
  console.log(JSON.stringify({ bench: 'inbox', machine, parameters: flags, figures }));
});

async function loopPhase(url: string, emulator: EmulatorControl, acked: Acked, listed: readonly string[]) {
  const deadline = nowMs() + flags.seconds * 1000;
  const latencies: number[] = [];
  let failed = 0;
  let stale = 0;
  let webhooks = 0;
  const firstError: string[] = [];
  const before = (await emulator.stats()).requests;
  const started = nowMs();
  const agent = async (): Promise<void> => {
    while (nowMs() < deadline) {
      const startedAt = nowMs();
      const result = await load(url);
      if (!result.ok) {
        failed++;
        if (firstError.length === 0 && result.error) firstError.push(result.error);
      } else latencies.push(result.ms);
      stale += staleIn(result.data, acked, startedAt);
    }
  };
  const sender = async (): Promise<void> => {
    let i = 0;
    while (nowMs() < deadline) {
      // Half to conversations of the inbox, half anywhere (those move into the first 50).
      await emit(emulator, acked, i % 2 === 0 ? listed[(i * 7) % Math.max(1, listed.length)] : undefined);
      webhooks++;
      i++;
      await new Promise((r) => setTimeout(r, flags['event-interval']));
    }
  };
  await Promise.all([...Array.from({ length: flags.agents }, agent), sender()]);
  const elapsedMinutes = (nowMs() - started) / 60_000;
  const calls = (await emulator.stats()).requests - before;
  const latencyMs = summarize(latencies);
  return {
    loads: latencies.length + failed,
    loadsPerMinute: round((latencies.length + failed) / elapsedMinutes, 1),
    failed,
    firstFailure: firstError[0] ?? null,
    stale,
    webhooks,
    upstreamCallsPerMinute: round(calls / elapsedMinutes, 1),
    latencyMs: { p50: round(latencyMs.p50, 1), p99: round(latencyMs.p99, 1), max: round(latencyMs.max, 1) },
  };
}

async function fanOutPhase(url: string, emulator: EmulatorControl, count: number) {
  const clients: Client[] = [];
  let delivered = 0;
  let subscribed = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  for (let i = 0; i < count; i++) {
    const client = createClient({
      url: `${url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${BENCH_VIEWER_KEY}` },
      retryAttempts: 0,
      on: { connected: () => void subscribed++ },
    });
    clients.push(client);
    client.subscribe({ query: SUBSCRIPTION }, { next: () => void (++delivered === count && resolveAll()), error: () => undefined, complete: () => undefined });
  }
  const deadline = nowMs() + 30_000;
  while (subscribed < count && nowMs() < deadline) await new Promise((r) => setTimeout(r, 20));
  // Subscribed on the socket is not yet listening on the pubsub: give the subscribe messages a moment.
  await new Promise((r) => setTimeout(r, 500));
  const { calls } = await callsDuring(emulator, async () => {
    await emulator.emitMessageEvent('RECEIVED');
    await Promise.race([all, new Promise((r) => setTimeout(r, 10_000))]);
  });
  await Promise.all(clients.map((c) => c.dispose()));
  return { subscribers: count, delivered, upstreamCalls: calls };
}
