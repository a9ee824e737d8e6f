// A provider credential's request budget (Podium: 300 a minute; HighLevel: 100
// per 10 seconds), as a token bucket whose balance may go negative: each call
// takes a slot and waits its turn, so bursts queue in order instead of failing,
// and a call that would wait longer than it may is refused without taking one.
// Reads leave the last tenth to message sends, so a send goes ahead of cache fills.
// In process by default; in Redis (one atomic script) when REDIS_URL is set, so
// every instance spends the same budget and N instances together stay inside it.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { openRedis } from '../infra/clients.js';

export interface RateLimit {
  readonly requests: number;
  readonly perMs: number;
}

export type Reservation =
  | { readonly ok: true; readonly waitMs: number; readonly remaining: number }
  | { readonly ok: false; readonly retryAfterMs: number; readonly remaining: number };

export interface TakeOptions {
  /**
   * Leave the last tenth of the bucket to takers that do not: reads wait for
   * it to refill while sends (which queue durably instead of waiting) go first.
   * @default false
   */
  readonly leaveReserve?: boolean;
}

/** The share of a bucket reads leave to sends (floored: a bucket under 10 keeps none). */
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
  const msPerToken = limit.perMs / limit.requests;
  let tokens = limit.requests;
  let last = now();
  return {
    async take(maxWaitMs, options) {
      const t = now();
      tokens = Math.min(limit.requests, tokens + (t - last) / msPerToken);
      last = t;
      const need = 1 + reserveOf(limit, options);
      const waitMs = tokens >= need ? 0 : Math.ceil((need - tokens) * msPerToken);
      if (waitMs > maxWaitMs) return { ok: false, retryAfterMs: waitMs, remaining: 0 };
      tokens -= 1;
      return { ok: true, waitMs, remaining: Math.max(0, Math.floor(tokens)) };
    },
  };
}

// KEYS[1] the bucket; ARGV: capacity, ms per token, largest wait, tokens to leave in reserve. Time comes from Redis, so
// instances with skewed clocks still share one bucket. Returns {ok (1/0), wait or retry-after ms, tokens left}.
const TAKE = `
local capacity = tonumber(ARGV[1])
local msPerToken = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
local need = 1 + (tonumber(ARGV[4]) or 0)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) / msPerToken)
local wait = 0
if tokens < need then wait = math.ceil((need - tokens) * msPerToken) end
if wait > maxWait then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * msPerToken * 2))
  return {0, wait, 0}
end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * msPerToken * 2))
return {1, wait, math.max(0, math.floor(tokens))}
`;

type TakeCommand = (key: string, capacity: number, msPerToken: number, maxWaitMs: number, reserve: number) => Promise<[number, number, number]>;

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
      const msPerToken = limit.perMs / limit.requests;
      // Redis unreachable: spend a budget of this instance's own rather than fail every call.
      const fallback = createLocalBudget(limit);
      return {
        async take(maxWaitMs, options) {
          let answer: [number, number, number];
          try {
            answer = await take(`${prefix}:rate:${key}`, limit.requests, msPerToken, maxWaitMs, reserveOf(limit, options));
          } catch {
            return fallback.take(maxWaitMs, options);
          }
          const [ok, ms, remaining] = answer;
          return ok === 1 ? { ok: true, waitMs: Number(ms), remaining: Number(remaining) } : { ok: false, retryAfterMs: Number(ms), remaining: 0 };
        },
      };
    },
    async close() {
      if (owned) redis.disconnect();
    },
  };
}
