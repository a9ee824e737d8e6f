// Send benchmark (issue 19's targets): two gateways on one FerretDB and one Redis
// in front of one Podium emulator, all in this process; sendMessage with an agent
// key. Three phases:
//   1. latency: mutation p50/p99 while budget is available, next to a direct POST
//      /v4/messages to the emulator; mutation to SENT (outboundMessageUpdated);
//      Podium's message.failed webhook to the FAILED update.
//   2. exactly once: distinct sends, a share retried with the same key (half at
//      once on the other instance); the emulator's upstream send count.
//   3. rate: the emulator's sliding-window limit on (N in any W s, 429 past it),
//      the gateways' shared budget set to the same rate; more sends offered than
//      fit, plus reads; share of the limit used, upstream 429s, duplicates.
// Run: npm run bench:send -- --help
import { createServer, type Server } from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { encodeId } from '../src/ids.js';
import type { LoggedRequest } from '../src/sandbox/kit.js';
import { LANA_LANDLINE, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { startFerretDb, startRedis } from '../test/setup/ferretdb.js';
import { BENCH_ADMIN_KEY, BENCH_VIEWER_KEY, machineInfo, nowMs, parseFlags, printHeader, printTable, round, runBenchmark, runPool, startBenchGateway, summarize, type BenchGateway, type Cleanup, type Summary } from './harness.js';

const AGENT_KEY = 'bench-agent-key';
const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { outboundMessage { id status } userErrors { code message } } }';
const READ = 'query($id: ID!) { conversation(id: $id) { id messages(first: 5) { edges { node { id } } } } }';
const UPDATES = 'subscription { outboundMessageUpdated(filter: { provider: PODIUM }) { outboundMessage { id status idempotencyKey } } }';

const flags = parseFlags('npm run bench:send --', {
  'latency-sends': { default: 200, description: 'measured sends one at a time (phase 1), and as many direct emulator sends' },
  warmup: { default: 20, description: 'unmeasured sends before phase 1' },
  latency: { default: 20, min: 0, description: 'ms the emulator adds to every answer in phase 1 (reads and sends alike)' },
  'webhook-sends': { default: 50, description: 'sends whose delivery the emulator fails, for webhook -> outboundMessageUpdated (phase 1)' },
  limit: { default: 300, description: "the emulator's limit N (and the gateways' budget) per window (phase 3)" },
  'window-seconds': { default: 60, description: 'the sliding window W of the limit, in seconds (phase 3)' },
  windows: { default: 2, description: 'windows of offered load (phase 3)' },
  'offered-percent': { default: 150, description: 'sends offered per window, in % of N (phase 3)' },
  'reads-per-window': { default: 30, min: 0, description: 'conversation reads through the gateways per window, counted against N too (phase 3)' },
  'drain-seconds': { default: 300, description: 'time bound on waiting for the queued sends after the offered load (phase 3)' },
  sends: { default: 1_000, description: 'distinct sends (phase 2)' },
  'retry-percent': { default: 10, min: 0, description: 'of them retried with the same key, half at once on the other instance (phase 2)' },
  concurrency: { default: 8, description: 'mutations in flight at once (phase 2)' },
  'max-seconds': { default: 300, description: 'time bound of each loop' },
});

const epochNow = (): number => performance.timeOrigin + performance.now();
type Answer = { outboundMessage: { id: string; status: string } | null; userErrors: Array<{ code: string; message: string }> };
interface Target {
  readonly uid: string;
  readonly phone: string;
  readonly locationUid: string;
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown>, key = AGENT_KEY): Promise<{ data?: T; errors?: Array<{ message: string }> }> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: T; errors?: Array<{ message: string }> };
}

async function send(url: string, target: Target, key: string): Promise<Answer> {
  const input = { to: { conversationId: encodeId('PODIUM', 'Conversation', target.uid) }, body: `bench ${key}`, idempotencyKey: key };
  const res = await gql<{ sendMessage: Answer }>(url, SEND, { input });
  // A top-level error counts under its code, like a user error.
  const code = (res.errors?.[0] as { extensions?: { code?: string } } | undefined)?.extensions?.code ?? 'ERROR';
  return res.data?.sendMessage ?? { outboundMessage: null, userErrors: [{ code: `error ${code}`, message: JSON.stringify(res.errors ?? res).slice(0, 300) }] };
}

/** Every outbound status change the subscription reports, by key: when each status was first seen (epoch ms). */
interface Updates {
  readonly seen: Map<string, Map<string, number>>;
  readonly client: Client;
}

