// The switches tests and benchmarks flip on an emulator: latency added to the
// answers of some or all routes, injected faults (before the route runs, or
// after it did, so the provider has accepted what the client never hears
// about), and a sliding-window rate limit per provider account.

/** Which requests a switch or a count applies to; every given field must match. */
export interface RequestFilter {
  readonly method?: string;
  /** The path starts with this. */
  readonly pathPrefix?: string;
  /** The whole path matches this (for endpoints with ids inside the path). */
  readonly pathPattern?: RegExp;
}

export interface Fault extends RequestFilter {
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
  /** Hold the answer this long (ms); alone, the real answer then comes late. */
  readonly delayMs?: number;
  /**
   * Run the route first, so the provider accepts and stores the request (a send
   * is made), then apply the fault to the answer: with `hang` the client times
   * out on a message that exists, with `delayMs` the answer comes that late,
   * with `status` the client is told it failed. @default false
   */
  readonly afterHandling?: boolean;
}

/** At most `max` requests of one account in any `windowMs`. */
export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

export interface Switches {
  /** Latency added to a request's answer: the most specific matching setLatency, else the global one. */
  latencyFor(method: string, path: string): number;
  setLatency(ms: number, where?: RequestFilter): void;
  /** The first pending fault matching the request, used up by one. */
  takeFault(method: string, path: string): Fault | null;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  /** Turns the limit on (fields default to the provider's documented limit) or off (null). */
  setRateLimit(limit: Partial<RateLimit> | null): void;
  /** Counts a request of `account` at `now` against the limit, or says when it would fit. */
  admit(account: string, now: number): Admission;
}

export function matchesRequest(filter: RequestFilter, method: string, path: string): boolean {
  return (
    (!filter.method || filter.method === method) &&
    (!filter.pathPrefix || path.startsWith(filter.pathPrefix)) &&
    (!filter.pathPattern || filter.pathPattern.test(path))
  );
}

/** `documented`: the provider's published limit, what setRateLimit({}) enforces; null when it publishes none. */
export function createSwitches(documented: RateLimit | null): Switches {
  let faults: Array<Fault & { remaining: number }> = [];
  let globalLatency = 0;
  const latencies: Array<{ where: RequestFilter; ms: number }> = [];
  let limit: RateLimit | null = null;
  /** Per account, the admission times still inside the window, oldest first. */
  const windows = new Map<string, number[]>();

  return {
    latencyFor(method, path) {
      return latencies.find((l) => matchesRequest(l.where, method, path))?.ms ?? globalLatency;
    },
    setLatency(ms, where) {
      if (!where) {
        globalLatency = ms;
        return;
      }
      const same = latencies.findIndex((l) => l.where.method === where.method && l.where.pathPrefix === where.pathPrefix && String(l.where.pathPattern) === String(where.pathPattern));
      if (same >= 0) latencies.splice(same, 1);
      // Newest first: a later, narrower rule wins over an older one.
      if (ms > 0) latencies.unshift({ where, ms });
    },
    takeFault(method, path) {
      const fault = faults.find((f) => f.remaining > 0 && matchesRequest(f, method, path));
      if (!fault) return null;
      fault.remaining--;
      faults = faults.filter((f) => f.remaining > 0);
      return fault;
    },
    injectFault(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    setRateLimit(next) {
      windows.clear();
      if (next === null) {
        limit = null;
        return;
      }
      const max = next.max ?? documented?.max;
      const windowMs = next.windowMs ?? documented?.windowMs;
      if (max === undefined || windowMs === undefined) throw new Error('This provider documents no rate limit: give max and windowMs');
      limit = { max, windowMs };
    },
    admit(account, now) {
      if (!limit) return { ok: true };
      const times = windows.get(account) ?? [];
      windows.set(account, times);
      // A request at `now` shares a window with every one later than now - windowMs.
      while (times.length > 0 && (times[0] as number) <= now - limit.windowMs) times.shift();
      if (times.length < limit.max) {
        times.push(now);
        return { ok: true };
      }
      return { ok: false, retryAfterMs: (times[0] as number) + limit.windowMs - now };
    },
  };
}
