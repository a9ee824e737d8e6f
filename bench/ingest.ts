// Ingest benchmark on MongoDB: signed Podium message.received webhooks POSTed to
// a real gateway (in its own process, started as `npm start` does) while
// graphql-ws clients (in another process) subscribe to messageReceived. Reports
// the acknowledged ingest rate, ack latency, webhook-to-subscriber delivery
// latency and missing deliveries; then inserts the very documents the gateway
// stored straight through the driver, to show the gateway's overhead over it.
// With --redis the gateway run is repeated on the Redis pubsub.
// Run: npm run bench:ingest -- --help
import { randomUUID } from 'node:crypto';
import { MongoClient, type Document } from 'mongodb';
import { encodeId } from '../src/ids.js';
import { startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { startFerretDb, startRedis } from '../test/setup/ferretdb.js';
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
  runPool,
  startGatewayProcess,
  startSubscribers,
  summarize,
  type Cleanup,
  type GatewayProcess,
  type Summary,
} from './harness.js';
import { cpuMsOf, cpuWindow, databaseCpuMs, printCpuTable, type CpuPerWebhook } from './ingest-cpu.js';

// The message's id comes first: the subscriber process reads it out of each `next` without parsing the rest.
const SUBSCRIPTION = 'subscription { messageReceived { message { id body } id receivedAt } }';
const WEBHOOK_SECRET = 'bench-ingest-podium-secret';
/** The store's write concern for events (src/events/store/mongo.ts), used for the driver run too. */
const WRITE_CONCERN = { w: 'majority' } as const;

const flags = parseFlags('npm run bench:ingest --', {
  events: { default: 500, description: 'measured webhooks per run' },
  concurrency: { default: 8, description: 'webhook POSTs (and driver inserts) in flight at once' },
  rate: { default: 0, min: 0, description: 'webhooks per second, sent at a steady pace whatever the answers (0: as fast as --concurrency allows)' },
  subscribers: { default: 100, description: 'graphql-ws clients, one connection and one messageReceived subscription each' },
  warmup: { default: 20, description: 'unmeasured webhooks first; every subscriber must receive them before the measured run' },
  'max-seconds': { default: 120, description: 'time bound of each measured run; stops starting POSTs after it' },
  'delivery-timeout': { default: 30, description: 'seconds to wait for outstanding deliveries after the last ack' },
  redis: { description: 'repeat the gateway run with the Redis pubsub (redis-server started here unless REDIS_URL is set)' },
});

/** One webhook delivery as Podium would send it; the signature is made at POST time. */
interface BenchEvent {
  readonly rawBody: string;
  /** Fresh podium-timestamp / podium-signature headers. */
  sign(): Record<string, string>;
  readonly eventKey: string;
  readonly messageGlobalId: string;
}

interface GatewayRun {
  readonly pubsub: 'memory' | 'redis';
  readonly database: string;
  readonly requested: number;
  readonly posted: number;
  readonly acked: number;
  readonly rejected: number;
  readonly firstRejection: string | null;
  readonly stoppedByTimeBound: boolean;
  readonly postElapsedMs: number;
  readonly eventsPerSecond: number;
  readonly ackLatencyMs: Summary;
  readonly deliveriesExpected: number;
  readonly delivered: number;
  readonly missingDeliveries: number;
  readonly duplicateDeliveries: number;
  readonly unexpectedDeliveries: number;
  readonly subscriptionErrors: number;
  readonly deliveryLatencyMs: Summary;
  /** First POST start to last receipt by any subscriber. */
  readonly lastDeliveryAfterMs: number;
  readonly deliveriesPerSecond: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  /** The gateway process's CPU (user + kernel) over the measured run, in % of one core. */
  readonly gatewayCpuPercent: number;
  /** CPU (user + kernel) per acknowledged webhook over the measured run, by process (ingest-cpu.ts). */
  readonly cpuMsPerWebhook: CpuPerWebhook;
}

