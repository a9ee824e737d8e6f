// Query benchmark: throughput and latency of one nested conversations query
// (50 conversations, each with contact, assignee and 10 messages with senders)
// through a real gateway against the Podium emulator, with no upstream latency
// and again with a simulated one. Run: npm run bench:query -- --help
import { encodeId } from '../src/ids.js';
import { startFerretDb } from '../test/setup/ferretdb.js';
import {
  BENCH_VIEWER_KEY,
  machineInfo,
  countDelta,
  memorySnapshot,
  nowMs,
  parseFlags,
  printHeader,
  printTable,
  round,
  runBenchmark,
  runPool,
  startBenchGateway,
  startCpuProfile,
  startGatewayProcess,
  UNTHROTTLED_REQUESTS_PER_MINUTE,
  BENCH_ADMIN_KEY,
  startCpuReading,
  summarize,
  upstreamOutcomes,
  type CpuReading,
  type GatewayProcess,
  type MemorySnapshot,
  type Summary,
} from './harness.js';

const QUERY =
  '{ conversations(provider: PODIUM, first: 50) { edges { node { id contact { name } assignedUser { name } messages(first: 10) { edges { node { id body sender { __typename ... on User { name } ... on Contact { name } } } } } } } } }';

const flags = parseFlags('npm run bench:query --', {
  requests: { default: 200, description: 'measured queries per latency setting' },
  concurrency: { default: 8, description: 'queries in flight at once' },
  latency: { default: 20, min: 0, description: 'simulated upstream latency (ms) of the second run; 0 runs only the first' },
  warmup: { default: 20, min: 0, description: 'unmeasured queries before each run' },
  'max-seconds': { default: 120, description: 'time bound of each measured run; stops starting queries after it' },
  profile: { description: 'write a V8 CPU profile of this process over the first measured run (its path is printed)' },
  'gateway-process': { description: 'also run the queries against a gateway in its own process (NODE_ENV=production, as npm start; FerretDB for its store) and print its CPU per query alone' },
  'in-process-emulator': { description: 'run the Podium emulator in this process instead of a child process (it then shares the gateway event loop)' },
  warm: { description: 'also run a gateway in its own process with the cache ON (response cache included) and print its CPU per warm identical query (implies a FerretDB start like --gateway-process)' },
  'warm-requests': { default: 2000, description: 'measured queries of the warm run (many: /proc counts CPU in 10 ms ticks)' },
  'tenant-key': { description: "query with a key scoped to the Podium account (createApiKey) instead of an environment key: what a tenant's key costs" },
});

interface PhaseResult {
  readonly upstreamLatencyMs: number;
  readonly requested: number;
  readonly completed: number;
  readonly ok: number;
  readonly failed: number;
  readonly firstFailure: string | null;
  readonly stoppedByTimeBound: boolean;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: Summary;
  readonly responseBytes: number;
  readonly conversationsPerResponse: number;
  readonly messagesPerResponse: number;
  readonly upstreamRequests: number;
  readonly upstreamRequestsPerQuery: number;
  readonly upstreamByEndpoint: Readonly<Record<string, number>>;
  /** Upstream answers by HTTP status over the whole run (anything but 200 means retries or failures). */
  readonly upstreamByStatus: Readonly<Record<string, number>>;
  /** The gateway's view of the same calls (its metrics): `error` = timed out or network failure, then retried. */
  readonly gatewayUpstreamOutcomes: Readonly<Record<string, number>>;
  /** This process: gateway and load generator (and the emulator with --in-process-emulator). */
  readonly memoryBefore: MemorySnapshot;
  readonly memoryAfter: MemorySnapshot;
  readonly cpu: CpuReading;
  /** The emulator child's CPU over the run in % of one core, and its RSS after; NaN in-process. */
  readonly emulatorCpuPercentOfOneCore: number;
  readonly emulatorRssMiB: number;
}

interface QueryData {
  conversations: { edges: Array<{ node: { messages: { edges: unknown[] } } }> };
}

