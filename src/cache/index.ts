// The cross-request cache of provider data, beneath the per-request loaders:
// a bounded LRU in this process, or Redis when REDIS_URL is set (every instance
// then reads the same entries and sees the same invalidations). The providers'
// own webhooks keep it fresh: ingest calls `invalidate` after storing a delivery
// and before answering 200, so a query that starts after the 200 never sees data
// older than the webhook, on any instance. Where no webhook of this gateway
// covers a provider, entries only live a short TTL.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProviderName } from '../model.js';
import type { Provider } from '../providers/provider.js';
import { createMemoryBackend, type CacheBackend } from './backend.js';
import { cacheProvider, touchedCounters, type CacheTtls, type Touched } from './cached-provider.js';
import { createEntityCache, type CacheObserver } from './entity-cache.js';
import { createRedisBackend } from './redis.js';
import { createResponseCache, responseCacheMetrics, type ResponseCache } from './response-cache.js';
import { createMemoryResponseStore, createRedisResponseStore, type ResponseStore } from './response-store.js';
import { openRedis } from '../infra/clients.js';
import { withDeadline } from '../deadline.js';

export type { Touched } from './cached-provider.js';
export type { ResponseCache } from './response-cache.js';

export interface CacheConfig {
  /** Off: every read goes upstream (per-request DataLoaders still dedupe). @default true */
  readonly enabled: boolean;
  /** Entries invalidated by webhooks. @default 600_000 (10 minutes) */
  readonly ttlMs: number;
  /** Everything, where no webhook of this gateway covers the provider. @default 30_000 (30 seconds) */
  readonly uncoveredTtlMs: number;
  /** Users: no provider sends webhooks for them. @default 300_000 (5 minutes) */
  readonly usersTtlMs: number;
  /** In-process backend size. @default 50_000 entries */
  readonly maxEntries: number;
  /** Key prefix, so deployments sharing one Redis keep apart. @default 'gw' */
  readonly prefix: string;
}

export type Coverage = 'webhooks' | 'ttl-only';

export interface GatewayCache {
  /** The providers with their reads cached; identity when the cache is off. */
  wrap(providers: ReadonlyMap<ProviderName, Provider>): ReadonlyMap<ProviderName, Provider>;
  /** One account's Provider with its reads cached under keys of that account (null: the environment's, keyed as before accounts). */
  wrapProvider(name: ProviderName, account: string | null, provider: Provider): Provider;
  /** Bumps what an acknowledged-to-be delivery changed in one account's entries (null: the environment's); rejects when the backend cannot be reached. */
  invalidate(provider: ProviderName, touched: Touched, cause: string, account?: string | null): Promise<void>;
  /** A verified delivery arrived: this provider's webhooks reach the gateway. */
  noteDelivery(provider: ProviderName): void;
  /** A webhook subscription pointing at this gateway is (or is not) listed by the provider. */
  setListed(provider: ProviderName, listed: boolean): void;
  coverage(provider: ProviderName): Coverage;
  /**
   * Asks each provider for its webhook subscriptions and marks those with one
   * (created at the provider, not a read-only stand-in) that points at this
   * gateway's public URL. Failures leave the coverage as it was.
   */
  checkCoverage(providers: ReadonlyMap<ProviderName, Provider>, publicUrl: string): Promise<void>;
  /** Whole answers of HTTP queries, kept exact by the same counters; null when the cache is off. */
  readonly responses: ResponseCache | null;
  close(): Promise<void>;
}

export interface GatewayCacheOptions {
  readonly config: CacheConfig;
  readonly redisUrl: string | null;
  /** The gateway's shared command connection to `redisUrl`. @default one of the cache's own */
  readonly redis?: Redis;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Cache namespace of each provider's credential, so two credentials never share entries. */
  readonly scopes: ReadonlyMap<ProviderName, string>;
  /** Deliveries older than this no longer count as coverage. @default 3_600_000 (1 hour) */
  readonly deliveryWindowMs?: number;
  /** The clock of coverage and of the in-process TTLs. @default performance */
  readonly clock?: { now(): number };
  readonly backend?: CacheBackend;
  /** Bytes of answers the in-process response cache holds. @default 67_108_864 (64 MiB) */
  readonly responseMaxBytes?: number;
}

