// Shared machinery of the provider emulators: a tiny router on node:http, a log
// of every upstream request (tests and benchmarks assert on counts), switchable
// latency and faults (429, 5xx, hangs, stalled bodies, malformed answers), and
// helpers to deliver webhooks.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export interface Fault {
  /** Only requests whose path starts with this (default: every request). */
  readonly pathPrefix?: string;
  readonly method?: string;
  /** How many matching requests it affects. @default 1 */
  readonly times?: number;
  /** Answer with this status (429, 500, 503, …). */
  readonly status?: number;
  /** Sent as Retry-After on the faulted answer. */
  readonly retryAfterSeconds?: number;
  /** Never answer: the client's timeout has to fire. */
  readonly hang?: boolean;
  /** Send the status line and headers, then stall before the body ends: a timeout while reading it. */
  readonly stallBody?: boolean;
  /** Answer with this JSON body instead of the provider's error body (a 200 that is not the documented shape). */
  readonly body?: unknown;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** The status answered (a hung request logs 0). */
  status: number;
}

export interface Emulator {
  readonly name: string;
  /** Base URL, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  /** Every request received since start or the last `resetRequests()` (control routes excluded). */
  readonly requests: readonly LoggedRequest[];
  requestCount(filter?: { method?: string; pathPrefix?: string }): number;
  resetRequests(): void;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  /** Added to every answer. @default 0 (ms) */
  setLatency(ms: number): void;
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
}

interface CompiledRoute extends EmuRoute {
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const compiled: CompiledRoute[] = options.routes.map((r) => {
    const names: string[] = [];
    const pattern = r.path.replace(/:([A-Za-z_]+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    return { ...r, regex: new RegExp(`^${pattern}/?$`), names };
  });
  const requests: LoggedRequest[] = [];
  let faults: Array<Fault & { remaining: number }> = [];
  let latencyMs = 0;
  const hung = new Set<ServerResponse>();
  const errorBody = options.errorBody ?? ((status: number, message: string) => ({ status, message }));

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, { status: 500, body: errorBody(500, err instanceof Error ? err.message : String(err)) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const entry: LoggedRequest = { method, path: url.pathname, query: url.search, status: 0 };
    requests.push(entry);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));

    const fault = faults.find(
      (f) => f.remaining > 0 && (!f.pathPrefix || url.pathname.startsWith(f.pathPrefix)) && (!f.method || f.method === method),
    );
    if (fault) {
      fault.remaining--;
      faults = faults.filter((f) => f.remaining > 0);
      answerFault(fault, res, entry, errorBody, hung);
      return;
    }

    let body: unknown;
    const type = req.headers['content-type'] ?? '';
    if (raw.length > 0) {
      if (type.includes('application/x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(raw));
      else {
        try {
          body = JSON.parse(raw);
        } catch {
          entry.status = 400;
          send(res, { status: 400, body: errorBody(400, 'request body is not valid JSON') });
          return;
        }
      }
    }
    for (const route of compiled) {
      if (route.method !== method) continue;
      const m = route.regex.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
      const emuReq: EmuRequest = { method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body };
      const isPublic = options.publicPaths?.some((p) => url.pathname.startsWith(p)) ?? false;
      const refusal = isPublic ? null : options.authorize?.(emuReq) ?? null;
      const out = refusal ?? (await route.handler(emuReq));
      entry.status = out.status;
      send(res, out);
      return;
    }
    entry.status = 404;
    send(res, { status: 404, body: errorBody(404, `no route ${method} ${url.pathname}`) });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    name: options.name,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    get requests() {
      return requests;
    },
    requestCount(filter = {}) {
      return requests.filter(
        (r) => (!filter.method || r.method === filter.method) && (!filter.pathPrefix || r.path.startsWith(filter.pathPrefix)),
      ).length;
    },
    resetRequests() {
      requests.length = 0;
    },
    injectFault(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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
