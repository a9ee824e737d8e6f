// Fan-out benchmark: the gateway in its own process (started as `npm start`
// does, on the sandbox), graphql-ws subscribers in another. Three phases:
//   1. N subscribers of one subscription on one instance; signed Podium webhooks
//      one at a time; for each, the time from the POST to every subscriber's
//      receipt; the gateway's RSS idle, with N sockets, and after the events.
//   2. The instance at its connection limit (GATEWAY_WS_MAX_CONNECTIONS = N)
//      under a storm of connection attempts: webhook acks and /healthz meanwhile.
//   3. Two instances on one MongoDB (FerretDB) and one Redis, M subscribers each;
//      webhooks alternate between them; every event must reach all 2 x M, none twice.
// Run: npm run bench:fanout -- --help
import { encodeId } from '../src/ids.js';
import { startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { startFerretDb, startRedis } from '../test/setup/ferretdb.js';
import type { ChildMessage } from './fanout-subscribers.js';
import {
  BENCH_ADMIN_KEY,
  BENCH_VIEWER_KEY,
  machineInfo,
  nowMs,
  parseFlags,
  printHeader,
  printTable,
  round,
  runBenchmark,
  startGatewayProcess,
  startSubscribers,
  summarize,
  type GatewayProcess,
  type Subscribers,
  type Summary,
} from './harness.js';

// The message's id comes first: the subscriber process reads it out of each `next` without parsing the rest.
const SUBSCRIPTION = 'subscription { messageReceived { message { id body } id cursor receivedAt } }';
const WEBHOOK_SECRET = 'bench-fanout-podium-secret';

const flags = parseFlags('npm run bench:fanout --', {
  subscribers: { default: 15_000, description: 'subscribers on the single instance (phase 1; also its connection limit in phase 2)' },
  events: { default: 20, description: 'webhooks sent one at a time in phase 1 (and 3); each waits until every subscriber has it' },
  'connect-concurrency': { default: 200, description: 'connections the subscriber process opens at once' },
  storm: { default: 5_000, min: 0, description: 'connection attempts in phase 2 (0 skips it)' },
  'storm-ms': { default: 1_000, description: 'the storm is spread over this many ms' },
  'storm-webhooks': { default: 100, description: 'webhooks POSTed during the storm, one every storm-ms / storm-webhooks ms' },
  'per-instance': { default: 10_000, min: 0, description: 'subscribers on each of two instances in phase 3 (0 skips it)' },
  'delivery-timeout': { default: 30, description: 'seconds to wait for every subscriber to receive one event' },
});

function gatewayEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_API_KEYS: `admin:${BENCH_ADMIN_KEY},viewer:${BENCH_VIEWER_KEY}`,
    PODIUM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...extra,
  };
}