async function subscribeUpdates(cleanup: Cleanup, url: string): Promise<Updates> {
  const seen = new Map<string, Map<string, number>>();
  const client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${AGENT_KEY}` }, retryAttempts: 0 });
  cleanup.add('outboundMessageUpdated client', () => client.dispose());
  type Event = { outboundMessageUpdated: { outboundMessage: { status: string; idempotencyKey: string } } };
  await new Promise<void>((resolve, reject) => {
    client.on('connected', () => setTimeout(resolve, 200));
    client.subscribe<Event>({ query: UPDATES }, {
      next: (v) => {
        const o = v.data?.outboundMessageUpdated.outboundMessage;
        if (!o) return;
        const statuses = seen.get(o.idempotencyKey) ?? new Map<string, number>();
        if (!statuses.has(o.status)) statuses.set(o.status, epochNow());
        seen.set(o.idempotencyKey, statuses);
      },
      error: reject,
      complete: () => undefined,
    });
  });
  return { seen, client };
}

/** Podium's webhooks pass through here on their way to the gateway, so the bench sees when each arrived. */
interface WebhookTap {
  readonly url: string;
  /** Arrivals by `<eventType> <message body>`. */
  readonly arrivals: Map<string, number[]>;
  forwardTo(gatewayUrl: string): void;
}

async function startWebhookTap(cleanup: Cleanup): Promise<WebhookTap> {
  const arrivals = new Map<string, number[]>();
  let target = '';
  const server: Server = createServer((req, res) => {
    const at = epochNow();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        const body = JSON.parse(raw) as { data?: { body?: string }; metadata?: { eventType?: string } };
        const key = `${body.metadata?.eventType} ${body.data?.body}`;
        arrivals.set(key, [...(arrivals.get(key) ?? []), at]);
      } catch {
        // not JSON: forwarded as it is
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k === 'content-type' || k.startsWith('podium-'))) as Record<string, string>;
      fetch(`${target}/webhooks/podium`, { method: 'POST', headers, body: raw }).then(
        async (r) => res.writeHead(r.status).end(await r.text()),
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add('webhook tap', () => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, arrivals, forwardTo: (url) => void (target = url) };
}

/** Stamps every request the emulator logs with its arrival time (the log itself has none). */
function timeline(podium: PodiumEmulator): Array<{ readonly at: number; readonly entry: LoggedRequest }> {
  const out: Array<{ at: number; entry: LoggedRequest }> = [];
  const log = podium.requests as LoggedRequest[];
  const push = log.push.bind(log);
  log.push = (...items: LoggedRequest[]): number => {
    // Date.now(), as the emulator's own limit reads the clock, so windows are counted the way it counts them.
    for (const entry of items) out.push({ at: Date.now(), entry });
    return push(...items);
  };
  return out;
}

// ---------------------------------------------------------------- phase 1

async function latencyPhase(a: BenchGateway, podium: PodiumEmulator, targets: readonly Target[], updates: Updates, tap: WebhookTap): Promise<Record<string, unknown>> {
  const api = podium.providerConfig().api;
  podium.setLatency(flags.latency);
  const direct: number[] = [];
  const maxMs = flags['max-seconds'] * 1000;
  await runPool({
    total: flags['latency-sends'],
    concurrency: 1,
    maxMs,
    task: async (i) => {
      const t = targets[i % targets.length] as Target;
      const started = nowMs();
      const res = await fetch(`${podium.url}/v4/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${api.accessToken}` },
        body: JSON.stringify({ body: `direct ${i}`, locationUid: t.locationUid, channel: { type: 'phone', identifier: t.phone } }),
      });
      await res.text();
      if (res.ok) direct.push(nowMs() - started);
    },
  });
  const run = async (prefix: string, total: number, measure: boolean): Promise<{ latency: number[]; started: Map<string, number>; statuses: Record<string, number> }> => {
    const latency: number[] = [];
    const started = new Map<string, number>();
    const statuses: Record<string, number> = {};
    await runPool({
      total,
      concurrency: 1,
      maxMs,
      task: async (i) => {
        const key = `${prefix}-${i}`;
        started.set(key, epochNow());
        const t0 = nowMs();
        const answer = await send(a.url, targets[i % targets.length] as Target, key);
        count(statuses, answer.outboundMessage?.status ?? answer.userErrors[0]?.code ?? 'none');
        if (measure && answer.outboundMessage) latency.push(nowMs() - t0);
      },
    });
    return { latency, started, statuses };
  };
  await run(`warm-${Date.now()}`, flags.warmup, false);
  const measured = await run(`lat-${Date.now()}`, flags['latency-sends'], true);
  await podium.sendsSettled();
  const toSent = [...measured.started].flatMap(([key, at]) => {
    const sentAt = updates.seen.get(key)?.get('SENT');
    return sentAt === undefined ? [] : [sentAt - at];
  });
  podium.setLatency(0);
  podium.failNextDeliveries(flags['webhook-sends']);
  const failing = await run(`hook-${Date.now()}`, flags['webhook-sends'], false);
  await podium.sendsSettled();
  await new Promise((r) => setTimeout(r, 500));
  const hookToUpdate = [...failing.started.keys()].flatMap((key) => {
    const arrived = tap.arrivals.get(`message.failed bench ${key}`)?.[0];
    const failedAt = updates.seen.get(key)?.get('FAILED');
    return arrived === undefined || failedAt === undefined ? [] : [failedAt - arrived];
  });
  const mutation = summarize(measured.latency);
  const emulator = summarize(direct);
  printTable(
    `Phase 1: latency while budget is available (ms, one at a time; the emulator adds ${flags.latency} ms to every answer but the webhook run's)`,
    ['what', 'count', 'p50', 'p99', 'max', 'mean'],
    [
      ['emulator POST /v4/messages, direct', emulator.count, emulator.p50, emulator.p99, emulator.max, emulator.mean],
      ['sendMessage mutation (gateway A)', mutation.count, mutation.p50, mutation.p99, mutation.max, mutation.mean],
      ['mutation start -> SENT on outboundMessageUpdated', toSent.length, ...row(summarize(toSent))],
      ['message.failed webhook -> FAILED on outboundMessageUpdated', hookToUpdate.length, ...row(summarize(hookToUpdate))],
    ],
  );
  console.log(`  mutation p99 - emulator p99: ${round(mutation.p99 - emulator.p99, 2)} ms (target: at most 50); answers: ${JSON.stringify(measured.statuses)}; failing sends: ${JSON.stringify(failing.statuses)}`);
  return { emulatorSendMs: emulator, mutationMs: mutation, p99AboveEmulatorMs: round(mutation.p99 - emulator.p99, 2), answers: measured.statuses, mutationToSentMs: summarize(toSent), webhookToUpdateMs: summarize(hookToUpdate) };
}

