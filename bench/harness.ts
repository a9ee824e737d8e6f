// Shared machinery of the benchmarks: a real gateway on an ephemeral port in
// front of the Podium emulator (in this process, or in a child process so the
// emulator's work does not share the gateway's event loop), a bounded worker
// pool, percentiles, tables, the machine description, flag parsing and a
// cleanup stack that runs on success, error and Ctrl-C alike. Benchmarks never
// import from test/. Started with EMULATOR_CHILD_FLAG, this file is that child.
import { fork, type ChildProcess } from 'node:child_process';
import type { ChildMessage, ParentMessage } from './fanout-subscribers.js';
import { availableParallelism, cpus, loadavg, platform, arch, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, type GatewayConfig } from '../src/config.js';
import type { PodiumConfig } from '../src/providers/podium/config.js';
import type { WithApi } from '../src/sandbox/types.js';
import type { MessageEventKind } from '../src/model.js';
import type { LoggedRequest } from '../src/sandbox/kit.js';
import { startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { createGateway, type Gateway } from '../src/server.js';

export const BENCH_VIEWER_KEY = 'bench-viewer-key';
export const BENCH_ADMIN_KEY = 'bench-admin-key';
/** The highest PODIUM_REQUESTS_PER_MINUTE loadConfig accepts. */
export const UNTHROTTLED_REQUESTS_PER_MINUTE = 100_000;

// ---------------------------------------------------------------- the machine

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly totalMemoryGiB: number;
  /** 1-minute load average when the benchmark started: other work on the machine skews the figures. */
  readonly loadAverageAtStart: number;
}

