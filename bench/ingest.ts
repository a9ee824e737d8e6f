// Ingest benchmark on MongoDB: signed Podium message.received webhooks POSTed to
// a real gateway while graphql-ws clients subscribe to messageReceived. Reports
// the acknowledged ingest rate, ack latency, webhook-to-subscriber delivery
// latency and missing deliveries; then inserts the very documents the gateway
// stored straight through the driver, to show the gateway's overhead over it.
// With --redis the gateway run is repeated on the Redis pubsub.
// Run: npm run bench:ingest -- --help
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { MongoClient, type Document } from 'mongodb';
import WebSocket from 'ws';
import { encodeId } from '../src/ids.js';
import type { PodiumEmulator } from '../src/sandbox/podium/index.js';
import { startFerretDb, startRedis } from '../test/setup/ferretdb.js';
import {
  BENCH_VIEWER_KEY,
  machineInfo,
  memorySnapshot,
  nowMs,
  parseFlags,
  printHeader,
  printTable,
  round,
  runBenchmark,
  runPool,
  startBenchGateway,
  startCpuReading,
  summarize,
  until,
  type BenchGateway,
  type Cleanup,
  type CpuReading,
  type MemorySnapshot,
  type Summary,
} from './harness.js';

const SUBSCRIPTION = 'subscription { messageReceived { id receivedAt message { id body } } }';
/** The store's write concern for events (src/events/store/mongo.ts), used for the driver run too. */
const WRITE_CONCERN = { w: 'majority' } as const;

const flags = parseFlags('npm run bench:ingest --', {
  events: { default: 500, description: 'measured webhooks per run' },
  concurrency: { default: 8, description: 'webhook POSTs (and driver inserts) in flight at once' },
  subscribers: { default: 100, description: 'graphql-ws clients, one connection and one messageReceived subscription each' },
  warmup: { default: 20, description: 'unmeasured webhooks first; every subscriber must receive them before the measured run' },
  'max-seconds': { default: 120, description: 'time bound of each measured run; stops starting POSTs after it' },
  'delivery-timeout': { default: 30, description: 'seconds to wait for outstanding deliveries after the last ack' },
  redis: { description: 'repeat the gateway run with the Redis pubsub (redis-server started here unless REDIS_URL is set)' },
});