function row(s: Summary): number[] {
  return [s.p50, s.p99, s.max, s.mean];
}

// ---------------------------------------------------------------- phase 3

/** Admitted requests in each full window [first + kW, first + (k + 1)W) that ends before `until`, and the most in any window. */
function windowCounts(times: readonly number[], windowMs: number, until: number): { perWindow: number[]; maxInAnyWindow: number } {
  const sorted = [...times].sort((x, y) => x - y);
  const first = sorted[0] ?? 0;
  const perWindow: number[] = [];
  for (let start = first; start + windowMs <= until + 1; start += windowMs) perWindow.push(sorted.filter((t) => t >= start && t < start + windowMs).length);
  let maxInAnyWindow = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= windowMs) j++;
    maxInAnyWindow = Math.max(maxInAnyWindow, i - j + 1);
  }
  return { perWindow, maxInAnyWindow };
}

function count(into: Record<string, number>, what: string): void {
  into[what] = (into[what] ?? 0) + 1;
}

async function ratePhase(cleanup: Cleanup, pair: readonly BenchGateway[], podium: PodiumEmulator, targets: readonly Target[], log: ReturnType<typeof timeline>, tap: WebhookTap): Promise<Record<string, unknown>> {
  const N = flags.limit;
  const W = flags['window-seconds'] * 1000;
  const offered = Math.round((N * flags.windows * flags['offered-percent']) / 100);
  const reads = flags['reads-per-window'] * flags.windows;
  const updates = await subscribeUpdates(cleanup, (pair[0] as BenchGateway).url);
  const from = log.length;
  podium.setRateLimit({ max: N, windowMs: W });
  const prefix = `rate-${Date.now()}`;
  const keys: string[] = [];
  let readErrors = 0;
  let firstError: string | null = null;
  const answers: Record<string, number> = {};
  const started = nowMs();
  const epochStart = epochNow();
  const jobs: Promise<void>[] = [];
  // An open loop: sends and reads start on schedule whatever the answers, alternating between the instances.
  const schedule = [...Array.from({ length: offered }, (_, i) => ({ at: (i * flags.windows * W) / offered, read: false, i })), ...Array.from({ length: reads }, (_, i) => ({ at: ((i + 0.5) * flags.windows * W) / reads, read: true, i }))].sort((x, y) => x.at - y.at);
  for (const job of schedule) {
    const wait = job.at - (nowMs() - started);
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (nowMs() - started > flags['max-seconds'] * 1000) break;
    const gateway = pair[job.i % pair.length] as BenchGateway;
    const target = targets[job.i % targets.length] as Target;
    if (job.read) {
      jobs.push(gql(gateway.url, READ, { id: encodeId('PODIUM', 'Conversation', target.uid) }, BENCH_VIEWER_KEY).then((r) => void (r.errors && readErrors++), () => void readErrors++));
      continue;
    }
    const key = `${prefix}-${job.i}`;
    jobs.push(
      send(gateway.url, target, key).then((a) => {
        count(answers, a.outboundMessage?.status ?? a.userErrors[0]?.code ?? 'none');
        if (a.outboundMessage) keys.push(key);
        else firstError ??= a.userErrors[0]?.message ?? null;
      }),
    );
  }
  const offeredMs = nowMs() - started;
  await Promise.all(jobs);
  const answeredMs = nowMs() - started;
  const settled = (k: string): boolean => ['SENT', 'DELIVERED', 'FAILED', 'UNCERTAIN'].some((s) => updates.seen.get(k)?.has(s));
  const drainEnd = nowMs() + flags['drain-seconds'] * 1000;
  while (keys.some((k) => !settled(k)) && nowMs() < drainEnd) await new Promise((r) => setTimeout(r, 250));
  await podium.sendsSettled();
  podium.setRateLimit(null);
  await updates.client.dispose();
  const phase = log.slice(from).filter((r) => !r.entry.path.startsWith('/oauth/'));
  const admitted = phase.filter((r) => r.entry.status !== 429);
  const isSend = (r: { entry: LoggedRequest }): boolean => r.entry.method === 'POST' && /^\/v4\/messages\/?$/.test(r.entry.path);
  const lastSend = Math.max(...admitted.filter(isSend).map((r) => r.at));
  const { perWindow, maxInAnyWindow } = windowCounts(admitted.map((r) => r.at), W, lastSend);
  const upstream429 = phase.filter((r) => r.entry.status === 429);
  const twice = keys.filter((k) => (tap.arrivals.get(`message.sent bench ${k}`)?.length ?? 0) > 1);
  const duplicates = twice.reduce((n, k) => n + (tap.arrivals.get(`message.sent bench ${k}`)?.length ?? 0) - 1, 0);
  const outcomes: Record<string, number> = {};
  for (const k of keys) {
    count(outcomes, ['FAILED', 'UNCERTAIN', 'DELIVERED', 'SENT', 'SENDING', 'QUEUED'].find((x) => updates.seen.get(k)?.has(x)) ?? 'no update');
  }
  const usedPercent = perWindow.map((c) => round((c / N) * 100, 1));
  printTable(
    `Phase 3: ${N} requests in any ${flags['window-seconds']} s enforced by the emulator; ${offered} sends and ${reads} reads offered over ${round(offeredMs / 1000, 1)} s, answered by ${round(answeredMs / 1000, 1)} s`,
    ['full window', 'admitted upstream requests', '% of the limit'],
    perWindow.map((c, k) => [`#${k + 1}`, c, usedPercent[k] as number]),
  );
  const figures = {
    limit: N,
    windowSeconds: flags['window-seconds'],
    gatewayRequestsPerMinute: gatewayPerMinute(),
    offeredSends: offered,
    offeredReads: reads,
    admitted: admitted.length,
    admittedSends: admitted.filter(isSend).length,
    admittedReads: admitted.filter((r) => !isSend(r)).length,
    perWindow,
    usedPercent,
    minUsedPercent: usedPercent.length ? Math.min(...usedPercent) : Number.NaN,
    maxInAnyWindow,
    upstream429: upstream429.length,
    upstream429Sends: upstream429.filter(isSend).length,
    duplicates,
    readErrors,
    answers,
    outcomes,
  };
  console.log(`  most admitted in any ${flags['window-seconds']} s: ${maxInAnyWindow} (limit ${N}); upstream 429 answers: ${figures.upstream429} (${figures.upstream429Sends} on sends; target 0); duplicates: ${duplicates} (target 0)`);
  if (firstError) console.log(`  first refused or failed mutation: ${firstError}`);
  for (const k of twice.slice(0, 5)) console.log(`  sent twice: ${k}, its updates ${JSON.stringify([...(updates.seen.get(k) ?? [])].map(([st, at]) => [st, round(at - epochStart, 0)]))}, message.sent at ${JSON.stringify(tap.arrivals.get(`message.sent bench ${k}`)?.map((t) => round(t - epochStart, 0)))} ms`);
  console.log(`  admitted: ${figures.admittedSends} sends + ${figures.admittedReads} reads; read errors: ${readErrors}; mutation answers: ${JSON.stringify(answers)}; final states: ${JSON.stringify(outcomes)}`);
  return figures;
}