interface DriverRun {
  readonly writes: 'insertOne' | 'insertOne + findOne + claim insertOne';
  readonly database: string;
  readonly documents: number;
  readonly inserted: number;
  readonly failed: number;
  readonly firstFailure: string | null;
  readonly elapsedMs: number;
  /** Documents fully written (all of `writes`) per second. */
  readonly documentsPerSecond: number;
  /** The event insertOne alone: what a webhook's 200 waits for. */
  readonly insertLatencyMs: Summary;
  /** All of `writes` for one document. */
  readonly sequenceLatencyMs: Summary;
  /** CPU (user + kernel) per document: the database process when this script started it (else NaN), and this process (the driver). */
  readonly cpuMsPerDocument: { readonly database: number; readonly client: number };
}

runBenchmark(async (cleanup) => {
  const machine = machineInfo();
  const externalMongo = process.env.MONGODB_URL;
  const mongoUrl = externalMongo ?? (await startService(cleanup, 'FerretDB', startFerretDb));
  const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
  cleanup.add('MongoDB client', () => mongo.close());
  const serverInfo = await mongo.db('admin').command({ buildInfo: 1 });
  const mongoServer = `${externalMongo ? 'MONGODB_URL' : 'FerretDB (startFerretDb, SQLite backend)'}; reports MongoDB ${String(serverInfo.version)}${serverInfo.ferretdb ? `, FerretDB ${String((serverInfo.ferretdb as { version?: string }).version)}` : ''}`;
  const dropAfterwards = (database: string): void =>
    cleanup.add(`database ${database}`, async () => {
      await mongo.db(database).dropDatabase();
    });

  printHeader('bench:ingest - signed Podium webhooks -> MongoDB -> graphql-ws subscribers', machine, { ...flags, mongodb: mongoServer }, [
    'the gateway runs in its own process (src/index.ts, as npm start); the subscribers in another (raw graphql-transport-ws over ws); this process makes, signs and POSTs the webhooks; the database in its own',
    `each subscriber: its own graphql-ws connection, viewer API key in connectionParams, ${SUBSCRIPTION}`,
    'bodies: Podium message.received deliveries as the emulator makes them (unique metadata.eventUid), signed podium-timestamp/podium-signature with the configured PODIUM_WEBHOOK_SECRET just before each POST',
    'ack latency: POST start to response read; delivery latency: POST start to a subscriber receiving the event; p50/p99 nearest-rank over sorted samples',
    'each gateway run uses a fresh database; the driver runs insert the documents the first run stored into a fresh collection with the unique {provider, eventKey} index, one insertOne at a time, same concurrency and write concern (w: majority); the second driver run adds the publish writes the gateway once made per event (a findOne and a publish_claims insertOne; today its insert carries the claim and its publishes are recorded by one publish_progress document per instance)',
  ]);

  const podium = await startPodiumEmulator({ webhookSecret: WEBHOOK_SECRET });
  cleanup.add('Podium emulator (webhook bodies)', () => podium.close());
  const runs: GatewayRun[] = [];
  let driver: DriverRun[] = [];
  const documents: Array<{ pubsub: string } & Record<string, number | string>> = [];
  let events: readonly BenchEvent[] = [];
  for (const pubsub of flags.redis ? (['memory', 'redis'] as const) : (['memory'] as const)) {
    const redisUrl = pubsub === 'redis' ? (process.env.REDIS_URL ?? (await startService(cleanup, 'redis-server', startRedis))) : null;
    const database = `bench_ingest_${randomUUID().slice(0, 8)}`;
    dropAfterwards(database);
    const gateway = await startGatewayProcess(cleanup, `${pubsub} pubsub`, {
      GATEWAY_API_KEYS: `admin:${BENCH_ADMIN_KEY},viewer:${BENCH_VIEWER_KEY}`,
      PODIUM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MONGODB_URL: mongoUrl,
      MONGODB_DB: database,
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    });
    // The same bodies in every run (each run has a fresh database, so none is a duplicate).
    if (events.length === 0) events = await makeEvents(podium, flags.warmup + flags.events);
    console.log(`\nrun: ${pubsub} pubsub - ${flags.subscribers} subscribers, ${flags.warmup} warm-up, then ${flags.events} webhooks at concurrency ${flags.concurrency}`);
    const run = await gatewayRun(cleanup, gateway, pubsub, database, events);
    runs.push(run);
    if (run.rejected > 0) console.log(`  ${run.rejected} webhooks not acknowledged with 200; first: ${run.firstRejection}`);
    if (run.subscriptionErrors > 0) console.log(`  ${run.subscriptionErrors} subscription errors`);
    if (run.stoppedByTimeBound) console.log(`  stopped by the ${flags['max-seconds']} s time bound after ${run.posted} webhooks`);
    await gateway.close();
    // Documents the run left per collection: what a webhook costs the store beyond its event (read after the gateway closed, so its last progress is in).
    documents.push({ pubsub, ...(await documentCounts(mongo, database)) });
    if (driver.length === 0) {
      const stored = await storedDocuments(mongo, database, events);
      console.log(`run: driver insertOne of the ${stored.measured.length} stored documents at concurrency ${flags.concurrency}, alone and followed by the publish writes`);
      const driverDb = `bench_driver_${randomUUID().slice(0, 8)}`;
      dropAfterwards(driverDb);
      driver = [await driverRun(mongo, driverDb, stored, false), await driverRun(mongo, driverDb, stored, true)];
    }
  }

  printTable(
    'Webhook ingest through the gateway (HTTP 200 = stored durably; latency ms)',
    ['pubsub', 'webhooks', 'acked 200', 'other', 'events/s', 'ack p50', 'ack p99', 'ack max', 'gateway CPU % of one core (user + kernel)'],
    runs.map((r) => [r.pubsub, r.posted, r.acked, r.rejected, r.eventsPerSecond, r.ackLatencyMs.p50, r.ackLatencyMs.p99, r.ackLatencyMs.max, r.gatewayCpuPercent]),
  );
  printTable(
    `Webhook to subscriber (${flags.subscribers} subscribers; latency ms from POST start)`,
    ['pubsub', 'expected', 'delivered', 'MISSING', 'duplicate', 'p50', 'p99', 'max', 'deliveries/s', 'last after ms'],
    runs.map((r) => [r.pubsub, r.deliveriesExpected, r.delivered, r.missingDeliveries, r.duplicateDeliveries, r.deliveryLatencyMs.p50, r.deliveryLatencyMs.p99, r.deliveryLatencyMs.max, r.deliveriesPerSecond, r.lastDeliveryAfterMs]),
  );
  const first = runs[0];
  const [insertOnly, withPublish] = driver;
  if (first && insertOnly && withPublish) {
    printTable(
      'Gateway vs the mongodb driver alone, same documents and concurrency (latency ms)',
      ['path', 'documents', 'per second', 'p50', 'p99', 'max', 'all writes p50', 'all writes p99'],
      [
        [`gateway webhook POST -> 200 (${first.pubsub} pubsub)`, first.acked, first.eventsPerSecond, first.ackLatencyMs.p50, first.ackLatencyMs.p99, first.ackLatencyMs.max, '', ''],
        ['driver insertOne', insertOnly.inserted, insertOnly.documentsPerSecond, insertOnly.insertLatencyMs.p50, insertOnly.insertLatencyMs.p99, insertOnly.insertLatencyMs.max, '', ''],
        [
          'driver insertOne + publish writes',
          withPublish.inserted,
          withPublish.documentsPerSecond,
          withPublish.insertLatencyMs.p50,
          withPublish.insertLatencyMs.p99,
          withPublish.insertLatencyMs.max,
          withPublish.sequenceLatencyMs.p50,
          withPublish.sequenceLatencyMs.p99,
        ],
        ['gateway / driver insertOne', '', ratio(first.eventsPerSecond, insertOnly.documentsPerSecond), ratio(first.ackLatencyMs.p50, insertOnly.insertLatencyMs.p50), ratio(first.ackLatencyMs.p99, insertOnly.insertLatencyMs.p99), '', '', ''],
        ['gateway / driver with publish writes', '', ratio(first.eventsPerSecond, withPublish.documentsPerSecond), ratio(first.ackLatencyMs.p50, withPublish.insertLatencyMs.p50), ratio(first.ackLatencyMs.p99, withPublish.insertLatencyMs.p99), '', '', ''],
      ],
    );
    console.log('  p50/p99/max: the event insertOne (what a 200 waits for); "all writes": insertOne + findOne + publish_claims insertOne, what the gateway store does per event');
    printCpuTable(first, insertOnly, withPublish);
    for (const d of driver) if (d.failed > 0) console.log(`  ${d.failed} driver writes (${d.writes}) failed; first: ${d.firstFailure}`);
  }
  printTable(
    'Documents in the gateway database after the run (warm-up and measured webhooks; publish_progress is one document per instance, replaced)',
    ['pubsub', ...STORE_COLLECTIONS],
    documents.map((d) => [d.pubsub, ...STORE_COLLECTIONS.map((c) => d[c] ?? 0)]),
  );
  printTable('Gateway process RSS (MiB)', ['pubsub', 'before the measured run', 'after'], runs.map((r) => [r.pubsub, r.rssBeforeMiB, r.rssAfterMiB]));
  console.log(`\nmissing deliveries: ${runs.map((r) => `${r.pubsub} ${r.missingDeliveries}`).join(', ')} (expected 0)`);
  console.log(JSON.stringify({ bench: 'ingest', machine, parameters: { ...flags, mongodb: mongoServer, subscription: SUBSCRIPTION }, runs, driver, documents }));
});