export function machineInfo(): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${arch()}`,
    totalMemoryGiB: round(totalmem() / 2 ** 30, 1),
    loadAverageAtStart: round(loadavg()[0] ?? Number.NaN, 2),
  };
}

export interface MemorySnapshot {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
}

export function memorySnapshot(): MemorySnapshot {
  const m = process.memoryUsage();
  return { rssMiB: round(m.rss / 2 ** 20, 1), heapUsedMiB: round(m.heapUsed / 2 ** 20, 1), heapTotalMiB: round(m.heapTotal / 2 ** 20, 1) };
}

export interface CpuReading {
  /** Process CPU time (user + system, all threads) over wall time, in % of one core. */
  readonly cpuPercentOfOneCore: number;
  /** Share of the wall time the main event loop was busy, in %; near 100 means this one thread was the bottleneck. */
  readonly eventLoopBusyPercent: number;
  /** Process CPU time (user + system, all threads, GC included) in ms. */
  readonly cpuMs: number;
}

/** Starts a CPU reading; the returned function ends it. */
export function startCpuReading(): () => CpuReading {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const started = nowMs();
  return () => {
    const used = process.cpuUsage(cpu);
    const wallMs = nowMs() - started;
    return {
      cpuPercentOfOneCore: round(((used.user + used.system) / 1000 / wallMs) * 100, 1),
      eventLoopBusyPercent: round(performance.eventLoopUtilization(elu).utilization * 100, 1),
      cpuMs: round((used.user + used.system) / 1000, 1),
    };
  };
}

/**
 * Starts V8's CPU profiler in this process; the returned function stops it,
 * writes a .cpuprofile (open it in Chrome DevTools or speedscope) under the
 * system's temporary directory and answers its path.
 */
export async function startCpuProfile(name: string): Promise<() => Promise<string>> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const { writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = `${tmpdir()}/${name}-${Date.now()}.cpuprofile`;
    await writeFile(path, JSON.stringify(profile));
    return path;
  };
}

// ---------------------------------------------------------------- statistics

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile over ascending samples: the smallest sample with at least p % of samples at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Milliseconds in, milliseconds out (rounded to 0.01 ms). */
export function summarize(samples: readonly number[]): Summary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  const sum = list.reduce((a, b) => a + b, 0);
  return {
    count: list.length,
    min: round(list[0] ?? Number.NaN, 2),
    p50: round(percentile(list, 50), 2),
    p99: round(percentile(list, 99), 2),
    max: round(list[list.length - 1] ?? Number.NaN, 2),
    mean: round(list.length ? sum / list.length : Number.NaN, 2),
  };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds since an arbitrary origin, from the monotonic clock. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// ---------------------------------------------------------------- output

export function printTable(title: string, headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: ReadonlyArray<string | number>): string =>
    r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i] ?? 0) : String(c).padStart(widths[i] ?? 0))).join('  ');
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '-';
  return Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 1 : 2);
}

export function printHeader(title: string, machine: MachineInfo, parameters: Readonly<Record<string, unknown>>, notes: readonly string[]): void {
  console.log(`# ${title}`);
  console.log(
    `machine: ${machine.cpus} cpus (${machine.cpuModel}), ${machine.totalMemoryGiB} GiB, node ${machine.node}, ${machine.platform}, load average ${machine.loadAverageAtStart} at start`,
  );
  console.log(`parameters: ${Object.entries(parameters).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  for (const note of notes) console.log(`note: ${note}`);
}

// ---------------------------------------------------------------- flags

export interface FlagSpec {
  readonly description: string;
  /** A whole number flag when given; a boolean switch when absent. */
  readonly default?: number;
  readonly min?: number;
}

export type FlagValues<S extends Record<string, FlagSpec>> = { [K in keyof S]: S[K]['default'] extends number ? number : boolean };

/** Parses `--name value` flags; exits with a usage message on anything else. */
export function parseFlags<S extends Record<string, FlagSpec>>(command: string, spec: S, argv: readonly string[] = process.argv.slice(2)): FlagValues<S> {
  const usage = (): string =>
    [`usage: ${command} [flags]`, ...Object.entries(spec).map(([name, s]) => `  --${name}${s.default !== undefined ? ` <n>  (default ${s.default})` : ''}  ${s.description}`), '  --help'].join('\n');
  const options = Object.fromEntries([
    ...Object.entries(spec).map(([name, s]) => [name, { type: s.default !== undefined ? ('string' as const) : ('boolean' as const) }]),
    ['help', { type: 'boolean' as const }],
  ]);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${usage()}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const out: Record<string, number | boolean> = {};
  for (const [name, s] of Object.entries(spec)) {
    const raw = values[name];
    if (s.default === undefined) {
      out[name] = raw === true;
      continue;
    }
    if (raw === undefined) {
      out[name] = s.default;
      continue;
    }
    const n = Number(raw);
    const min = s.min ?? 1;
    if (!Number.isInteger(n) || n < min) {
      console.error(`--${name} expects a whole number >= ${min}, got "${String(raw)}"\n${usage()}`);
      process.exit(2);
    }
    out[name] = n;
  }
  return out as FlagValues<S>;
}

// ---------------------------------------------------------------- load

export interface PoolResult {
  /** Tasks started (= completed: the pool waits for every started task). */
  readonly completed: number;
  /** Whether the time bound stopped the pool before `total` tasks. */
  readonly timedOut: boolean;
  /** First task start to last task end, in ms. */
  readonly elapsedMs: number;
}

/**
 * Runs `task(0..total-1)` on `concurrency` workers; stops starting tasks after
 * `maxMs`. A task must not throw (count its failures itself); a throw stops the pool.
 */
export async function runPool(options: { total: number; concurrency: number; maxMs: number; task: (index: number) => Promise<void> }): Promise<PoolResult> {
  const { total, concurrency, maxMs, task } = options;
  const started = nowMs();
  const deadline = started + maxMs;
  let next = 0;
  let timedOut = false;
  const worker = async (): Promise<void> => {
    while (next < total) {
      if (nowMs() > deadline) {
        timedOut = true;
        return;
      }
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { completed: next, timedOut, elapsedMs: nowMs() - started };
}

/** Resolves once `check()` holds, looking every 10 ms; rejects after `timeoutMs` naming `what`. */
export async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  while (!check()) {
    if (nowMs() > deadline) throw new Error(`Expected ${what} within ${timeoutMs} ms; it did not happen`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------- cleanup

export interface Cleanup {
  /** Registers a disposer; they run last-registered first. */
  add(name: string, dispose: () => Promise<void> | void): void;
  run(): Promise<void>;
}

/** Bound on each disposer so a stuck server cannot keep the benchmark alive. */
const DISPOSE_TIMEOUT_MS = 15_000;

export function createCleanup(): Cleanup {
  const stack: Array<{ name: string; dispose: () => Promise<void> | void }> = [];
  let running: Promise<void> | null = null;
  return {
    add(name, dispose) {
      stack.push({ name, dispose });
    },
    run() {
      running ??= (async () => {
        while (stack.length > 0) {
          const { name, dispose } = stack.pop() as (typeof stack)[number];
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              Promise.resolve().then(dispose),
              new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`did not finish within ${DISPOSE_TIMEOUT_MS} ms`)), DISPOSE_TIMEOUT_MS);
              }),
            ]);
          } catch (err) {
            console.error(`cleanup: closing ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
          } finally {
            clearTimeout(timer);
          }
        }
      })();
      return running;
    },
  };
}