/** The gateway's budget is per 60 s (PODIUM_REQUESTS_PER_MINUTE; the window is not configurable): the same rate as N per W. */
function gatewayPerMinute(): number {
  return Math.round((flags.limit * 60) / flags['window-seconds']);
}

// ---------------------------------------------------------------- phase 2

async function exactlyOncePhase(pair: readonly BenchGateway[], podium: PodiumEmulator, targets: readonly Target[]): Promise<Record<string, unknown>> {
  const [a, b] = pair as [BenchGateway, BenchGateway];
  const total = flags.sends;
  const retried = Math.round((total * flags['retry-percent']) / 100);
  const before = podium.sendCount();
  const prefix = `once-${Date.now()}`;
  const ids = new Map<string, Set<string>>();
  const errors: string[] = [];
  const note = (key: string, answer: Answer): void => {
    if (!answer.outboundMessage) return void errors.push(`${key}: ${JSON.stringify(answer.userErrors)}`);
    ids.set(key, (ids.get(key) ?? new Set()).add(answer.outboundMessage.id));
  };
  let concurrent = 0;
  let later = 0;
  const started = nowMs();
  const pool = await runPool({
    total,
    concurrency: flags.concurrency,
    maxMs: flags['max-seconds'] * 1000,
    task: async (i) => {
      const key = `${prefix}-${i}`;
      const target = targets[i % targets.length] as Target;
      // Retried keys are spread over the run: every (total / retried)-th; the even ones race on B at once, the odd ones come later on B.
      const retry = retried > 0 && i % Math.max(1, Math.floor(total / retried)) === 0 && i / Math.max(1, Math.floor(total / retried)) < retried;
      const raced = retry && (i / Math.max(1, Math.floor(total / retried))) % 2 === 0;
      const answers = await Promise.all([send(a.url, target, key), ...(raced ? [send(b.url, target, key)] : [])]);
      for (const x of answers) note(key, x);
      if (raced) concurrent++;
      if (retry && !raced) {
        note(key, await send(b.url, target, key));
        later++;
      }
    },
  });
  const elapsed = nowMs() - started;
  await podium.sendsSettled();
  const upstream = podium.sendCount() - before;
  const split = [...ids.values()].filter((s) => s.size > 1).length;
  printTable(
    `Phase 2: ${pool.completed} sends, ${concurrent + later} retried with the same key (${concurrent} at once on instance B, ${later} after the answer on B)`,
    ['upstream sends (emulator)', 'expected', 'keys answered with 2 ids', 'refused or errors', 'sends/s'],
    [[upstream, pool.completed, split, errors.length, round(pool.completed / (elapsed / 1000), 1)]],
  );
  if (errors.length > 0) console.log(`  first error: ${errors[0]}`);
  return { sends: pool.completed, retriedConcurrently: concurrent, retriedLater: later, upstreamSends: upstream, keysWithTwoIds: split, errors: errors.length, sendsPerSecond: round(pool.completed / (elapsed / 1000), 1) };
}