runBenchmark(async (cleanup) => {
  const machine = machineInfo();
  const baseline = memorySnapshot();
  // The cold path is what this measures: with the cache on, repeated queries would be served from it (bench:inbox measures that).
  const bench = await startBenchGateway(cleanup, { emulatorProcess: !flags['in-process-emulator'], env: { GATEWAY_CACHE: 'off' } });
  const { emulator } = bench;
  const requestsPerMinute = bench.config.podium?.api?.requestsPerMinute ?? 0;
  const latencies = flags.latency > 0 ? [0, flags.latency] : [0];
  const notes = [
    emulator.where === 'child process'
      ? 'gateway and load generator share this Node.js process (one event loop); the Podium emulator runs in a child process (its own event loop), on the same 2 cores'
      : 'gateway, Podium emulator and load generator share this one Node.js process (one event loop); figures include the emulator answering',
    'embedded memory event store and in-process pubsub (queries do not touch them)',
    process.env.NODE_ENV === 'production'
      ? 'NODE_ENV=production, as a deployment runs (npm run bench:query sets it): graphql-js skips its development-mode checks, about a fifth of the CPU'
      : `NODE_ENV=${process.env.NODE_ENV ?? '(unset)'}: graphql-js runs its development-mode checks, about a fifth more CPU than a production deployment`,
    `PODIUM_REQUESTS_PER_MINUTE=${requestsPerMinute} (Podium's real limit is 300/min per credential and would throttle this run): the figures measure the gateway, not Podium's limit`,
    'latency is client-side, request start to full body read, over 127.0.0.1 with keep-alive; p50/p99 are nearest-rank over sorted samples',
  ];
  printHeader('bench:query - conversations(first: 50) x messages(first: 10) over Podium', machine, { ...flags, gateway: bench.url, emulator: `${emulator.url} (${emulator.where})` }, notes);

  let failures = 0;
  let firstFailure: string | null = null;
  let shape = { bytes: 0, conversations: 0, messages: 0 };
  /** The key queries are sent with: an environment key, or a tenant's key made on that gateway. */
  const keys = new Map<string, string>();
  const keyFor = async (url: string): Promise<string> => {
    if (!flags['tenant-key']) return BENCH_VIEWER_KEY;
    let key = keys.get(url);
    if (!key) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` },
        body: JSON.stringify({ query: 'mutation($a: ID!) { createApiKey(role: VIEWER, accounts: [$a], name: "bench") { key } }', variables: { a: encodeId('PODIUM', 'Account', 'env') } }),
      });
      const body = (await res.json()) as { data?: { createApiKey: { key: string } }; errors?: unknown };
      if (!body.data) throw new Error(`createApiKey failed: ${JSON.stringify(body.errors)}`);
      keys.set(url, (key = body.data.createApiKey.key));
    }
    return key;
  };
  const query = async (url = bench.url): Promise<number> => {
    const key = await keyFor(url);
    const started = nowMs();
    let text: string;
    let status = 0;
    try {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: QUERY }),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      text = `fetch failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    const elapsed = nowMs() - started;
    // Checked outside the timed span: the figure is the gateway's answer, not our parsing.
    const checked = checkResponse(status, text);
    if (typeof checked !== 'string') shape = checked;
    const problem = typeof checked === 'string' ? checked : null;
    if (problem) {
      failures++;
      firstFailure ??= problem;
      return Number.NaN;
    }
    return elapsed;
  };

  const phases: PhaseResult[] = [];
  /** Every upstream call this process made, warm-ups included, to tell whether the limiter's bucket ran dry. */
  let upstreamTotal = 0;
  for (const latencyMs of latencies) {
    await emulator.setLatency(latencyMs);
    console.log(`\nrun: upstream latency ${latencyMs} ms - ${flags.warmup} warm-up, then ${flags.requests} queries at concurrency ${flags.concurrency}`);
    await runPool({ total: flags.warmup, concurrency: flags.concurrency, maxMs: flags['max-seconds'] * 1000, task: async () => void (await query()) });
    failures = 0;
    firstFailure = null;
    upstreamTotal += (await emulator.stats()).requests;
    await emulator.resetRequests();
    const samples: number[] = [];
    const memoryBefore = memorySnapshot();
    const emulatorBefore = await emulator.stats();
    const outcomesBefore = await upstreamOutcomes(bench.gateway);
    const stopProfile = flags.profile && phases.length === 0 ? await startCpuProfile('bench-query') : null;
    const endCpu = startCpuReading();
    const pool = await runPool({
      total: flags.requests,
      concurrency: flags.concurrency,
      maxMs: flags['max-seconds'] * 1000,
      task: async () => {
        const ms = await query();
        if (!Number.isNaN(ms)) samples.push(ms);
      },
    });
    const cpu = endCpu();
    if (stopProfile) console.log(`  CPU profile of this run: ${await stopProfile()}`);
    const memoryAfter = memorySnapshot();
    const emulatorAfter = await emulator.stats();
    const outcomes = countDelta(outcomesBefore, await upstreamOutcomes(bench.gateway));
    const upstreamRequests = emulatorAfter.requests;
    upstreamTotal += upstreamRequests;
    const phase: PhaseResult = {
      upstreamLatencyMs: latencyMs,
      requested: flags.requests,
      completed: pool.completed,
      ok: samples.length,
      failed: failures,
      firstFailure,
      stoppedByTimeBound: pool.timedOut,
      elapsedMs: round(pool.elapsedMs, 1),
      requestsPerSecond: round(samples.length / (pool.elapsedMs / 1000), 2),
      latencyMs: summarize(samples),
      responseBytes: shape.bytes,
      conversationsPerResponse: shape.conversations,
      messagesPerResponse: shape.messages,
      upstreamRequests,
      upstreamRequestsPerQuery: round(upstreamRequests / Math.max(1, pool.completed), 2),
      upstreamByEndpoint: Object.fromEntries(Object.entries(emulatorAfter.byEndpoint).map(([k, v]) => [k, round(v / Math.max(1, pool.completed), 2)])),
      upstreamByStatus: emulatorAfter.byStatus,
      gatewayUpstreamOutcomes: outcomes,
      memoryBefore,
      memoryAfter,
      cpu,
      emulatorCpuPercentOfOneCore: round(((emulatorAfter.cpuMs - emulatorBefore.cpuMs) / pool.elapsedMs) * 100, 1),
      emulatorRssMiB: emulatorAfter.rssMiB,
    };
    phases.push(phase);
    if (phase.failed > 0) console.log(`  ${phase.failed} queries failed; first: ${phase.firstFailure}`);
    if (phase.stoppedByTimeBound) console.log(`  stopped by the ${flags['max-seconds']} s time bound after ${phase.completed} queries`);
  }
  await emulator.setLatency(0);

  let processRun: ProcessRun | null = null;
  let warmRun: ProcessRun | null = null;
  if (flags['gateway-process'] || flags.warm) {
    await emulator.setLatency(0);
    const mongo = await startFerretDb();
    cleanup.add('FerretDB', () => mongo.stop());
    const podium = emulator.providerConfig().api;
    const env = {
      NODE_ENV: 'production',
      MONGODB_URL: mongo.url,
      GATEWAY_API_KEYS: `viewer:${BENCH_VIEWER_KEY},admin:${BENCH_ADMIN_KEY}`,
      PODIUM_API_URL: podium.apiUrl,
      PODIUM_ACCESS_TOKEN: podium.accessToken,
      PODIUM_REQUESTS_PER_MINUTE: String(UNTHROTTLED_REQUESTS_PER_MINUTE),
    };
    const measure = async (name: string, cache: 'off' | 'on', requests: number): Promise<ProcessRun> => {
      const gateway = await startGatewayProcess(cleanup, name, { ...env, GATEWAY_CACHE: cache });
      console.log(`\nrun: gateway in its own process (NODE_ENV=production, cache ${cache}) - ${flags.warmup} warm-up, then ${requests} queries at concurrency ${flags.concurrency}`);
      failures = 0;
      const run = await measureProcess(gateway, (url) => query(url), { ...flags, requests }, emulator);
      if (failures > 0) console.log(`  ${failures} queries failed; first: ${firstFailure}`);
      await gateway.close();
      return run;
    };
    if (flags['gateway-process']) processRun = await measure('query', 'off', flags.requests);
    if (flags.warm) warmRun = await measure('query-warm', 'on', flags['warm-requests']);
  }

  printTable(
    'Query throughput and latency (ms)',
    ['upstream latency', 'queries', 'ok', 'failed', 'req/s', 'p50', 'p99', 'max', 'mean', 'upstream req/query', 'CPU ms/query (this process)', 'CPU % (this process)', 'event loop busy %', 'CPU % (emulator)'],
    phases.map((p) => [
      `${p.upstreamLatencyMs} ms`,
      p.completed,
      p.ok,
      p.failed,
      p.requestsPerSecond,
      p.latencyMs.p50,
      p.latencyMs.p99,
      p.latencyMs.max,
      p.latencyMs.mean,
      p.upstreamRequestsPerQuery,
      round(p.cpu.cpuMs / Math.max(1, p.completed), 1),
      p.cpu.cpuPercentOfOneCore,
      p.cpu.eventLoopBusyPercent,
      p.emulatorCpuPercentOfOneCore,
    ]),
  );
  const endpoints = [...new Set(phases.flatMap((p) => Object.keys(p.upstreamByEndpoint)))].sort();
  const statuses = [...new Set(phases.flatMap((p) => Object.keys(p.upstreamByStatus)))].sort();
  const outcomes = [...new Set(phases.flatMap((p) => Object.keys(p.gatewayUpstreamOutcomes)))].sort();
  printTable(
    'Upstream (emulator) requests per query by endpoint; answers in all by status',
    ['endpoint', ...phases.map((p) => `${p.upstreamLatencyMs} ms`)],
    [
      ...endpoints.map((e) => [e, ...phases.map((p) => p.upstreamByEndpoint[e] ?? 0)]),
      ...statuses.map((st) => [`emulator answered ${st === '0' ? '0 (no answer)' : st}, all queries`, ...phases.map((p) => p.upstreamByStatus[st] ?? 0)]),
      ...outcomes.map((o) => [`gateway saw ${o === 'error' ? 'error (timeout/network)' : o}, all queries`, ...phases.map((p) => p.gatewayUpstreamOutcomes[o] ?? 0)]),
    ],
  );
  printTable(
    `Memory of this process (gateway + load generator) in MiB; baseline before start: RSS ${baseline.rssMiB}, heap ${baseline.heapUsedMiB}; heap not collected before reading`,
    ['upstream latency', 'RSS before', 'RSS after', 'heap used before', 'heap used after', 'heap total after', 'emulator RSS after'],
    phases.map((p) => [
      `${p.upstreamLatencyMs} ms`,
      p.memoryBefore.rssMiB,
      p.memoryAfter.rssMiB,
      p.memoryBefore.heapUsedMiB,
      p.memoryAfter.heapUsedMiB,
      p.memoryAfter.heapTotalMiB,
      p.emulatorRssMiB,
    ]),
  );
  const processRows = [
    ...(processRun ? [['cold (cache off)', processRun] as const] : []),
    ...(warmRun ? [['warm (cache on, identical query)', warmRun] as const] : []),
  ];
  if (processRows.length > 0) {
    printTable(
      'The gateway in its own process (NODE_ENV=production): CPU per query from /proc (10 ms ticks), nothing else in that process',
      ['run', 'queries', 'ok', 'req/s', 'p50', 'p99', 'CPU ms/query', 'user', 'kernel', 'upstream req/query', 'response cache hits'],
      processRows.map(([label, r]) => [label, r.queries, r.ok, r.requestsPerSecond, r.latencyMs.p50, r.latencyMs.p99, r.cpuMsPerQuery, r.userMsPerQuery, r.kernelMsPerQuery, r.upstreamRequestsPerQuery, r.responseCacheHits]),
    );
  }
  const response = phases[0];
  if (response) console.log(`\nresponse: ${response.conversationsPerResponse} conversations, ${response.messagesPerResponse} messages, ${response.responseBytes} bytes`);
  console.log(
    `rate limiter: ${requestsPerMinute}/min bucket; ${upstreamTotal} upstream calls in all runs, warm-ups included${upstreamTotal < requestsPerMinute ? ', fewer than the full bucket holds, so it never made a call wait' : ' - MORE than the full bucket holds: later calls may have waited for the limiter'}`,
  );
  console.log(JSON.stringify({ bench: 'query', machine, parameters: { ...flags, emulator: emulator.where, podiumRequestsPerMinute: requestsPerMinute, store: 'memory', query: QUERY }, baselineMemory: baseline, upstreamTotal, phases, gatewayProcess: processRun, gatewayProcessWarm: warmRun }));
});