/**
 * Runs a benchmark with a cleanup stack that is emptied on success, on error
 * and on SIGINT/SIGTERM; exits 0 on success, 1 on error, 130/143 on a signal.
 */
export function runBenchmark(body: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = createCleanup();
  const finish = async (code: number): Promise<never> => {
    await cleanup.run();
    // Everything is closed; exit even if a library left a handle open.
    process.exit(code);
  };
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void finish(code);
    });
  }
  body(cleanup).then(
    () => finish(0),
    (err: unknown) => {
      console.error(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return finish(1);
    },
  );
}

// ---------------------------------------------------------------- the emulator

export interface EmulatorStats {
  /** Requests since the last reset. */
  readonly requests: number;
  /** Requests since the last reset by `METHOD /path/:id` route. */
  readonly byEndpoint: Readonly<Record<string, number>>;
  /** Requests since the last reset by the status answered (0 = not answered yet, or never). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** The emulator process's RSS and CPU time since it started; NaN when it shares this process. */
  readonly rssMiB: number;
  readonly cpuMs: number;
}

/** What the benchmarks need of the Podium emulator, wherever it runs. */
export interface EmulatorControl {
  readonly where: 'in-process' | 'child process';
  readonly url: string;
  providerConfig(): WithApi<PodiumConfig>;
  setLatency(ms: number): Promise<void>;
  resetRequests(): Promise<void>;
  stats(): Promise<EmulatorStats>;
  /** Makes the emulator deliver its webhooks to `url`. */
  addWebhookTarget(url: string): Promise<void>;
  /** A new message in a conversation (random when not given), delivered as a signed webhook. */
  emitMessageEvent(kind: MessageEventKind, conversationId?: string): Promise<EmittedSummary>;
  close(): Promise<void>;
}

/** What the benchmarks need of an emitted event (the raw body stays in the emulator). */
export interface EmittedSummary {
  readonly messageId: string | null;
  readonly conversationId: string;
  readonly deliveries: ReadonlyArray<{ readonly url: string; readonly status: number }>;
}

export const EMULATOR_CHILD_FLAG = '--bench-podium-emulator-child';
/** How long the emulator child may take to start or to answer a control message. */
const CHILD_TIMEOUT_MS = 30_000;

/** `/v4/conversations/abc/messages` -> `/v4/conversations/:id/messages`. */
export function endpointOf(method: string, path: string): string {
  return `${method} ${path
    .split('/')
    .map((segment, i) => (i > 2 && segment !== 'messages' ? ':id' : segment))
    .join('/')}`;
}

function countBy(requests: readonly LoggedRequest[], key: (r: LoggedRequest) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return out;
}

function requestStats(podium: PodiumEmulator): Pick<EmulatorStats, 'requests' | 'byEndpoint' | 'byStatus'> {
  return {
    requests: podium.requestCount(),
    byEndpoint: countBy(podium.requests, (r) => endpointOf(r.method, r.path)),
    byStatus: countBy(podium.requests, (r) => String(r.status)),
  };
}