export function createGatewayCache(options: GatewayCacheOptions): GatewayCache {
  const { config, registry, logger, scopes } = options;
  const clock = options.clock ?? performance;
  const deliveryWindowMs = options.deliveryWindowMs ?? 3_600_000;
  const backend =
    options.backend ?? (options.redisUrl ? createRedisBackend(options.redis ?? options.redisUrl) : createMemoryBackend({ maxEntries: config.maxEntries, clock }));
  const metrics = cacheMetrics(registry);
  const lastDelivery = new Map<ProviderName, number>();
  const listed = new Set<ProviderName>();
  const observer = {
    hit: (entity, n) => n && metrics.requests.inc({ entity, result: 'hit' }, n),
    miss: (entity, n) => n && metrics.requests.inc({ entity, result: 'miss' }, n),
    coalesced: (entity, n) => n && metrics.requests.inc({ entity, result: 'coalesced' }, n),
    failed: (operation, err) => {
      metrics.errors.inc({ operation });
      logger.warn({ err, operation }, 'cache backend failed; serving from upstream');
    },
  } satisfies CacheObserver;
  const cache = createEntityCache(backend, observer);

  function coverage(provider: ProviderName): Coverage {
    const at = lastDelivery.get(provider);
    return listed.has(provider) || (at !== undefined && clock.now() - at < deliveryWindowMs) ? 'webhooks' : 'ttl-only';
  }
  function ttls(provider: ProviderName): CacheTtls {
    if (coverage(provider) === 'webhooks') return { entityMs: config.ttlMs, usersMs: config.usersTtlMs };
    return { entityMs: config.uncoveredTtlMs, usersMs: Math.min(config.usersTtlMs, config.uncoveredTtlMs) };
  }
  const responses = config.enabled ? createResponses(options, backend, observer.failed) : null;
  const scopeOf = (provider: ProviderName): string => scopes.get(provider) ?? provider;
  const showCoverage = (provider: ProviderName): void => void metrics.coverage.set({ provider }, coverage(provider) === 'webhooks' ? 1 : 0);
  function setListed(provider: ProviderName, isListed: boolean): void {
    if (isListed) listed.add(provider);
    else listed.delete(provider);
    showCoverage(provider);
  }

  function wrapProvider(name: ProviderName, account: string | null, provider: Provider): Provider {
    if (!config.enabled) return provider;
    showCoverage(name);
    const scope = `${config.prefix}:${scopeOf(name)}`;
    return cacheProvider(provider, cache, accountScope(scope, account), () => ttls(name));
  }

  return {
    wrap(providers) {
      if (!config.enabled) return providers;
      return new Map([...providers].map(([name, provider]) => [name, wrapProvider(name, null, provider)]));
    },
    wrapProvider,
    async invalidate(provider, touched, cause, account = null) {
      if (!config.enabled) return;
      const list = touchedCounters(accountScope(`${config.prefix}:${scopeOf(provider)}`, account), touched);
      if (list.length === 0) return;
      await cache.invalidate(list);
      metrics.invalidations.inc({ provider, cause });
    },
    noteDelivery(provider) {
      lastDelivery.set(provider, clock.now());
      showCoverage(provider);
    },
    setListed,
    coverage,
    async checkCoverage(providers, publicUrl) {
      if (!config.enabled) return;
      const prefix = `${publicUrl.replace(/\/+$/, '')}/webhooks/`;
      await Promise.all(
        [...providers].map(async ([name, provider]) => {
          try {
            const hooks = await withDeadline(provider.webhooks.list(), COVERAGE_CHECK_TIMEOUT_MS);
            setListed(name, hooks.some((h) => h.editable && !h.disabled && h.url.startsWith(prefix)));
          } catch (err) {
            logger.debug({ err, provider: name }, 'webhook coverage check failed');
          }
        }),
      );
    },
    responses: responses?.cache ?? null,
    close: async () => {
      await responses?.store.close();
      await backend.close();
    },
  };
}

/** The response cache over the entity cache's generations; its answers where the entities are (Redis or this process). */
function createResponses(options: GatewayCacheOptions, generations: CacheBackend, failed: (operation: 'read' | 'write', err: unknown) => void): { cache: ResponseCache; store: ResponseStore } {
  const metrics = responseCacheMetrics(options.registry);
  let store: ResponseStore;
  if (options.redisUrl) {
    const own = options.redis ? null : openRedis(options.redisUrl, 'command', {});
    const redisStore = createRedisResponseStore(options.redis ?? (own as NonNullable<typeof own>));
    store = { ...redisStore, close: async () => void own?.disconnect() };
  } else {
    store = createMemoryResponseStore({ evicted: () => metrics.evictions.inc(), bytes: (delta) => metrics.bytes.inc(delta) }, { clock: options.clock, maxBytes: options.responseMaxBytes });
  }
  return { cache: createResponseCache({ generations, store, registry: options.registry, prefix: options.config.prefix, failed }, metrics), store };
}

/** A coverage check never holds up start-up for longer than this. */
const COVERAGE_CHECK_TIMEOUT_MS = 3_000;


function cacheMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'gateway_cache_requests_total',
      help: 'Cache look-ups by entity and result (hit, miss, coalesced: joined a load already in flight)',
      labelNames: ['entity', 'result'],
      registers: [registry],
    }),
    invalidations: new Counter({
      name: 'gateway_cache_invalidations_total',
      help: 'Cache invalidations by provider and cause',
      labelNames: ['provider', 'cause'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'gateway_cache_errors_total',
      help: 'Cache backend failures by operation (reads and writes then go upstream uncached)',
      labelNames: ['operation'],
      registers: [registry],
    }),
    coverage: new Gauge({
      name: 'gateway_cache_webhook_coverage',
      help: '1 when webhooks of this gateway cover the provider (long TTLs), 0 when only short TTLs keep entries honest',
      labelNames: ['provider'],
      registers: [registry],
    }),
  };
}

/** The environment's account keeps the keys from before accounts. */
function accountScope(providerScope: string, account: string | null): string {
  return account === null || account === 'env' ? providerScope : `${providerScope}:a:${account}`;
}