/** The response's shape, or what is wrong with it. */
function checkResponse(status: number, text: string): { bytes: number; conversations: number; messages: number } | string {
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 300)}`;
  let body: { data?: QueryData | null; errors?: Array<{ message: string }> };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return `expected a JSON body, got ${text.slice(0, 200)}`;
  }
  if (body.errors?.length) return `GraphQL errors: ${JSON.stringify(body.errors.slice(0, 2)).slice(0, 300)}`;
  const edges = body.data?.conversations.edges;
  if (!edges) return `expected data.conversations.edges, got ${text.slice(0, 200)}`;
  return { bytes: text.length, conversations: edges.length, messages: edges.reduce((n, e) => n + e.node.messages.edges.length, 0) };
}

interface ProcessRun {
  readonly queries: number;
  readonly ok: number;
  readonly cpuMsPerQuery: number;
  readonly userMsPerQuery: number;
  readonly kernelMsPerQuery: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: Summary;
  readonly upstreamRequestsPerQuery: number;
  /** Answers served from the response cache over the measured queries (its metric on the gateway). */
  readonly responseCacheHits: number;
}

/** Warm-up, then the measured queries against a gateway process: its CPU from /proc, the emulator's calls, the response cache's hits. */
async function measureProcess(
  gateway: GatewayProcess,
  query: (url: string) => Promise<number>,
  options: { readonly warmup: number; readonly requests: number; readonly concurrency: number; readonly 'max-seconds': number },
  emulator: { resetRequests(): Promise<unknown>; stats(): Promise<{ requests: number }> },
): Promise<ProcessRun> {
  const maxMs = options['max-seconds'] * 1000;
  await runPool({ total: options.warmup, concurrency: options.concurrency, maxMs, task: async () => void (await query(gateway.url)) });
  await emulator.resetRequests();
  const hitsBefore = await responseCacheHits(gateway.url);
  const samples: number[] = [];
  const before = gateway.cpuMs();
  const pool = await runPool({
    total: options.requests,
    concurrency: options.concurrency,
    maxMs,
    task: async () => {
      const ms = await query(gateway.url);
      if (!Number.isNaN(ms)) samples.push(ms);
    },
  });
  const after = gateway.cpuMs();
  const per = (ms: number, digits = 1): number => round(ms / Math.max(1, pool.completed), digits);
  return {
    queries: pool.completed,
    ok: samples.length,
    userMsPerQuery: per(after.user - before.user, 2),
    kernelMsPerQuery: per(after.system - before.system, 2),
    cpuMsPerQuery: per(after.user - before.user + after.system - before.system, 2),
    requestsPerSecond: round(samples.length / (pool.elapsedMs / 1000), 2),
    latencyMs: summarize(samples),
    upstreamRequestsPerQuery: per((await emulator.stats()).requests, 2),
    responseCacheHits: (await responseCacheHits(gateway.url)) - hitsBefore,
  };
}

async function responseCacheHits(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^gateway_response_cache_requests_total\{result="hit"\} (\d+)/m.exec(text)?.[1] ?? 0);
}
