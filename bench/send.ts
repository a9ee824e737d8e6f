// Send benchmark (issue 19's targets, printed, never asserted): two gateways
// on one FerretDB store and one Redis against the Podium emulator.
// 1. Exactly once: --sends sends, a share retried by the client with the same
//    key (half of the retries concurrently on the second instance): upstream
//    sends counted by the emulator; mutation latency against the emulator's own.
// 2. Within Podium's limit: sends offered faster than 300 a minute for
//    --seconds, with the emulator enforcing 300 in any 60 s (429 + Retry-After
//    past it): upstream sends accepted, 429 answers, duplicates, share of the limit.
// 3. Time from the send's answer to the outboundMessageUpdated its provider
//    webhook causes (Podium has no delivered event: the emulator fails each
//    send with message.failed, so the change is SENT -> FAILED), webhook
//    delivery included.
// Run: npm run bench:send -- --help
import { randomUUID } from 'node:crypto';
import type { OutboundRecord } from '../src/outbound/types.js';
import { startFerretDb, startRedis } from '../test/setup/ferretdb.js';
import { BENCH_ADMIN_KEY, machineInfo, nowMs, parseFlags, printHeader, printTable, round, runBenchmark, runPool, summarize, type BenchGateway, type Cleanup } from './harness.js';
import { startBenchGateway } from './harness.js';

const flags = parseFlags('npm run bench:send --', {
  sends: { default: 1000, description: 'sends of the exactly-once run' },
  'retry-share': { default: 10, min: 0, description: 'percent of the sends the client sends again with the same key' },
  concurrency: { default: 16, description: 'mutations in flight at once' },
  latency: { default: 20, min: 0, description: 'ms the emulator adds to each answer' },
  seconds: { default: 60, description: 'length of the within-the-limit run (the limit is 300 in any 60 s)' },
  rate: { default: 6, description: 'sends offered per second in the within-the-limit run (Podium allows 5)' },
});

const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { outboundMessage { id status } userErrors { code } } }';

async function gql(url: string, query: string, variables: Record<string, unknown>): Promise<{ data?: Record<string, unknown> | null; errors?: unknown[] }> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: Record<string, unknown> | null; errors?: unknown[] };
}

async function startService(cleanup: Cleanup, name: string, start: () => Promise<{ url: string; stop(): Promise<void> }>): Promise<string> {
  const service = await start();
  cleanup.add(name, () => service.stop());
  return service.url;
}

/** Two gateways on one store and Redis, the second talking to the first's emulator. */
async function pair(cleanup: Cleanup, mongoUrl: string, redisUrl: string, env: Record<string, string>, perMinute: number): Promise<[BenchGateway, BenchGateway]> {
  const shared = { MONGODB_URL: mongoUrl, MONGODB_DB: `bench_send_${randomUUID().slice(0, 8)}`, REDIS_URL: redisUrl, GATEWAY_CACHE: 'off', ...env };
  const a = await startBenchGateway(cleanup, { env: shared, podiumRequestsPerMinute: perMinute });
  const b = await startBenchGateway(cleanup, { env: shared, podiumRequestsPerMinute: perMinute, emulator: a.emulator });
  return [a, b];
}

/** The seeded SMS conversations, but Lana Landline's (her texts fail by design); one list read. */
async function conversations(a: BenchGateway): Promise<string[]> {
  const res = await gql(a.url, '{ conversations(provider: PODIUM, first: 100) { edges { node { id channel contactName } } } }', {});
  const edges = (res.data?.conversations as { edges: Array<{ node: { id: string; channel: string; contactName: string | null } }> } | undefined)?.edges ?? [];
  const ids = edges.map((e) => e.node).filter((n) => n.channel === 'SMS' && n.contactName !== 'Lana Landline').map((n) => n.id);
  if (ids.length === 0) throw new Error(`Expected SMS conversations in the emulator, got ${JSON.stringify(res.errors ?? edges)}`);
  return ids;
}

async function exactlyOnce(a: BenchGateway, b: BenchGateway): Promise<Record<string, unknown>> {
  const podium = a.podium!;
  podium.setLatency(flags.latency, podium.sendRequests);
  const targets = await conversations(a);
  const retries = Math.round((flags.sends * flags['retry-share']) / 100);
  const latencies: number[] = [];
  let refused = 0;
  const ids = new Map<string, Set<string>>();
  const one = async (gateway: BenchGateway, index: number): Promise<void> => {
    const key = `bench-${index}`;
    const started = nowMs();
    const res = await gql(gateway.url, SEND, { i: { to: { conversationId: targets[index % targets.length] }, body: `Bench message ${index}`, idempotencyKey: key } });
    latencies.push(nowMs() - started);
    const payload = res.data?.sendMessage as { outboundMessage: { id: string } | null } | undefined;
    if (!payload?.outboundMessage) refused++;
    else ids.set(key, (ids.get(key) ?? new Set()).add(payload.outboundMessage.id));
  };
  podium.resetRequests();
  const pool = await runPool({
    total: flags.sends + retries,
    concurrency: flags.concurrency,
    maxMs: 600_000,
    // The first `retries` sends go twice: once here, once again right after on either instance (half on b, concurrently).
    task: async (i) => {
      if (i < flags.sends) return one(a, i);
      const again = i - flags.sends;
      await one(again % 2 === 0 ? b : a, again);
    },
  });
  const upstream = podium.sendCount();
  const lat = summarize(latencies);
  printTable('1. exactly once', ['sends', 'client retries', 'upstream sends', 'duplicates', 'keys with two ids', 'refused', 'mutation p50 ms', 'p99 ms', 'emulator ms', 'p99 over emulator'], [
    [flags.sends, retries, upstream, upstream - flags.sends, [...ids.values()].filter((s) => s.size > 1).length, refused, lat.p50, lat.p99, flags.latency, round(lat.p99 - flags.latency, 1)],
  ]);
  podium.setLatency(0);
  return { sends: flags.sends, retries, upstream, elapsedMs: round(pool.elapsedMs, 0), latency: lat };
}