function inProcessControl(podium: PodiumEmulator): EmulatorControl {
  let closed: Promise<void> | null = null;
  return {
    where: 'in-process',
    url: podium.url,
    providerConfig: () => podium.providerConfig(),
    async setLatency(ms) {
      podium.setLatency(ms);
    },
    async resetRequests() {
      podium.resetRequests();
    },
    async stats() {
      return { ...requestStats(podium), rssMiB: Number.NaN, cpuMs: Number.NaN };
    },
    addWebhookTarget: (url) => podium.addWebhookTarget(url),
    emitMessageEvent: async (kind, conversationId) => summaryOf(await podium.emitMessageEvent(kind, conversationId ? { conversationId } : {})),
    close: () => (closed ??= podium.close()),
  };
}

interface ChildReply {
  readonly id?: number;
  readonly type?: 'ready';
  readonly url?: string;
  readonly config?: WithApi<PodiumConfig>;
  readonly result?: unknown;
  readonly error?: string;
}

/** Forks this file as the emulator process (under tsx the fork inherits its loader through execArgv). */
async function childControl(): Promise<EmulatorControl> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [EMULATOR_CHILD_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`Expected the emulator process to answer, but it exited (code ${code}, signal ${signal})`));
      pending.clear();
      resolve();
    }),
  );
  const ready = new Promise<{ url: string; config: WithApi<PodiumConfig> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Expected the emulator process to start within ${CHILD_TIMEOUT_MS} ms`)), CHILD_TIMEOUT_MS);
    child.on('message', (message: ChildReply) => {
      if (message.type === 'ready' && message.url && message.config) {
        clearTimeout(timer);
        resolve({ url: message.url, config: message.config });
        return;
      }
      const waiter = message.id === undefined ? undefined : pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id as number);
      if (message.error) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error('Expected the emulator process to start, but it exited first (its error is printed above)'));
    });
  });
  const call = (op: string, arg?: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`Expected a running emulator process for ${op}, but it has exited`));
      const id = ++nextId;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`Expected the emulator process to answer ${op} within ${CHILD_TIMEOUT_MS} ms`));
      }, CHILD_TIMEOUT_MS);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ id, op, arg });
    });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (!exited) {
        await call('close').catch(() => undefined);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        if (!exited) child.disconnect();
        await exit;
        clearTimeout(timer);
      }
    })());
  let started: { url: string; config: WithApi<PodiumConfig> };
  try {
    started = await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    where: 'child process',
    url: started.url,
    providerConfig: () => started.config,
    setLatency: async (ms) => void (await call('setLatency', ms)),
    resetRequests: async () => void (await call('reset')),
    stats: async () => (await call('stats')) as EmulatorStats,
    addWebhookTarget: async (url) => void (await call('addWebhookTarget', url)),
    emitMessageEvent: async (kind, conversationId) => (await call('emit', { kind, conversationId })) as EmittedSummary,
    close,
  };
}

function summaryOf(e: EmittedSummary): EmittedSummary {
  return { messageId: e.messageId, conversationId: e.conversationId, deliveries: e.deliveries };
}

/** The child's side: one Podium emulator, driven over IPC, gone when the parent goes. */
async function serveEmulatorChild(send: (message: ChildReply) => void): Promise<void> {
  const podium = await startPodiumEmulator();
  const shutdown = async (): Promise<void> => {
    await podium.close();
    process.exit(0);
  };
  process.on('disconnect', () => void shutdown());
  process.on('message', (message: { id: number; op: string; arg?: unknown }) => {
    const reply = (result: unknown): void => send({ id: message.id, result });
    switch (message.op) {
      case 'setLatency':
        podium.setLatency(Number(message.arg));
        return reply(null);
      case 'reset':
        podium.resetRequests();
        return reply(null);
      case 'stats': {
        const cpu = process.cpuUsage();
        const stats: EmulatorStats = {
          ...requestStats(podium),
          rssMiB: round(process.memoryUsage().rss / 2 ** 20, 1),
          cpuMs: round((cpu.user + cpu.system) / 1000, 1),
        };
        return reply(stats);
      }
      case 'addWebhookTarget':
        void podium.addWebhookTarget(String(message.arg)).then(() => reply(null));
        return;
      case 'emit': {
        const { kind, conversationId } = message.arg as { kind: MessageEventKind; conversationId?: string };
        podium.emitMessageEvent(kind, conversationId ? { conversationId } : {}).then(
          (e) => reply(summaryOf(e)),
          (err: unknown) => send({ id: message.id, error: err instanceof Error ? err.message : String(err) }),
        );
        return;
      }
      case 'close':
        void podium.close().then(() => reply(null));
        return;
      default:
        send({ id: message.id, error: `Expected an operation setLatency, reset, stats, addWebhookTarget, emit or close, got ${JSON.stringify(message.op)}` });
    }
  });
  send({ type: 'ready', url: podium.url, config: podium.providerConfig() });
}

if (process.argv.includes(EMULATOR_CHILD_FLAG) && process.send) {
  const send = process.send.bind(process);
  serveEmulatorChild((m) => void send(m)).catch((err: unknown) => {
    console.error(`Podium emulator process failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}

