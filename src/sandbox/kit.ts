// Shared machinery of the provider emulators: a tiny router on node:http, a log
// of every upstream request (tests and benchmarks assert on counts), switchable
// latency, faults (429, 5xx, hangs, stalled bodies, malformed answers, answers
// lost after the provider acted) and rate limits (see switches.ts), and
// helpers to deliver webhooks.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSwitches, matchesRequest, type Fault, type RateLimit, type RequestFilter, type Switches } from './switches.js';

export type { Fault, RateLimit, RequestFilter } from './switches.js';

export interface EmuRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Parsed JSON, form fields (urlencoded) as an object, or undefined. */
  readonly body: unknown;
}

export interface EmuResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface EmuRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with `:name` segments, e.g. `/v4/contacts/:identifier`. */
  readonly path: string;
  readonly handler: (req: EmuRequest) => EmuResponse | Promise<EmuResponse>;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** When it arrived (epoch ms): the time the rate limit admitted or refused it by. */
  readonly at: number;
  /** The status answered (a hung request logs 0). */
  status: number;
}

export interface Emulator {
  readonly name: string;
  /** Base URL, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  /** Every request received since start or the last `resetRequests()` (control routes excluded). */
  readonly requests: readonly LoggedRequest[];
  requestCount(filter?: RequestFilter): number;
  resetRequests(): void;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  /** Added to every answer, or (with `where`) to the answers of those requests only, replacing an earlier value for the same `where`. @default 0 (ms) */
  setLatency(ms: number, where?: RequestFilter): void;
  /**
   * Refuses, with 429 and Retry-After, any request of an account that would
   * make more than `max` in any `windowMs` (a sliding window, the strictest
   * reading of "N requests per minute"); refused requests do not count. Fields
   * default to the provider's documented limit; null turns it off. Public
   * (OAuth) paths are not limited. @default off
   */
  setRateLimit(limit?: Partial<RateLimit> | null): void;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  readonly name: string;
  readonly routes: readonly EmuRoute[];
  /** Checks credentials; return a response to refuse the request. Not applied to `public` paths. */
  readonly authorize?: (req: EmuRequest) => EmuResponse | null;
  readonly publicPaths?: readonly string[];
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The body answered for unknown routes and faults, in the provider's error shape. */
  readonly errorBody?: (status: number, message: string) => unknown;
  /** The provider's published rate limit, what setRateLimit() enforces by default. */
  readonly rateLimit?: RateLimit;
  /** The provider account a request is counted against by the rate limit (its token's). @default one account */
  readonly accountOf?: (headers: IncomingMessage['headers']) => string;
}

interface CompiledRoute extends EmuRoute {
  readonly regex: RegExp;
  readonly names: readonly string[];
}

type ErrorBody = (status: number, message: string) => unknown;

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const routes = compileRoutes(options.routes);
  const requests: LoggedRequest[] = [];
  const switches = createSwitches(options.rateLimit ?? null);
  const hung = new Set<ServerResponse>();
  const errorBody: ErrorBody = options.errorBody ?? ((status, message) => ({ status, message }));
  const handle = requestHandler(options, { routes, requests, switches, hung, errorBody });
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, { status: 500, body: errorBody(500, err instanceof Error ? err.message : String(err)) });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    name: options.name,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    get requests() {
      return requests;
    },
    requestCount: (filter = {}) => requests.filter((r) => matchesRequest(filter, r.method, r.path)).length,
    resetRequests() {
      requests.length = 0;
    },
    injectFault: (fault) => switches.injectFault(fault),
    clearFaults: () => switches.clearFaults(),
    setLatency: (ms, where) => switches.setLatency(ms, where),
    setRateLimit: (limit = {}) => switches.setRateLimit(limit),
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function compileRoutes(routes: readonly EmuRoute[]): CompiledRoute[] {
  return routes.map((r) => {
    const names: string[] = [];
    const pattern = r.path.replace(/:([A-Za-z_]+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    return { ...r, regex: new RegExp(`^${pattern}/?$`), names };
  });
}

interface HandlerState {
  readonly routes: readonly CompiledRoute[];
  readonly requests: LoggedRequest[];
  readonly switches: Switches;
  readonly hung: Set<ServerResponse>;
  readonly errorBody: ErrorBody;
}

/** One request: log it, apply the rate limit, latency and faults, then route it. */
function requestHandler(options: EmulatorOptions, s: HandlerState): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const arrivedAt = Date.now();
    const entry: LoggedRequest = { method, path: url.pathname, query: url.search, at: arrivedAt, status: 0 };
    s.requests.push(entry);
    const isPublic = options.publicPaths?.some((p) => url.pathname.startsWith(p)) ?? false;
    const admission = isPublic ? ({ ok: true } as const) : s.switches.admit(options.accountOf?.(req.headers) ?? '', arrivedAt);
    if (!admission.ok) {
      entry.status = 429;
      const retryAfter = String(Math.max(1, Math.ceil(admission.retryAfterMs / 1000)));
      send(res, { status: 429, body: s.errorBody(429, 'Too many requests: the rate limit is exceeded'), headers: { 'retry-after': retryAfter } });
      return;
    }
    const latencyMs = s.switches.latencyFor(method, url.pathname);
    if (latencyMs > 0) await sleep(latencyMs);
    const fault = s.switches.takeFault(method, url.pathname);
    if (fault && !fault.afterHandling) {
      if (fault.delayMs) await sleep(fault.delayMs);
      if (replacesAnswer(fault)) {
        answerFault(fault, res, entry, s.errorBody, s.hung);
        return;
      }
    }
    const parsed = parseBody(raw, req.headers['content-type'] ?? '');
    const out = parsed.ok ? await route(options, s.routes, { method, url, headers: req.headers, body: parsed.body }) : { status: 400, body: s.errorBody(400, 'request body is not valid JSON') };
    if (fault?.afterHandling) {
      if (fault.delayMs) await sleep(fault.delayMs);
      if (replacesAnswer(fault)) {
        answerFault(fault, res, entry, s.errorBody, s.hung);
        return;
      }
    }
    entry.status = out.status;
    send(res, out);
  };
}