async function withinLimit(a: BenchGateway, b: BenchGateway): Promise<Record<string, unknown>> {
  const podium = a.podium!;
  podium.setRateLimit({});
  podium.resetRequests();
  const targets = await conversations(a);
  const start = Date.now();
  const offered = Math.round(flags.seconds * flags.rate);
  const keys: string[] = [];
  for (let i = 0; i < offered; i++) {
    const key = `limit-${i}`;
    keys.push(key);
    void gql(i % 2 ? b.url : a.url, SEND, { i: { to: { conversationId: targets[i % targets.length] }, body: `Limit message ${i}`, idempotencyKey: key } });
    await new Promise((r) => setTimeout(r, 1000 / flags.rate));
  }
  const elapsedSeconds = (Date.now() - start) / 1000;
  const answered = podium.requests.filter((r) => r.status !== 0);
  const sends = answered.filter((r) => r.method === 'POST' && r.path === '/v4/messages' && r.status === 200).length;
  const accepted = answered.filter((r) => r.status >= 200 && r.status < 300).length;
  const limited = answered.filter((r) => r.status === 429).length;
  // Podium's limit counts every request, reads included (each send reads its conversation first).
  const limit = (300 * elapsedSeconds) / 60;
  printTable("2. within Podium's limit (300 requests in any 60 s, reads included)", ['seconds', 'sends offered', 'sends accepted', 'requests accepted', 'share of limit %', 'upstream 429', 'duplicates'], [
    [round(elapsedSeconds, 1), offered, sends, accepted, round((100 * accepted) / limit, 1), limited, Math.max(0, sends - offered)],
  ]);
  podium.setRateLimit(null);
  return { offered, sends, accepted, shareOfLimit: round(accepted / limit, 3), upstream429: limited };
}

async function toDelivered(a: BenchGateway): Promise<Record<string, unknown>> {
  const podium = a.podium!;
  podium.setSendDelays({ sentMs: 0, outcomeMs: 0 });
  podium.failNextDeliveries(50, 'bench failure');
  await podium.addWebhookTarget(`${a.url}/webhooks/podium`);
  const targets = await conversations(a);
  const delivered = new Map<string, number>();
  const stop = a.gateway.outbound.bus.subscribe((r: OutboundRecord) => {
    if (r.status === 'FAILED') delivered.set(r.id, nowMs());
  });
  const spans: number[] = [];
  for (let i = 0; i < 50; i++) {
    const res = await gql(a.url, SEND, { i: { to: { conversationId: targets[i % targets.length] }, body: `Lifecycle ${i}`, idempotencyKey: `life-${i}` } });
    const answered = nowMs();
    const id = Buffer.from((res.data?.sendMessage as { outboundMessage: { id: string } }).outboundMessage.id, 'base64url').toString('utf8').split(':').pop()!;
    const deadline = answered + 5_000;
    while (!delivered.has(id) && nowMs() < deadline) await new Promise((r) => setTimeout(r, 1));
    if (delivered.has(id)) spans.push(delivered.get(id)! - answered);
  }
  stop();
  const s = summarize(spans);
  printTable('3. send answered -> the FAILED outboundMessageUpdated of its message.failed webhook', ['samples', 'p50 ms', 'p99 ms'], [[s.count, s.p50, s.p99]]);
  return { answeredToUpdate: s };
}

runBenchmark(async (cleanup) => {
  const machine = machineInfo();
  const mongoUrl = process.env.MONGODB_URL ?? (await startService(cleanup, 'FerretDB', startFerretDb));
  const redisUrl = process.env.REDIS_URL ?? (await startService(cleanup, 'redis-server', startRedis));
  printHeader('bench:send - sendMessage exactly once, within the rate limit', machine, flags, [
    'two gateways in this process on one FerretDB store and one Redis; the Podium emulator in this process',
    'mutation latency: POST start to response read; the emulator adds --latency ms to each send answer',
  ]);
  const [a, b] = await pair(cleanup, mongoUrl, redisUrl, {}, 100_000);
  const once = await exactlyOnce(a, b);
  const [la, lb] = await pair(cleanup, mongoUrl, redisUrl, {}, 300);
  const limit = await withinLimit(la, lb);
  const life = await toDelivered(a);
  console.log(JSON.stringify({ once, limit, life }));
});