// ---------------------------------------------------------------- the gateway

/**
 * The gateway's own count of its provider calls by outcome (HTTP status, or
 * `error` for a timeout or network failure), from its metrics registry.
 */
export async function upstreamOutcomes(gateway: Gateway): Promise<Record<string, number>> {
  const metric = gateway.metrics.registry.getSingleMetric('gateway_upstream_requests_total');
  const out: Record<string, number> = {};
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const status = String(v.labels.status ?? 'unknown');
    out[status] = (out[status] ?? 0) + v.value;
  }
  return out;
}

/** after - before, per key. */
export function countDelta(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
}

export interface BenchGatewayOptions {
  /** Extra environment for loadConfig (MONGODB_URL, REDIS_URL, …). */
  readonly env?: Readonly<Record<string, string>>;
  /** Podium's client-side limit handed to the gateway. @default UNTHROTTLED_REQUESTS_PER_MINUTE */
  readonly podiumRequestsPerMinute?: number;
  /** Run the emulator in a child process (only its control surface is then available). @default false */
  readonly emulatorProcess?: boolean;
  /** Talk to this emulator (started by another bench gateway, which owns it) instead of a new one. */
  readonly emulator?: EmulatorControl;
}

export interface BenchGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly config: GatewayConfig;
  readonly emulator: EmulatorControl;
  /** The emulator object itself when it runs in this process (webhook bodies, signatures); null in a child. */
  readonly podium: PodiumEmulator | null;
  /** Closes the gateway, then the emulator; idempotent, and also on the cleanup stack. */
  close(): Promise<void>;
}

/**
 * A Podium emulator and a gateway on 127.0.0.1 ephemeral ports; the gateway's
 * config is built like production's (loadConfig) with the Podium credentials
 * of the emulator. Registers both on `cleanup`.
 */
