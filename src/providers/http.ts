// The one upstream HTTP client every provider adapter uses: auth headers with a
// single refresh on 401, per-request timeout, retries with exponential backoff
// and full jitter on 429 / 5xx / network errors (honouring Retry-After), and the
// credential's rate budget (rate-budget.ts: in process, or shared through Redis).
import { AsyncLocalStorage } from 'node:async_hooks';
import { ProviderError, userInputError, type ProviderFailure } from '../errors.js';
import type { ProviderName } from '../model.js';
import { tracingEnabled, traceUpstream, type UpstreamTrace } from '../telemetry/tracer.js';
import { exchange } from './http-exchange.js';
import { PROVIDER_LABELS } from './labels.js';
import type { RateBudget } from './rate-budget.js';

export interface UpstreamAuth {
  /** Headers that authenticate a request (e.g. `Authorization: Bearer …`). */
  headers(): Promise<Record<string, string>>;
  /**
   * Called once after a 401 with the auth headers that request carried.
   * Resolves true when the request is worth repeating with `headers()` again:
   * new credentials were obtained, or another request already replaced the
   * ones it was sent with. Concurrent callers should share one refresh.
   */
  refresh?(sentHeaders: Readonly<Record<string, string>>): Promise<boolean>;
}

/** A fixed bearer token (none: no authorization header), never renewed. */
export function bearerAuth(token: string | null): UpstreamAuth {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return { headers: async () => ({ ...headers }) };
}

export interface UpstreamCall {
  readonly provider: ProviderName;
  readonly method: string;
  /** HTTP status, or `error` for a timeout / network failure. */
  readonly outcome: number | 'error';
  readonly durationMs: number;
}

export interface UpstreamClientOptions {
  readonly provider: ProviderName;
  readonly baseUrl: string;
  readonly auth?: UpstreamAuth;
  /** Sent on every request (version headers). */
  readonly defaultHeaders?: Readonly<Record<string, string>>;
  /** Per attempt. @default 10_000 (10 seconds) */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. @default 3 */
  readonly maxRetries?: number;
  /** First backoff step; doubles each retry, full jitter. @default 200 (ms) */
  readonly backoffBaseMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails RATE_LIMITED / UNAVAILABLE. @default 10_000 (ms) */
  readonly maxRetryAfterMs?: number;
  /** The credential's budget (Podium 300 a minute, HighLevel 100 per 10 s). Unset = unlimited. */
  readonly budget?: RateBudget;
  /** Observer for metrics; never throws into the call. */
  readonly onCall?: (call: UpstreamCall) => void;
  /** Slots left in the budget after each call took one, for metrics. */
  readonly onBudget?: (remaining: number) => void;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  /**
   * The route template (`/v4/conversations/{uid}`), naming the call in traces
   * where `path` would carry ids. @default '(unnamed route)'
   */
  readonly route?: string;
  readonly query?: Readonly<Record<string, string | number | boolean | readonly string[] | null | undefined>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Whether a 5xx or a timeout may be retried. Defaults to true for every method
   * but POST: a POST that reached the provider may have taken effect (Podium
   * has no idempotency keys). 429 is always retried: nothing was done.
   */
  readonly idempotent?: boolean;
  /**
   * How long this request may wait for a slot of the rate budget before it fails
   * RATE_LIMITED (with the wait as retryAfterMs). Sends wait little: they queue
   * durably instead. @default maxRetryAfterMs
   */
  readonly budgetWaitMs?: number;
  /**
   * `send`: a message send, which may use the tenth of the budget reads leave
   * unspent (rate-budget.ts SEND_RESERVE), so sends go ahead of cache fills. @default 'read'
   */
  readonly priority?: 'read' | 'send';
  /** Retries of this request, instead of the client's maxRetries (a send retries nothing in place: it queues). */
  readonly maxRetries?: number;
}

/** The budget options a caller sets for every call made on its behalf, through loaders and caches it does not control. */
export type CallerRequestOptions = Pick<RequestOptions, 'budgetWaitMs' | 'priority' | 'maxRetries'>;

const callerOptions = new AsyncLocalStorage<CallerRequestOptions>();