const STORE_COLLECTIONS = ['events', 'published_events', 'publish_claims', 'publish_progress', 'deliveries'] as const;

async function documentCounts(mongo: MongoClient, database: string): Promise<Record<string, number>> {
  const db = mongo.db(database);
  const counts = await Promise.all(STORE_COLLECTIONS.map((c) => db.collection(c).countDocuments({})));
  return Object.fromEntries(STORE_COLLECTIONS.map((c, i) => [c, counts[i] as number]));
}

async function startService(cleanup: Cleanup, name: string, start: () => Promise<{ url: string; stop(): Promise<void> }>): Promise<string> {
  const service = await start();
  cleanup.add(name, () => service.stop());
  return service.url;
}

/** Podium message.received deliveries made by the emulator; no webhook target is registered, so it sends none itself. */
async function makeEvents(podium: PodiumEmulator, count: number): Promise<BenchEvent[]> {
  const out: BenchEvent[] = [];
  for (let i = 0; i < count; i++) {
    const emitted = await podium.emitMessageEvent('RECEIVED');
    if (emitted.deliveries.length > 0) throw new Error(`Expected the emulator to have no webhook targets, but it delivered to ${emitted.deliveries.length}`);
    const body = JSON.parse(emitted.rawBody) as { metadata?: { eventUid?: string } };
    const eventUid = body.metadata?.eventUid;
    if (!eventUid || !emitted.messageId) throw new Error(`Expected a Podium delivery with metadata.eventUid and a message id, got ${emitted.rawBody.slice(0, 200)}`);
    // The dedupe key Podium deliveries get in the store (podiumEventKey).
    const rawBody = emitted.rawBody;
    out.push({ rawBody, sign: () => podium.signWebhook(rawBody), eventKey: `uid:${eventUid}`, messageGlobalId: encodeId('PODIUM', 'Message', emitted.messageId) });
  }
  return out;
}