export async function startBenchGateway(cleanup: Cleanup, options: BenchGatewayOptions = {}): Promise<BenchGateway> {
  let podium: PodiumEmulator | null = null;
  let emulator: EmulatorControl;
  if (options.emulator) {
    emulator = options.emulator;
  } else if (options.emulatorProcess) {
    emulator = await childControl();
  } else {
    podium = await startPodiumEmulator();
    emulator = inProcessControl(podium);
  }
  if (!options.emulator) cleanup.add(`Podium emulator (${emulator.where})`, () => emulator.close());
  const emulatorConfig = emulator.providerConfig();
  const base = loadConfig({
    NODE_ENV: 'test',
    GATEWAY_SANDBOX: 'false',
    GATEWAY_API_KEYS: `admin:${BENCH_ADMIN_KEY},viewer:${BENCH_VIEWER_KEY}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    // Goes through loadConfig so the figure is one the gateway would accept from its environment.
    PODIUM_ACCESS_TOKEN: emulatorConfig.api.accessToken,
    PODIUM_WEBHOOK_SECRET: emulatorConfig.webhookSecret ?? '',
    PODIUM_REQUESTS_PER_MINUTE: String(options.podiumRequestsPerMinute ?? UNTHROTTLED_REQUESTS_PER_MINUTE),
    ...options.env,
  });
  if (!base.podium) throw new Error('Expected loadConfig to configure Podium from PODIUM_ACCESS_TOKEN, got no Podium config');
  const config: GatewayConfig = {
    ...base,
    podium: { ...emulatorConfig, webhookSecret: base.podium.webhookSecret, api: { ...emulatorConfig.api, requestsPerMinute: base.podium.api?.requestsPerMinute ?? 300 } },
  };
  const gateway = createGateway(config);
  cleanup.add('gateway', () => gateway.close());
  const url = await gateway.listen(0, '127.0.0.1');
  return {
    gateway,
    url,
    config,
    emulator,
    podium,
    async close() {
      // Both are idempotent, so the cleanup stack may run them again.
      await gateway.close();
      if (!options.emulator) await emulator.close();
    },
  };
}

// ---------------------------------------------------------------- the gateway in its own process

export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** Resident set size of the gateway process now, from /proc. */
  rssMiB(): number;
  /** CPU time the gateway process has used so far, user and kernel, in ms (from /proc, 10 ms ticks). */
  cpuMs(): { readonly user: number; readonly system: number };
  /** SIGTERM (the gateway drains), then waits for the exit. */
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (another process could take it before it is used; the start is retried then). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts the gateway as `npm start` does (src/index.ts: loadConfig from the
 * environment, the sandbox emulators for providers without credentials) in a
 * child process, so that nothing of the benchmark shares its event loop.
 * Resolves once /healthz answers. Registered on `cleanup`.
 */
export async function startGatewayProcess(cleanup: Cleanup, name: string, env: Readonly<Record<string, string>>): Promise<GatewayProcess> {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const port = await freePort();
  // BENCH_GATEWAY_NODE_ARGS reaches only the gateway's node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/index.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', GATEWAY_DEMO: 'false', ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (gone) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
    await exited;
    clearTimeout(timer);
  };
  cleanup.add(`gateway process ${name}`, stop);
  const deadline = nowMs() + 60_000;
  for (;;) {
    if (gone) throw new Error(`Expected the gateway process ${name} to start, it exited with ${await exited}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (nowMs() > deadline) throw new Error(`Expected the gateway process ${name} to answer /healthz within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid as number;
  return {
    url,
    pid,
    rssMiB() {
      const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return line ? round(Number(line[1]) / 1024, 1) : Number.NaN;
    },
    cpuMs() {
      // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command name), in clock ticks of 10 ms.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
    },
    close: stop,
  };
}

// ---------------------------------------------------------------- subscribers in their own process

/** A child process holding graphql-ws subscribers (bench/fanout-subscribers.ts), driven over IPC. */
export interface Subscribers {
  request<T extends ChildMessage['type']>(message: ParentMessage, answer: T): Promise<Extract<ChildMessage, { type: T }>>;
  close(): Promise<void>;
}

export function startSubscribers(cleanup: Cleanup, name: string): Subscribers {
  const child: ChildProcess = fork(fileURLToPath(new URL('./fanout-subscribers.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  let gone = false;
  child.once('exit', () => (gone = true));
  const subscribers: Subscribers = {
    request(message, answer) {
      return new Promise((resolve, reject) => {
        const onMessage = (m: ChildMessage): void => {
          if (m.type !== answer) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m as never);
        };
        const onExit = (code: number | null): void => reject(new Error(`Expected subscriber process ${name} to answer ${answer}, it exited with ${code}`));
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send(message);
      });
    },
    async close() {
      if (gone) return;
      await subscribers.request({ type: 'close' }, 'closed').catch(() => undefined);
      if (!gone) child.kill('SIGKILL');
    },
  };
  cleanup.add(`subscriber process ${name}`, () => subscribers.close());
  return subscribers;
}