/**
 * Runs `run` with `options` as the default of every upstream call it makes
 * (a call's own options win): a send's recipient lookup through the ordinary
 * loaders spends the budget as a send and waits little.
 */
export function withRequestOptions<T>(options: CallerRequestOptions, run: () => Promise<T>): Promise<T> {
  return callerOptions.run(options, run);
}

function withCallerOptions(req: RequestOptions): RequestOptions {
  const caller = callerOptions.getStore();
  if (!caller) return req;
  return { ...req, budgetWaitMs: req.budgetWaitMs ?? caller.budgetWaitMs, priority: req.priority ?? caller.priority, maxRetries: req.maxRetries ?? caller.maxRetries };
}

export interface UpstreamResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface UpstreamClient {
  /** Resolves with any 2xx; throws ProviderError for everything else (404 as NOT_FOUND). */
  request<T = unknown>(options: RequestOptions): Promise<UpstreamResponse<T>>;
}

const defaults = {
  timeoutMs: 10_000, // 10 seconds per attempt
  maxRetries: 3,
  backoffBaseMs: 200,
  maxRetryAfterMs: 10_000, // 10 seconds
};

const UNNAMED_ROUTE = '(unnamed route)';

/** An attempt's outcome: the response with its whole body read, or why there was none. */
type Attempt = { readonly status: number; readonly retryAfter: string | null; readonly text: string } | Error;

type Fail = (failure: ProviderFailure, message: string, status: number | null, detail: string, retryAfterMs?: number | null) => ProviderError;