/** One webhook delivery as Podium would send it; the signature is made at POST time. */
interface BenchEvent {
  readonly rawBody: string;
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
  readonly firstSubscriptionError: string | null;
  readonly deliveryLatencyMs: Summary;
  /** First POST start to last receipt by any subscriber. */
  readonly lastDeliveryAfterMs: number;
  readonly deliveriesPerSecond: number;
  readonly memoryBefore: MemorySnapshot;
  readonly memoryAfter: MemorySnapshot;
  readonly cpu: CpuReading;
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
    'gateway, Podium emulator, webhook sender and all subscribers share this one Node.js process (one event loop); the database runs in its own process',
    `each subscriber: its own graphql-ws connection (ws package), viewer API key in connectionParams, ${SUBSCRIPTION}`,
    'bodies: Podium message.received deliveries as the emulator makes them (unique metadata.eventUid), signed podium-timestamp/podium-signature with the configured PODIUM_WEBHOOK_SECRET just before each POST',
    'ack latency: POST start to response read; delivery latency: POST start to a subscriber receiving the event; p50/p99 nearest-rank over sorted samples',
    'each gateway run uses a fresh database; the driver runs insert the documents the first run stored into a fresh collection with the unique {provider, eventKey} index, one insertOne at a time, same concurrency and write concern (w: majority); the second driver run adds the publish claim the gateway makes per event (a findOne and a publish_claims insertOne)',
  ]);

  const runs: GatewayRun[] = [];
  let driver: DriverRun[] = [];
  let events: readonly BenchEvent[] = [];
  for (const pubsub of flags.redis ? (['memory', 'redis'] as const) : (['memory'] as const)) {
    const redisUrl = pubsub === 'redis' ? (process.env.REDIS_URL ?? (await startService(cleanup, 'redis-server', startRedis))) : null;
    const database = `bench_ingest_${randomUUID().slice(0, 8)}`;
    dropAfterwards(database);
    const bench = await startBenchGateway(cleanup, { env: { MONGODB_URL: mongoUrl, MONGODB_DB: database, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) } });
    // The same bodies in every run (each run has a fresh database, so none is a duplicate).
    if (events.length === 0) events = await makeEvents(podiumOf(bench), flags.warmup + flags.events);
    console.log(`\nrun: ${pubsub} pubsub - ${flags.subscribers} subscribers, ${flags.warmup} warm-up, then ${flags.events} webhooks at concurrency ${flags.concurrency}`);
    const run = await gatewayRun(cleanup, bench, pubsub, database, events);
    runs.push(run);
    if (run.rejected > 0) console.log(`  ${run.rejected} webhooks not acknowledged with 200; first: ${run.firstRejection}`);
    if (run.subscriptionErrors > 0) console.log(`  ${run.subscriptionErrors} subscription errors; first: ${run.firstSubscriptionError}`);
    if (run.stoppedByTimeBound) console.log(`  stopped by the ${flags['max-seconds']} s time bound after ${run.posted} webhooks`);
    if (driver.length === 0) {
      const stored = await storedDocuments(mongo, database, events);
      await bench.close();
      console.log(`run: driver insertOne of the ${stored.measured.length} stored documents at concurrency ${flags.concurrency}, alone and followed by the publish writes`);
      const driverDb = `bench_driver_${randomUUID().slice(0, 8)}`;
      dropAfterwards(driverDb);
      driver = [await driverRun(mongo, driverDb, stored, false), await driverRun(mongo, driverDb, stored, true)];
    } else {
      await bench.close();
    }
  }

  printTable(
    'Webhook ingest through the gateway (HTTP 200 = stored durably; latency ms)',
    ['pubsub', 'webhooks', 'acked 200', 'other', 'events/s', 'ack p50', 'ack p99', 'ack max', 'CPU % (this process)', 'event loop busy %'],
    runs.map((r) => [r.pubsub, r.posted, r.acked, r.rejected, r.eventsPerSecond, r.ackLatencyMs.p50, r.ackLatencyMs.p99, r.ackLatencyMs.max, r.cpu.cpuPercentOfOneCore, r.cpu.eventLoopBusyPercent]),
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
    for (const d of driver) if (d.failed > 0) console.log(`  ${d.failed} driver writes (${d.writes}) failed; first: ${d.firstFailure}`);
  }
  printTable(
    'Process memory (MiB; heap not collected before reading)',
    ['pubsub', 'RSS before', 'RSS after', 'heap used before', 'heap used after'],
    runs.map((r) => [r.pubsub, r.memoryBefore.rssMiB, r.memoryAfter.rssMiB, r.memoryBefore.heapUsedMiB, r.memoryAfter.heapUsedMiB]),
  );
  console.log(`\nmissing deliveries: ${runs.map((r) => `${r.pubsub} ${r.missingDeliveries}`).join(', ')} (expected 0)`);
  console.log(JSON.stringify({ bench: 'ingest', machine, parameters: { ...flags, mongodb: mongoServer, subscription: SUBSCRIPTION }, runs, driver }));
});

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
    out.push({ rawBody: emitted.rawBody, eventKey: `uid:${eventUid}`, messageGlobalId: encodeId('PODIUM', 'Message', emitted.messageId) });
  }
  return out;
}