interface Sent {
  readonly messageGlobalId: string;
  readonly startedAt: number;
  readonly ackMs: number;
  readonly status: number;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** POSTs one signed message.received webhook the Podium emulator made; answers the message's global id the subscribers will see. */
async function postWebhook(podium: PodiumEmulator, url: string): Promise<Sent> {
  const emitted = await podium.emitMessageEvent('RECEIVED');
  const headers = { 'content-type': 'application/json', ...podium.signWebhook(emitted.rawBody) };
  const startedAt = epochNow();
  const res = await fetch(`${url}/webhooks/podium`, { method: 'POST', headers, body: emitted.rawBody });
  await res.arrayBuffer();
  if (!emitted.messageId) throw new Error('Expected the Podium emulator to give the message an id');
  return { messageGlobalId: encodeId('PODIUM', 'Message', emitted.messageId), startedAt, ackMs: epochNow() - startedAt, status: res.status };
}

interface EventFigures {
  readonly received: number;
  readonly duplicates: number;
  readonly latency: Summary;
}

/** Waits until `expected` subscribers (over all processes) have the event, then reads their receipt times. */
async function collect(processes: readonly Subscribers[], eventId: string, startedAt: number, expected: number): Promise<EventFigures> {
  const deadline = nowMs() + flags['delivery-timeout'] * 1000;
  for (;;) {
    const reports = await Promise.all(processes.map((p) => p.request({ type: 'report', eventIds: [eventId] }, 'report')));
    const entries = reports.map((r) => r.events[eventId] ?? { times: [], duplicates: 0 });
    const received = entries.reduce((n, e) => n + e.times.length, 0);
    if (received >= expected || nowMs() > deadline) {
      const latencies = entries.flatMap((e) => e.times.map((t) => t - startedAt)).sort((a, b) => a - b);
      return { received, duplicates: entries.reduce((n, e) => n + e.duplicates, 0), latency: summarize(latencies) };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the gateway's /metrics counts `count` subscribers of shared streams. */
async function waitForMembers(gateway: GatewayProcess, count: number): Promise<void> {
  const deadline = nowMs() + 60_000;
  for (;;) {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    if (Number(/^gateway_subscription_group_members (\S+)$/m.exec(text)?.[1] ?? 0) >= count) return;
    if (nowMs() > deadline) throw new Error(`Expected ${count} subscriptions on the gateway within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function connectAll(subscribers: Subscribers, url: string, count: number, subscribe = true): Promise<Extract<ChildMessage, { type: 'connected' }>> {
  const wsUrl = `${url.replace('http', 'ws')}/graphql`;
  const connected = await subscribers.request(
    { type: 'connect', url: wsUrl, count, key: BENCH_VIEWER_KEY, query: subscribe ? SUBSCRIPTION : null, concurrency: flags['connect-concurrency'] },
    'connected',
  );
  if (connected.failed > 0) console.log(`  ${connected.failed} of ${count} subscribers failed to connect; first: ${connected.firstError}`);
  return connected;
}

/** Sends `events` webhooks one at a time (to the gateways in turn) and measures each one's delivery to all. */
async function sendEvents(podium: PodiumEmulator, gateways: readonly GatewayProcess[], processes: readonly Subscribers[], expected: number): Promise<{ perEvent: EventFigures[]; acks: number[] }> {
  const perEvent: EventFigures[] = [];
  const acks: number[] = [];
  for (let i = 0; i < flags.events; i++) {
    const target = gateways[i % gateways.length] as GatewayProcess;
    const sent = await postWebhook(podium, target.url);
    if (sent.status !== 200) throw new Error(`Expected webhook ${i} to be acknowledged with 200, got ${sent.status}`);
    acks.push(sent.ackMs);
    perEvent.push(await collect(processes, sent.messageGlobalId, sent.startedAt, expected));
  }
  return { perEvent, acks };
}

function eventRows(label: string, perEvent: readonly EventFigures[], expected: number): Array<Array<string | number>> {
  const all = perEvent.map((e) => e.latency);
  const worst = (pick: (s: Summary) => number): number => round(Math.max(...all.map(pick)), 1);
  const median = (pick: (s: Summary) => number): number => {
    const sorted = all.map(pick).sort((a, b) => a - b);
    return round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, 1);
  };
  return [
    [
      label,
      perEvent.length,
      expected,
      Math.min(...perEvent.map((e) => e.received)),
      perEvent.reduce((n, e) => n + e.duplicates, 0),
      median((s) => s.p50),
      median((s) => s.p99),
      worst((s) => s.p99),
      worst((s) => s.max),
    ],
  ];
}
const EVENT_HEADERS = ['run', 'events', 'subscribers', 'fewest received', 'duplicates', 'p50 ms (median event)', 'p99 ms (median event)', 'p99 ms (worst event)', 'max ms (worst event)'];

runBenchmark(async (cleanup) => {
  const machine = machineInfo();
  printHeader('bench:fanout - one event to many graphql-ws subscribers', machine, flags, [
    'the gateway runs in its own process (src/index.ts on the sandbox, embedded store, in-process pubsub); subscribers in another (raw graphql-transport-ws over ws)',
    `each subscriber: its own connection, viewer key, ${SUBSCRIPTION}`,
    'latency: from the webhook POST start (this process) to each subscriber receiving the next message (subscriber process), on one clock',
    'RSS: the gateway process, from /proc',
  ]);
  const podium = await startPodiumEmulator({ webhookSecret: WEBHOOK_SECRET });
  cleanup.add('Podium emulator (webhook bodies)', () => podium.close());

  // Phase 1 and 2: one instance, its connection limit set to the subscriber count.
  const single = await startGatewayProcess(cleanup, 'single', gatewayEnv({ GATEWAY_WS_MAX_CONNECTIONS: String(flags.subscribers) }));
  await new Promise((r) => setTimeout(r, 1_000));
  const idleRss = single.rssMiB();
  const subs = startSubscribers(cleanup, 'single');
  console.log(`\nphase 1: connecting ${flags.subscribers} subscribers (first without a subscription, for the memory of an idle connection)`);
  const connected = await connectAll(subs, single.url, flags.subscribers, false);
  console.log(`  ${connected.open} open in ${round(connected.ms / 1000, 1)} s`);
  await new Promise((r) => setTimeout(r, 1_000));
  const idleConnectionsRss = single.rssMiB();
  await subs.request({ type: 'subscribe-all', query: SUBSCRIPTION }, 'subscribed');
  await waitForMembers(single, connected.open);
  await new Promise((r) => setTimeout(r, 1_000));
  const connectedRss = single.rssMiB();
  const cpuBefore = single.cpuMs();
  const one = await sendEvents(podium, [single], [subs], connected.open);
  const cpuAfter = single.cpuMs();
  const afterRss = single.rssMiB();
  printTable(`One event to every subscriber (ms from webhook POST to receipt)`, EVENT_HEADERS, eventRows('1 instance', one.perEvent, connected.open));
  const perEvent = (ms: number): number => round(ms / flags.events, 1);
  printTable(`Gateway process CPU per event (ms; the kernel share is mostly the loopback TCP writes, one per socket)`, ['user', 'kernel', 'per subscriber (µs)'], [
    [perEvent(cpuAfter.user - cpuBefore.user), perEvent(cpuAfter.system - cpuBefore.system), round(((cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) * 1000) / flags.events / Math.max(1, connected.open), 1)],
  ]);
  const kib = (mib: number): number => round((mib * 1024) / Math.max(1, connected.open), 1);
  printTable(
    'Gateway process memory (MiB; KiB per socket)',
    ['idle', `${connected.open} connections`, 'and subscribed', `after ${flags.events} events`, 'per idle connection (KiB)', 'per subscription (KiB)', 'per subscriber (KiB)'],
    [[idleRss, idleConnectionsRss, connectedRss, afterRss, kib(idleConnectionsRss - idleRss), kib(connectedRss - idleConnectionsRss), kib(connectedRss - idleRss)]],
  );

  let stormFigures: Record<string, unknown> | null = null;
  if (flags.storm > 0) {
    console.log(`\nphase 2: ${flags.storm} connection attempts in ${flags['storm-ms']} ms at the limit of ${flags.subscribers}; webhooks and /healthz meanwhile`);
    const stormer = startSubscribers(cleanup, 'storm');
    const wsUrl = `${single.url.replace('http', 'ws')}/graphql`;
    const stormDone = stormer.request({ type: 'storm', url: wsUrl, attempts: flags.storm, withinMs: flags['storm-ms'], key: BENCH_VIEWER_KEY }, 'stormed');
    const acks: number[] = [];
    const health: number[] = [];
    const statuses: Record<string, number> = {};
    const interval = flags['storm-ms'] / flags['storm-webhooks'];
    const posts: Promise<void>[] = [];
    const started = nowMs();
    for (let i = 0; i < flags['storm-webhooks']; i++) {
      const wait = i * interval - (nowMs() - started);
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      posts.push(
        postWebhook(podium, single.url).then((sent) => {
          acks.push(sent.ackMs);
          statuses[sent.status] = (statuses[sent.status] ?? 0) + 1;
        }),
      );
      if (i % 10 === 0) {
        posts.push(
          (async () => {
            const t = nowMs();
            await (await fetch(`${single.url}/healthz`)).arrayBuffer();
            health.push(nowMs() - t);
          })(),
        );
      }
    }
    await Promise.all(posts);
    const storm = await stormDone;
    const ready = (await (await fetch(`${single.url}/readyz`)).json()) as Record<string, unknown>;
    const ackSummary = summarize([...acks].sort((a, b) => a - b));
    const healthSummary = summarize([...health].sort((a, b) => a - b));
    printTable('During the storm', ['what', 'count', 'p50 ms', 'p99 ms', 'max ms', 'answers'], [
      ['webhook ack', acks.length, ackSummary.p50, ackSummary.p99, ackSummary.max, JSON.stringify(statuses)],
      ['/healthz', health.length, healthSummary.p50, healthSummary.p99, healthSummary.max, ''],
      ['connection attempts', flags.storm, '', '', '', JSON.stringify(storm.statuses)],
    ]);
    console.log(`/readyz after the storm: ${JSON.stringify(ready)}`);
    stormFigures = { acks: ackSummary, statuses, health: healthSummary, attempts: storm.statuses, readyz: ready };
    await stormer.close();
  }
  await subs.close();
  await single.close();

  let twoFigures: Record<string, unknown> | null = null;
  if (flags['per-instance'] > 0) {
    console.log(`\nphase 3: two instances on one FerretDB and one Redis, ${flags['per-instance']} subscribers each`);
    const mongo = await startFerretDb();
    cleanup.add('FerretDB', () => mongo.stop());
    const redis = process.env.REDIS_URL ? null : await startRedis();
    if (redis) cleanup.add('redis-server', () => redis.stop());
    const shared = { MONGODB_URL: mongo.url, MONGODB_DB: `fanout_${Date.now()}`, REDIS_URL: process.env.REDIS_URL ?? (redis as { url: string }).url };
    const gateways = [await startGatewayProcess(cleanup, 'A', gatewayEnv(shared)), await startGatewayProcess(cleanup, 'B', gatewayEnv(shared))];
    const processes = gateways.map((_, i) => startSubscribers(cleanup, `instance ${i ? 'B' : 'A'}`));
    const counts = await Promise.all(processes.map((p, i) => connectAll(p, (gateways[i] as GatewayProcess).url, flags['per-instance'])));
    const total = counts.reduce((n, c) => n + c.open, 0);
    console.log(`  ${counts.map((c) => c.open).join(' + ')} = ${total} open`);
    const two = await sendEvents(podium, gateways, processes, total);
    printTable('Two instances: one event to every subscriber of both', EVENT_HEADERS, eventRows('2 instances', two.perEvent, total));
    console.log(`every event reached all ${total}: ${two.perEvent.every((e) => e.received === total) ? 'yes' : 'NO'}; duplicates: ${two.perEvent.reduce((n, e) => n + e.duplicates, 0)}`);
    console.log(`RSS: A ${gateways[0]?.rssMiB()} MiB, B ${gateways[1]?.rssMiB()} MiB`);
    twoFigures = { total, perEvent: two.perEvent, rss: gateways.map((g) => g.rssMiB()) };
    for (const p of processes) await p.close();
  }

  console.log(
    JSON.stringify({
      bench: 'fanout',
      machine,
      parameters: flags,
      single: { subscribers: connected.open, rssMiB: { idle: idleRss, connections: idleConnectionsRss, connected: connectedRss, after: afterRss }, perEvent: one.perEvent.map((e) => ({ received: e.received, duplicates: e.duplicates, ...e.latency })) },
      storm: stormFigures,
      twoInstances: twoFigures,
    }),
  );
});