/** One attempt of a call: the budget slot it waits for, then the request, its whole body read under the same timeout. */
function createAttempt(options: UpstreamClientOptions, timeoutMs: number, maxRetryAfterMs: number, fail: Fail) {
  const label = PROVIDER_LABELS[options.provider];

  async function spendBudget(budget: RateBudget, req: RequestOptions, span: UpstreamTrace | null, retaken = false): Promise<void> {
    const slot = await budget.take(req.budgetWaitMs ?? maxRetryAfterMs, { leaveReserve: req.priority !== 'send' });
    try {
      options.onBudget?.(slot.remaining);
    } catch {
      // metrics must never break a call
    }
    if (!slot.ok) {
      const seconds = Math.ceil(slot.retryAfterMs / 1000);
      throw fail('RATE_LIMITED', `${label} request budget is spent for now; retry in ${seconds} s`, null, `${req.method ?? 'GET'} ${req.path}`, slot.retryAfterMs);
    }
    const due = performance.now() + slot.waitMs;
    if (slot.waitMs > 0) {
      span?.budgetWait(slot.waitMs);
      await sleep(slot.waitMs);
    }
    // Leaving later than its slot allows (a busy event loop), the call is counted again where it really leaves.
    if (!retaken && performance.now() - due > slot.lateAfterMs) await spendBudget(budget, req, span, true);
  }

  function observe(req: RequestOptions, outcome: number | 'error', started: number): void {
    try {
      options.onCall?.({ provider: options.provider, method: req.method ?? 'GET', outcome, durationMs: performance.now() - started });
    } catch {
      // metrics must never break a call
    }
  }

  /** The body is read under the same timeout as the headers: a body that stalls is a timeout too. */
  return async function attempt(req: RequestOptions, url: string, authHeaders: Record<string, string>, span: UpstreamTrace | null): Promise<Attempt> {
    if (options.budget) await spendBudget(options.budget, req, span);
    const started = performance.now();
    const headers: Record<string, string> = { accept: 'application/json', ...options.defaultHeaders, ...authHeaders, ...req.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    let status: number | 'error' = 'error';
    try {
      // undici's dispatcher rather than fetch() or request(): see http-exchange.ts.
      const res = await exchange(url, { method: req.method ?? 'GET', headers, body: req.body === undefined ? undefined : JSON.stringify(req.body) }, timeoutMs);
      status = res.status;
      return res;
    } catch (err) {
      status = 'error';
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      observe(req, status, started);
      span?.attempt(status);
    }
  };
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const opts = { ...defaults, ...options };
  const base = options.baseUrl.replace(/\/+$/, '');
  const label = PROVIDER_LABELS[options.provider];

  const fail: Fail = (failure, message, status, detail, retryAfterMs = null) => new ProviderError(options.provider, failure, message, status, detail, retryAfterMs);
  const attempt = createAttempt(options, opts.timeoutMs, opts.maxRetryAfterMs, fail);

  /** With tracing off, the call itself; with it on, inside the call's span. */
  function request<T>(own: RequestOptions): Promise<UpstreamResponse<T>> {
    const req = withCallerOptions(own);
    if (!tracingEnabled()) return send<T>(req, null);
    return traceUpstream(options.provider, req.method ?? 'GET', req.route ?? UNNAMED_ROUTE, (span) => send<T>(req, span));
  }

  async function send<T>(req: RequestOptions, span: UpstreamTrace | null): Promise<UpstreamResponse<T>> {
    const url = base + req.path + queryString(req.query);
    const method = req.method ?? 'GET';
    const where = `${method} ${req.path}`;
    const idempotent = req.idempotent ?? method !== 'POST';
    let refreshed = false;
    for (let retry = 0; ; retry++) {
      const authHeaders = options.auth ? await options.auth.headers() : {};
      const outcome = await attempt(req, url, authHeaders, span);
      const canRetry = retry < (req.maxRetries ?? opts.maxRetries);
      if (outcome instanceof Error) {
        if (canRetry && idempotent) {
          await sleep(backoff(retry));
          continue;
        }
        const timedOut = outcome.name === 'TimeoutError';
        const message = timedOut ? `${label} did not answer within ${opts.timeoutMs} ms` : `${label} could not be reached`;
        throw fail('UNAVAILABLE', message, null, `${where}: ${outcome.message}`);
      }
      const { status, text } = outcome;
      if (status >= 200 && status < 300) return { status, body: parseJson<T>(text, status, where) };
      const detail = `${where} answered ${status}: ${text.slice(0, 300)}`;
      if (status === 401 && !refreshed && options.auth?.refresh) {
        refreshed = true;
        if (await options.auth.refresh(authHeaders)) {
          retry--; // the refresh retry does not count against the budget
          continue;
        }
      }
      if (status === 429 || status >= 500) {
        const retryAfter = parseRetryAfter(outcome.retryAfter);
        const mayRetry = canRetry && (status === 429 || idempotent);
        if (mayRetry && (retryAfter === null || retryAfter <= opts.maxRetryAfterMs)) {
          await sleep(retryAfter ?? backoff(retry));
          continue;
        }
      }
      const retryAfter = status === 429 || status >= 500 ? parseRetryAfter(outcome.retryAfter) : null;
      throw fail(failureOf(status), `${label} answered ${status}`, status, detail, retryAfter);
    }
  }

  function parseJson<T>(text: string, status: number, where: string): T {
    if (text.length === 0) return null as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw fail('BAD_RESPONSE', `${label} answered ${status} with a body that is not JSON`, status, `${where}: ${text.slice(0, 300)}`);
    }
  }

  function backoff(retry: number): number {
    return Math.random() * opts.backoffBaseMs * 2 ** retry;
  }

  return { request };
}

function failureOf(status: number): ProviderFailure {
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'UNAVAILABLE';
  if (status === 404) return 'NOT_FOUND';
  if (status === 401 || status === 403) return 'UNAUTHORIZED';
  return 'BAD_REQUEST';
}

export function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. Null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One path segment, percent-encoded. `.` and `..` survive encoding and URL
 * parsing would resolve them into another endpoint, so they (and an empty
 * segment) are refused as bad input; decodeId's id rules stop them earlier.
 */
export function segment(value: string): string {
  if (value === '' || value === '.' || value === '..') throw userInputError(`"${value}" cannot be part of an upstream path`);
  return encodeURIComponent(value);
}

/** Runs an upstream call, answering null for a 404: an unknown id is an answer, not an error. */
export async function orNull<T>(pending: Promise<T>): Promise<T | null> {
  try {
    return await pending;
  } catch (err) {
    if (err instanceof ProviderError && err.failure === 'NOT_FOUND') return null;
    throw err;
  }
}