async function gatewayRun(
  cleanup: Cleanup,
  bench: BenchGateway,
  pubsub: GatewayRun['pubsub'],
  database: string,
  events: readonly BenchEvent[],
): Promise<GatewayRun> {
  const podium = podiumOf(bench);
  const S = flags.subscribers;
  const E = events.length;
  const W = flags.warmup;
  const indexByMessage = new Map(events.map((e, i) => [e.messageGlobalId, i]));
  const postStart = new Float64Array(E);
  // Receipt time per (subscriber, event); NaN = not (yet) received.
  const receivedAt = new Float64Array(S * E).fill(Number.NaN);
  let warmDelivered = 0;
  let delivered = 0;
  let duplicates = 0;
  let unexpected = 0;
  let subscriptionErrors = 0;
  let firstSubscriptionError: string | null = null;
  const subscriptionError = (what: unknown): void => {
    subscriptionErrors++;
    firstSubscriptionError ??= what instanceof Error ? what.message : JSON.stringify(what).slice(0, 300);
  };

  // Subscribers.
  const clients: Client[] = [];
  let disposed: Promise<void> | null = null;
  const disposeClients = (): Promise<void> => (disposed ??= Promise.all(clients.map((c) => c.dispose())).then(() => undefined));
  cleanup.add(`${S} graphql-ws clients`, disposeClients);
  const wsUrl = `${bench.url.replace(/^http/, 'ws')}/graphql`;
  for (let s = 0; s < S; s++) {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${BENCH_VIEWER_KEY}` },
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(client);
    client.subscribe<{ messageReceived: { message: { id: string } } }>(
      { query: SUBSCRIPTION },
      {
        next(value) {
          const at = nowMs();
          if (value.errors?.length) return subscriptionError(value.errors);
          const index = indexByMessage.get(value.data?.messageReceived.message.id ?? '');
          if (index === undefined) {
            unexpected++;
            return;
          }
          const slot = s * E + index;
          if (!Number.isNaN(receivedAt[slot] as number)) {
            duplicates++;
            return;
          }
          receivedAt[slot] = at;
          if (index < W) warmDelivered++;
          else delivered++;
        },
        error: subscriptionError,
        complete: () => subscriptionError(new Error(`subscriber ${s} completed before the benchmark ended`)),
      },
    );
  }
  await until(() => bench.gateway.pubsub.listenerCount() >= S, `${S} subscriptions registered on the gateway`, 30_000);
  // For Redis: resolves once the gateway's SUBSCRIBE is in effect.
  await bench.gateway.pubsub.ping();

  let acked = 0;
  let rejected = 0;
  let firstRejection: string | null = null;
  const ackLatency: number[] = [];
  const post = async (index: number): Promise<void> => {
    const event = events[index] as BenchEvent;
    const headers = { 'content-type': 'application/json', ...podium.signWebhook(event.rawBody) };
    const started = nowMs();
    postStart[index] = started;
    let status = 0;
    let text: string;
    try {
      const res = await fetch(`${bench.url}/webhooks/podium`, { method: 'POST', headers, body: event.rawBody });
      status = res.status;
      text = await res.text();
    } catch (err) {
      text = `fetch failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    const elapsed = nowMs() - started;
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
  await until(() => warmDelivered >= S * W, `all ${S * W} warm-up deliveries`, flags['delivery-timeout'] * 1000);

  const memoryBefore = memorySnapshot();
  const endCpu = startCpuReading();
  const pool = await runPool({ total: events.length - W, concurrency: flags.concurrency, maxMs: flags['max-seconds'] * 1000, task: (i) => post(W + i) });
  const posted = pool.completed;
  const expected = S * acked;
  try {
    await until(() => delivered >= expected, `${expected} deliveries`, flags['delivery-timeout'] * 1000);
  } catch {
    // Reported as missing deliveries below.
  }
  const cpu = endCpu();
  const memoryAfter = memorySnapshot();

  const deliveryLatency: number[] = [];
  let firstPost = Number.POSITIVE_INFINITY;
  let lastReceipt = Number.NEGATIVE_INFINITY;
  for (let i = W; i < W + posted; i++) {
    const start = postStart[i] as number;
    firstPost = Math.min(firstPost, start);
    for (let s = 0; s < S; s++) {
      const at = receivedAt[s * E + i] as number;
      if (Number.isNaN(at)) continue;
      deliveryLatency.push(at - start);
      lastReceipt = Math.max(lastReceipt, at);
    }
  }
  await disposeClients();
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
    ackLatencyMs: summarize(ackLatency),
    deliveriesExpected: expected,
    delivered,
    missingDeliveries: Math.max(0, expected - delivered),
    duplicateDeliveries: duplicates,
    unexpectedDeliveries: unexpected,
    subscriptionErrors,
    firstSubscriptionError,
    deliveryLatencyMs: summarize(deliveryLatency),
    lastDeliveryAfterMs: round(Number.isFinite(span) ? span : Number.NaN, 1),
    deliveriesPerSecond: round(Number.isFinite(span) && span > 0 ? delivered / (span / 1000) : Number.NaN, 1),
    memoryBefore,
    memoryAfter,
    cpu,
  };
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
    documentsPerSecond: round(insertLatency.length / (pool.elapsedMs / 1000), 1),
    insertLatencyMs: summarize(insertLatency),
    sequenceLatencyMs: summarize(sequenceLatency),
  };
}

function podiumOf(bench: BenchGateway): PodiumEmulator {
  if (!bench.podium) throw new Error('Expected the Podium emulator in this process (it makes and signs the webhook bodies), got one in a child process');
  return bench.podium;
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-';
}