// ---------------------------------------------------------------- main

async function service(cleanup: Cleanup, name: string, env: string | undefined, start: () => Promise<{ url: string; stop(): Promise<void> }>): Promise<string> {
  if (env) return env;
  const s = await start();
  cleanup.add(name, () => s.stop());
  return s.url;
}

/** The emulator's phone conversations of the environment's organization, Lana Landline's left out (her texts fail). */
async function phoneTargets(podium: PodiumEmulator): Promise<Target[]> {
  const res = await fetch(`${podium.url}/v4/conversations?limit=100`, { headers: { authorization: `Bearer ${podium.providerConfig().api.accessToken}` } });
  const body = (await res.json()) as { data: Array<{ uid: string; locationUid: string; channel?: { type: string; identifier: string } | null }> };
  return body.data.flatMap((c) => (c.channel?.type === 'phone' && c.channel.identifier !== LANA_LANDLINE.phone ? [{ uid: c.uid, phone: c.channel.identifier, locationUid: c.locationUid }] : []));
}

runBenchmark(async (cleanup) => {
  const machine = machineInfo();
  const mongoUrl = await service(cleanup, 'FerretDB', process.env.MONGODB_URL, startFerretDb);
  const redisUrl = await service(cleanup, 'redis-server', process.env.REDIS_URL, startRedis);
  printHeader('bench:send - sendMessage through two gateways on one MongoDB and one Redis, Podium emulator', machine, { ...flags, gatewayRequestsPerMinute: gatewayPerMinute() }, [
    'everything in this process: both gateways (createGateway with loadConfig, NODE_ENV=test, cache as configured by default), the Podium emulator, the webhook tap and the load generator (fetch, keep-alive); MongoDB is FerretDB (or MONGODB_URL), Redis redis-server (or REDIS_URL)',
    'sends: sendMessage with an agent key to one of the emulator organization\'s phone conversations (Lana Landline left out), body "bench <key>"; Podium\'s webhooks reach the gateway through a tap that notes when each arrived',
    "phase 3: the gateways' budget is a sliding window of 60 s (PODIUM_REQUESTS_PER_MINUTE, shared in Redis); its window cannot be shortened, so with --window-seconds other than 60 it is set to the same rate (N x 60 / W a minute) and lets more than N through in any W: a short run is a smoke run, the reading the issue asks for is --window-seconds 60",
    'percentiles: nearest rank over the sorted samples; latencies from the monotonic clock; event times across the subscription from performance.timeOrigin + performance.now()',
  ]);
  const db = `bench_send_${Date.now()}`;
  cleanup.add('databases', async () => {
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    for (const name of [db, `${db}_rate`]) await client.db(name).dropDatabase();
    await client.close();
  });
  // Each pair of gateways its own Redis prefix: the shared budget keeps 60 s of slot times, which must not carry over.
  const shared = { MONGODB_URL: mongoUrl, MONGODB_DB: db, REDIS_URL: redisUrl, GATEWAY_CACHE_PREFIX: `${db}_a`, GATEWAY_API_KEYS: `admin:${BENCH_ADMIN_KEY},viewer:${BENCH_VIEWER_KEY},agent:${AGENT_KEY}` };
  const a = await startBenchGateway(cleanup, { env: shared });
  const podium = a.podium as PodiumEmulator;
  const b = await startBenchGateway(cleanup, { env: shared, emulator: a.emulator });
  const log = timeline(podium);
  const tap = await startWebhookTap(cleanup);
  tap.forwardTo(a.url);
  await podium.addWebhookTarget(tap.url);
  const targets = await phoneTargets(podium);
  console.log(`\n${targets.length} phone conversations; gateways A ${a.url}, B ${b.url}`);

  console.log('\nphase 1: latency');
  const updates = await subscribeUpdates(cleanup, a.url);
  const latency = await latencyPhase(a, podium, targets, updates, tap);
  await updates.client.dispose();

  console.log('\nphase 2: exactly once');
  const once = await exactlyOncePhase([a, b], podium, targets);
  // A stays up until the end: closing it would close the emulator it started.
  await b.close();

  console.log(`\nphase 3: rate limit, ${flags.windows} windows of ${flags['window-seconds']} s`);
  const limited = { ...shared, MONGODB_DB: `${db}_rate`, GATEWAY_CACHE_PREFIX: `${db}_rate` };
  const a2 = await startBenchGateway(cleanup, { env: limited, emulator: a.emulator, podiumRequestsPerMinute: gatewayPerMinute() });
  const b2 = await startBenchGateway(cleanup, { env: limited, emulator: a.emulator, podiumRequestsPerMinute: gatewayPerMinute() });
  tap.forwardTo(a2.url);
  const rate = await ratePhase(cleanup, [a2, b2], podium, targets, log, tap);

  console.log(JSON.stringify({ bench: 'send', machine, parameters: { ...flags, gatewayRequestsPerMinute: gatewayPerMinute(), mongodb: process.env.MONGODB_URL ? 'MONGODB_URL' : 'FerretDB', redis: process.env.REDIS_URL ? 'REDIS_URL' : 'redis-server' }, latency, rate, exactlyOnce: once }));
});