async function gatewayRun(cleanup: Cleanup, gateway: GatewayProcess, pubsub: GatewayRun['pubsub'], database: string, events: readonly BenchEvent[]): Promise<GatewayRun> {
  const S = flags.subscribers;
  const W = flags.warmup;
  const ids = events.map((e) => e.messageGlobalId);
  const postStart = new Float64Array(events.length);

  const subscribers = startSubscribers(cleanup, `${pubsub} subscribers`);
  const connected = await subscribers.request(
    { type: 'connect', url: `${gateway.url.replace(/^http/, 'ws')}/graphql`, count: S, key: BENCH_VIEWER_KEY, query: SUBSCRIPTION, concurrency: 50 },
    'connected',
  );
  if (connected.failed > 0) throw new Error(`Expected ${S} subscribers to connect, ${connected.failed} failed; first: ${connected.firstError}`);
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  const deadline = nowMs() + 30_000;
  while ((await metric('gateway_subscription_group_members')) < S) {
    if (nowMs() > deadline) throw new Error(`Expected ${S} subscriptions registered on the gateway within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const report = async (from: number, to: number): Promise<Readonly<Record<string, { readonly times: number[]; readonly duplicates: number }>>> =>
    (await subscribers.request({ type: 'report', eventIds: ids.slice(from, to) }, 'report')).events;
  const receivedCount = async (from: number, to: number): Promise<number> => Object.values(await report(from, to)).reduce((n, e) => n + e.times.length, 0);
  const waitFor = async (from: number, to: number, expected: number): Promise<void> => {
    const end = nowMs() + flags['delivery-timeout'] * 1000;
    while ((await receivedCount(from, to)) < expected && nowMs() < end) await new Promise((r) => setTimeout(r, 50));
  };

  let acked = 0;
  let rejected = 0;
  let firstRejection: string | null = null;
  const ackLatency: number[] = [];
  const post = async (index: number): Promise<void> => {
    const event = events[index] as BenchEvent;
    const headers = { 'content-type': 'application/json', ...event.sign() };
    const started = performance.timeOrigin + performance.now();
    postStart[index] = started;
    let status = 0;
    let text: string;
    try {
      const res = await fetch(`${gateway.url}/webhooks/podium`, { method: 'POST', headers, body: event.rawBody });
      status = res.status;
      text = await res.text();
    } catch (err) {
      text = `fetch failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    const elapsed = performance.timeOrigin + performance.now() - started;
    if (index < W) return;
    if (status === 200) {
      acked++;
      ackLatency.push(elapsed);
    } else {
      rejected++;
      firstRejection ??= `HTTP ${status}: ${text.slice(0, 300)}`;
    }
  };

  // Warm-up: also proves every subscriber is live before anything is measured.
  await runPool({ total: W, concurrency: flags.concurrency, maxMs: flags['max-seconds'] * 1000, task: post });
  await waitFor(0, W, S * W);
  const warm = await receivedCount(0, W);
  if (warm < S * W) throw new Error(`Expected all ${S * W} warm-up deliveries within ${flags['delivery-timeout']} s, got ${warm}`);

  const rssBeforeMiB = gateway.rssMiB();
  const cpuBefore = gateway.cpuMs();
  const cpuWindowOf = cpuWindow(gateway.pid);
  const pool = flags.rate > 0 ? await paced(events.length - W, flags.rate, (i) => post(W + i)) : await runPool({ total: events.length - W, concurrency: flags.concurrency, maxMs: flags['max-seconds'] * 1000, task: (i) => post(W + i) });
  const cpuAfter = gateway.cpuMs();
  const cpuUsed = cpuWindowOf();
  const posted = pool.completed;
  const expected = S * acked;
  await waitFor(W, W + posted, expected);
  const rssAfterMiB = gateway.rssMiB();

  const received = await report(W, W + posted);
  const final = await subscribers.request({ type: 'report', eventIds: [] }, 'report');
  const deliveryLatency: number[] = [];
  let delivered = 0;
  let duplicates = 0;
  let firstPost = Number.POSITIVE_INFINITY;
  let lastReceipt = Number.NEGATIVE_INFINITY;
  for (let i = W; i < W + posted; i++) {
    const start = postStart[i] as number;
    firstPost = Math.min(firstPost, start);
    const entry = received[ids[i] as string] ?? { times: [], duplicates: 0 };
    delivered += entry.times.length;
    duplicates += entry.duplicates;
    for (const at of entry.times) {
      deliveryLatency.push(at - start);
      lastReceipt = Math.max(lastReceipt, at);
    }
  }
  await subscribers.close();
  const span = lastReceipt - firstPost;
  return {
    pubsub,
    database,
    requested: flags.events,
    posted,
    acked,
    rejected,
    firstRejection,
    stoppedByTimeBound: pool.timedOut,
    postElapsedMs: round(pool.elapsedMs, 1),
    eventsPerSecond: round(acked / (pool.elapsedMs / 1000), 1),
    ackLatencyMs: summarize(ackLatency.sort((a, b) => a - b)),
    deliveriesExpected: expected,
    delivered,
    missingDeliveries: Math.max(0, expected - delivered),
    duplicateDeliveries: duplicates,
    unexpectedDeliveries: 0,
    subscriptionErrors: final.errors,
    deliveryLatencyMs: summarize(deliveryLatency.sort((a, b) => a - b)),
    lastDeliveryAfterMs: round(Number.isFinite(span) ? span : Number.NaN, 1),
    deliveriesPerSecond: round(Number.isFinite(span) && span > 0 ? delivered / (span / 1000) : Number.NaN, 1),
    rssBeforeMiB,
    rssAfterMiB,
    gatewayCpuPercent: round(((cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / pool.elapsedMs) * 100, 1),
    cpuMsPerWebhook: cpuUsed(Math.max(1, acked)),
  };
}

/** Starts `total` tasks at `perSecond`, on schedule whether or not earlier ones have answered (an open loop, as providers send). */
async function paced(total: number, perSecond: number, task: (index: number) => Promise<void>): Promise<{ completed: number; elapsedMs: number; timedOut: boolean }> {
  const started = nowMs();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = (i * 1000) / perSecond - (nowMs() - started);
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    running.push(task(i));
  }
  await Promise.all(running);
  return { completed: total, elapsedMs: nowMs() - started, timedOut: false };
}

/** The documents the gateway stored for the benchmark's events, in event order, split into warm-up and measured. */
async function storedDocuments(mongo: MongoClient, database: string, events: readonly BenchEvent[]): Promise<{ warmup: Document[]; measured: Document[] }> {
  const documents = await mongo.db(database).collection('events').find({ eventKey: { $in: events.map((e) => e.eventKey) } }).toArray();
  const byKey = new Map(documents.map((d) => [String(d.eventKey), d]));
  const pick = (list: readonly BenchEvent[]): Document[] => list.flatMap((e) => byKey.get(e.eventKey) ?? []);
  return { warmup: pick(events.slice(0, flags.warmup)), measured: pick(events.slice(flags.warmup)) };
}

/**
 * The stored documents inserted one insertOne at a time into a fresh collection
 * with the store's unique index. With `withPublishWrites`, each insert is
 * followed by what the gateway's store does to publish an event (a read that
 * the event exists, then a publish_claims insert), so the reader can tell the
 * database's share of the gateway's figure from the gateway's own.
 */
async function driverRun(mongo: MongoClient, database: string, stored: { warmup: Document[]; measured: Document[] }, withPublishWrites: boolean): Promise<DriverRun> {
  const db = mongo.db(database);
  const collection = db.collection(withPublishWrites ? 'events_with_claims' : 'events', { writeConcern: WRITE_CONCERN });
  const claims = db.collection<{ _id: unknown; claimedAt: Date }>('publish_claims', { writeConcern: WRITE_CONCERN });
  await collection.createIndex({ provider: 1, eventKey: 1 }, { name: 'provider_eventKey_unique', unique: true });
  let failed = 0;
  let firstFailure: string | null = null;
  const insertLatency: number[] = [];
  const sequenceLatency: number[] = [];
  const write = async (document: Document, measured: boolean): Promise<void> => {
    const started = nowMs();
    try {
      // A copy: insertOne would otherwise be handed a document it could annotate.
      await collection.insertOne({ ...document });
      const inserted = nowMs();
      if (withPublishWrites) {
        await collection.findOne({ _id: document._id }, { projection: { _id: 1 } });
        await claims.insertOne({ _id: document._id, claimedAt: new Date() });
      }
      if (measured) {
        insertLatency.push(inserted - started);
        sequenceLatency.push(nowMs() - started);
      }
    } catch (err) {
      if (!measured) throw err;
      failed++;
      firstFailure ??= err instanceof Error ? err.message : String(err);
    }
  };
  await runPool({ total: stored.warmup.length, concurrency: flags.concurrency, maxMs: flags['max-seconds'] * 1000, task: (i) => write(stored.warmup[i] as Document, false) });
  const databaseBefore = databaseCpuMs();
  const clientBefore = process.cpuUsage();
  const pool = await runPool({
    total: stored.measured.length,
    concurrency: flags.concurrency,
    maxMs: flags['max-seconds'] * 1000,
    task: (i) => write(stored.measured[i] as Document, true),
  });
  return {
    writes: withPublishWrites ? 'insertOne + findOne + claim insertOne' : 'insertOne',
    database,
    documents: stored.measured.length,
    inserted: insertLatency.length,
    failed,
    firstFailure,
    elapsedMs: round(pool.elapsedMs, 1),
    cpuMsPerDocument: { database: round((databaseCpuMs() - databaseBefore) / Math.max(1, insertLatency.length), 2), client: round(cpuMsOf(process.cpuUsage(clientBefore)) / Math.max(1, insertLatency.length), 2) },
    documentsPerSecond: round(insertLatency.length / (pool.elapsedMs / 1000), 1),
    insertLatencyMs: summarize(insertLatency),
    sequenceLatencyMs: summarize(sequenceLatency),
  };
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-';
}