/** A fault that only delays lets the real answer through; any other replaces it (a bare fault is a 500, as it always was). */
function replacesAnswer(fault: Fault): boolean {
  return fault.hang === true || fault.stallBody === true || fault.status !== undefined || fault.body !== undefined || fault.delayMs === undefined;
}

function parseBody(raw: string, type: string): { ok: true; body: unknown } | { ok: false } {
  if (raw.length === 0) return { ok: true, body: undefined };
  if (type.includes('application/x-www-form-urlencoded')) return { ok: true, body: Object.fromEntries(new URLSearchParams(raw)) };
  try {
    return { ok: true, body: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The matching route's answer (after the credentials check), or 404 in the provider's error shape. */
async function route(
  options: EmulatorOptions,
  routes: readonly CompiledRoute[],
  req: { method: string; url: URL; headers: IncomingMessage['headers']; body: unknown },
): Promise<EmuResponse> {
  const { method, url } = req;
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.regex.exec(url.pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
    const emuReq: EmuRequest = { method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body: req.body };
    const isPublic = options.publicPaths?.some((p) => url.pathname.startsWith(p)) ?? false;
    const refusal = isPublic ? null : (options.authorize?.(emuReq) ?? null);
    return refusal ?? (await r.handler(emuReq));
  }
  const errorBody: ErrorBody = options.errorBody ?? ((status, message) => ({ status, message }));
  return { status: 404, body: errorBody(404, `no route ${method} ${url.pathname}`) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Answers as the fault says: hang, stall after the headers, or a status with the provider's error body (or the given one). */
function answerFault(
  fault: Fault,
  res: ServerResponse,
  entry: LoggedRequest,
  errorBody: (status: number, message: string) => unknown,
  hung: Set<ServerResponse>,
): void {
  if (fault.hang || fault.stallBody) {
    hung.add(res);
    res.on('close', () => hung.delete(res));
    if (fault.stallBody) {
      entry.status = fault.status ?? 200;
      res.writeHead(entry.status, { 'content-type': 'application/json' });
      res.write('{"data": [');
    }
    return;
  }
  const status = fault.status ?? 500;
  entry.status = status;
  send(res, {
    status,
    body: fault.body !== undefined ? fault.body : errorBody(status, `injected fault ${status}`),
    headers: fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
  });
}

function send(res: ServerResponse, out: EmuResponse): void {
  if (res.headersSent || res.destroyed) return;
  const payload = out.body === undefined ? '' : JSON.stringify(out.body);
  res.writeHead(out.status, {
    ...(out.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...out.headers,
  });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** POSTs a webhook body exactly as given (signatures are over these bytes). */
export async function deliverWebhook(
  url: string,
  rawBody: string,
  headers: Readonly<Record<string, string>>,
): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: rawBody,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, body: await res.text() };
}

/** A seeded PRNG (mulberry32) so emulator data is the same on every start. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
