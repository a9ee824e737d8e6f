// A provider credential's request budget (Podium: 300 a minute; HighLevel: 100
// per 10 seconds), read the strictest way the providers' documentation allows:
// never more than `requests` calls in ANY window of `perMs` (a sliding window,
// not a token bucket, which would let a full bucket plus a window's refill
// through in the first window). Each call takes a slot at the earliest time
// that keeps every window within the limit and waits for it, so bursts queue
// in order instead of failing; a call that would wait longer than it may is
// refused without taking one. Reads leave the last tenth to message sends, so
// a send goes ahead of cache fills. In process by default; in Redis (one
// atomic script over a sorted set of slot times) when REDIS_URL is set, so
// every instance spends the same budget and N instances together stay inside it.
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { openRedis } from '../infra/clients.js';

export interface RateLimit {
  readonly requests: number;
  readonly perMs: number;
}

export type Reservation =
  | {
      readonly ok: true;
      readonly waitMs: number;
      readonly remaining: number;
      /**
       * How late after its slot the call may leave: the slot's margin absorbs that much. Later, the call a window
       * after it could arrive inside its window, so it takes a slot again at its real departure (http.ts).
       */
      readonly lateAfterMs: number;
    }
  | { readonly ok: false; readonly retryAfterMs: number; readonly remaining: number };

export interface TakeOptions {
  /**
   * Leave the last tenth of the window to takers that do not: reads wait for
   * it to refill while sends (which queue durably instead of waiting) go first.
   * @default false
   */
  readonly leaveReserve?: boolean;
}

/** The share of a window reads leave to sends (floored: a limit under 10 keeps none). */
export const SEND_RESERVE = 0.1;

export interface RateBudget {
  /** Takes a slot to use after `waitMs`, or refuses (taking nothing) when that would be past `maxWaitMs`. */
  take(maxWaitMs: number, options?: TakeOptions): Promise<Reservation>;
}

function reserveOf(limit: RateLimit, options: TakeOptions | undefined): number {
  return options?.leaveReserve ? Math.floor(limit.requests * SEND_RESERVE) : 0;
}

/** Budgets by credential key; one instance per gateway, shared by its adapters. */
export interface RateBudgets {
  budget(key: string, limit: RateLimit): RateBudget;
  close(): Promise<void>;
}

/** A credential's budget key: the provider, the API it talks to and the identity it acts as, hashed. */
export function budgetKey(provider: string, ...identity: ReadonlyArray<string | null>): string {
  return `${provider}:${createHash('sha256').update(identity.join('\u0000')).digest('base64url').slice(0, 16)}`;
}

/** The budget to spend: the gateway's shared one when it has them, else one of this client's own. */
export function budgetFor(budgets: RateBudgets | undefined, key: string, limit: RateLimit): RateBudget {
  return budgets ? budgets.budget(key, limit) : createLocalBudget(limit);
}

export function createLocalBudget(limit: RateLimit, now: () => number = Date.now): RateBudget {
  // Times of the slots taken in the last window (and any scheduled ahead), oldest first.
  const slots: number[] = [];
  return {
    async take(maxWaitMs, options) {
      const t = now();
      while (slots.length > 0 && slots[0]! <= t - limit.perMs) slots.shift();
      const at = slotTime(slots, t, limit, reserveOf(limit, options));
      const waitMs = at - t;
      if (waitMs > maxWaitMs) return { ok: false, retryAfterMs: waitMs, remaining: Math.max(0, limit.requests - slots.length) };
      slots.push(at);
      return { ok: true, waitMs, remaining: Math.max(0, limit.requests - slots.length), lateAfterMs: lateAfterMs(limit) };
    },
  };
}

/**
 * The earliest time at or after `now` when one more call keeps every window of
 * `perMs` at most `requests - reserve` calls: once that many slots are taken,
 * the one that many places back must have left the window. Slot times only grow,
 * so `slots` stays sorted.
 */
function slotTime(slots: readonly number[], now: number, limit: RateLimit, reserve: number): number {
  const allowed = limit.requests - reserve;
  if (slots.length < allowed) return Math.max(now, slots.at(-1) ?? now);
  return Math.max(now, slots[slots.length - allowed]! + limit.perMs + marginMs(limit));
}

/**
 * How much later than the window strictly allows a slot is taken (2% of the window, 1.2 s of
 * Podium's minute): the provider counts arrivals, and an earlier call that left late (a busy event
 * loop, a slow connection) arrives late, so a call leaving exactly one window after it could still
 * arrive inside that call's window. At 1% bench:send still met one 429 in 1,085 calls.
 */
function marginMs(limit: RateLimit): number {
  return Math.max(100, Math.ceil(limit.perMs / 50));
}

/** Half the margin: the other half is left for the way from the socket to the provider's clock. */
function lateAfterMs(limit: RateLimit): number {
  return Math.floor(marginMs(limit) / 2);
}

// KEYS[1] the sorted set of slot times; ARGV: requests, window ms, largest wait, slots to leave in reserve, a unique
// member, the margin ms (marginMs). Time comes from Redis, so instances with skewed clocks still share one window. The same rule as slotTime().
// Returns {ok (1/0), wait or retry-after ms, slots left}.
const TAKE = `
local requests = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
local allowed = requests - (tonumber(ARGV[4]) or 0)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local at = now
if n > 0 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  at = math.max(at, tonumber(last[2]))
end
if n >= allowed then
  local back = redis.call('ZRANGE', KEYS[1], n - allowed, n - allowed, 'WITHSCORES')
  at = math.max(now, tonumber(back[2]) + window + tonumber(ARGV[6]))
end
local wait = at - now
if wait > maxWait then return {0, wait, math.max(0, requests - n)} end
redis.call('ZADD', KEYS[1], at, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window + wait + 1000)
return {1, wait, math.max(0, requests - n - 1)}
`;

type TakeCommand = (key: string, requests: number, windowMs: number, maxWaitMs: number, reserve: number, member: string, marginMs: number) => Promise<[number, number, number]>;

/** Over Redis (a connection of its own at a URL, or the gateway's shared one, which its owner closes), else in process. */
export function createRateBudgets(target: string | Redis | null, prefix = 'gw'): RateBudgets {
  if (!target) {
    const budgets = new Map<string, RateBudget>();
    return {
      budget: (key, limit) => budgets.get(key) ?? budgets.set(key, createLocalBudget(limit)).get(key)!,
      close: async () => undefined,
    };
  }
  const owned = typeof target === 'string';
  const redis = owned ? openRedis(target, 'command') : target;
  redis.defineCommand('gatewayTakeSlot', { numberOfKeys: 1, lua: TAKE });
  const take = (redis as unknown as { gatewayTakeSlot: TakeCommand }).gatewayTakeSlot.bind(redis);
  return {
    budget(key, limit) {
      // Redis unreachable: spend a budget of this instance's own rather than fail every call.
      const fallback = createLocalBudget(limit);
      return {
        async take(maxWaitMs, options) {
          let answer: [number, number, number];
          try {
            answer = await take(`${prefix}:window:${key}`, limit.requests, limit.perMs, maxWaitMs, reserveOf(limit, options), randomUUID(), marginMs(limit));
          } catch {
            return fallback.take(maxWaitMs, options);
          }
          const [ok, ms, remaining] = answer;
          return ok === 1 ? { ok: true, waitMs: Number(ms), remaining: Number(remaining), lateAfterMs: lateAfterMs(limit) } : { ok: false, retryAfterMs: Number(ms), remaining: 0 };
        },
      };
    },
    async close() {
      if (owned) redis.disconnect();
    },
  };
}
