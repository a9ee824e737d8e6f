// The composition root: builds the gateway's parts from the config and wires
// them into one Fastify server (route modules in http/), and nothing else.
// Shutdown order: WebSockets (1001), HTTP (in-flight requests finish), Apollo,
// publishes of acknowledged webhooks and the outbox, then the store and pubsub.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createHash } from 'node:crypto';
import { createAccounts, type AccountsService } from './accounts/index.js';
import type { AccountStore } from './accounts/store/index.js';
import { createWebhookRouter } from './accounts/webhook-routing.js';
import { CHECK_TTL_MS as KEY_CHECK_TTL_MS } from './accounts/api-keys.js';
import { createAuthenticator } from './auth.js';
import { createGatewayCache, type GatewayCache } from './cache/index.js';
import { dropCacheOnDisconnect, invalidateOnStored } from './cache/invalidation.js';
import type { GatewayConfig } from './config.js';
import { createContextFactory } from './context.js';
import { createLoaders } from './loaders.js';
import { createOutbound, type Outbound } from './outbound/index.js';
import type { AccountId } from './accounts/types.js';
import { createDirectory, ENV_DIRECTORY_ACCOUNT, recordSeenOnStored, type Directory } from './directory/index.js';
import { createErrorFormatter } from './errors.js';
import { createIngest } from './events/ingest.js';
import { createLiveEvents } from './events/live-events.js';
import { createOutbox, type OutboxOptions } from './events/outbox.js';
import { createPubSub } from './events/pubsub/index.js';
import { createRetention } from './events/retention.js';
import { createStore } from './events/store/index.js';
import type { EventStore, PubSub } from './events/types.js';
import { createApollo } from './graphql/apollo.js';
import { createGatewayPipeline } from './graphql/gateway-pipeline.js';
import { createOperationLimits } from './graphql/limits.js';
import { createPersistedQueries } from './graphql/persisted-queries.js';
import { loadTrustedDocuments, type TrustedDocuments } from './graphql/trusted-documents.js';
import { createAdmission } from './http/admission.js';
import { GRAPHQL_PATH, graphqlRoutes } from './http/graphql.js';
import { healthRoutes } from './http/health.js';
import { EXPLORER_PATH, pageRoutes } from './http/pages.js';
import { OAUTH_ROUTES, oauthRoutes } from './http/oauth.js';
import { sendError } from './http/reply.js';
import { WEBHOOK_PATHS, webhookRoutes } from './http/webhooks.js';
import { createLogger } from './logger.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import type { ProviderName } from './model.js';
import { configOf, PROVIDER_DESCRIPTORS, type AnyDescriptor } from './providers/index.js';
import { createRateBudgets } from './providers/rate-budget.js';
import type { Provider, ProviderDeps } from './providers/provider.js';
import { eventContext } from './resolvers/event.js';
import { createSchema } from './schema.js';
import { withProviderEnumHint } from './providers/aliases.js';
import { createCloseStack } from './infra/close-stack.js';
import { openSharedClients } from './infra/shared.js';

/** Pending connections the kernel queues for accept. */
const LISTEN_BACKLOG = 4_096;

export interface Gateway {
  /** Starts listening; resolves with the base URL. @default port config.port, host all interfaces */
  listen(port?: number, host?: string): Promise<string>;
  /** Drains HTTP and WebSocket connections, then closes the store and pubsub. Idempotent. */
  close(): Promise<void>;
  readonly url: string;
  readonly store: EventStore;
  readonly pubsub: PubSub;
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly cache: GatewayCache;
  readonly accounts: AccountsService;
  /** CLIENT SETNAME of this gateway's two Redis connections; null without REDIS_URL. */
  readonly redisClientName: string | null;
  readonly directory: Directory;
  /** Sending: the intent store, the status bus, the worker. */
  readonly outbound: Outbound;
}

/** Test and embedding hooks; everything defaults to what the config says. */
export interface GatewayDeps {
  readonly store?: EventStore;
  readonly pubsub?: PubSub;
  readonly providers?: ReadonlyMap<ProviderName, Provider>;
  /** The accounts store. @default MongoDB (the event store's database) when configured, else in process */
  readonly accountStore?: AccountStore;
  /** What the gateway has seen, per account. @default MongoDB when configured, else in process */
  readonly directory?: Directory;
  readonly logger?: Logger;
  /** How long close() lets in-flight HTTP requests finish before closing every connection left. @default 10_000 (10 seconds) */
  readonly closeGraceMs?: number;
  /** Outbox timing (tests shorten it). @default see OutboxOptions */
  readonly outbox?: Pick<OutboxOptions, 'intervalMs' | 'graceMs' | 'leaseMs'>;
  /** Send worker pace and attempt lease (tests shorten them). */
  readonly outbound?: { readonly intervalMs?: number; readonly leaseMs?: number };
  /** Bytes of answers the in-process response cache holds (tests make it small to see evictions). @default 64 MiB */
  readonly responseCacheMaxBytes?: number;
}

/** How long close() waits for in-flight HTTP requests before closing the connections left open. */
const CLOSE_GRACE_MS = 10_000; // 10 seconds

/** How often the providers are asked whether a webhook points at this gateway. */
const COVERAGE_CHECK_MS = 300_000; // 5 minutes

/** Route labels of the HTTP metrics; anything else is `other`, so scanners cannot grow the label set. */
const METRIC_ROUTES = new Set([GRAPHQL_PATH, '/healthz', '/readyz', '/metrics', ...Object.keys(WEBHOOK_PATHS), ...OAUTH_ROUTES]);

export function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  // First: a manifest that cannot be read stops the start before any connection is opened.
  const trustedDocuments = config.trustedDocuments ? loadTrustedDocuments(config.trustedDocuments) : null;
  const base = buildFoundation(config, deps);
  const people = buildAccounts(config, deps, base);
  const events = buildEvents(config, deps, base, people);
  const app = buildApp(config, base, people, events, trustedDocuments);
  const { store, pubsub, metrics, logger, cache, directory, clients, closers } = base;
  const { accounts, providers, outbound } = people;
  const { outbox, retention } = events;

  let url = '';
  let closing: Promise<void> | null = null;
  let coverageTimer: NodeJS.Timeout | null = null;
  return {
    get url() {
      return url;
    },
    store,
    pubsub,
    providers,
    metrics,
    logger,
    cache,
    accounts: accounts.service,
    redisClientName: clients.redis ? clients.redisName : null,
    directory,
    outbound,
    async listen(port = config.port, host = '::') {
      // Production refuses to start with stored accounts it cannot decrypt.
      await accounts.service.registry.check();
      // A connection storm overflows Node's default accept backlog (511) and the kernel resets the
      // rest; the kernel caps this at net.core.somaxconn (4096 on current Linux).
      await app.listen({ port, host, backlog: LISTEN_BACKLOG });
      // Known before the first query, so its entries get the right TTL.
      await cache.checkCoverage(providers, config.publicUrl);
      coverageTimer = setInterval(() => void cache.checkCoverage(providers, config.publicUrl), COVERAGE_CHECK_MS).unref();
      // Publishes what an earlier process stored but never published, then keeps sweeping.
      outbox.start();
      retention.start();
      // Sends a stopped process left queued or mid-attempt go on here.
      outbound.worker.start();
      const address = app.server.address() as AddressInfo;
      const shownHost = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
      url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
      return url;
    },
    close() {
      // Sockets and HTTP first (in-flight requests finish), then the timers' work, then every part in
      // reverse order of start-up, the shared clients last.
      closing ??= (async () => {
        if (coverageTimer) clearInterval(coverageTimer);
        // A connection that never sends a request holds app.close() until Node's headers timeout
        // (60 s): past the grace period, whatever is still open is closed.
        const force = setTimeout(() => app.server.closeAllConnections(), deps.closeGraceMs ?? CLOSE_GRACE_MS).unref();
        await app.close();
        clearTimeout(force);
        await retention.stop();
        await outbox.stop();
        await outbound.worker.stop();
        await closers.closeAll();
      })();
      return closing;
    },
  };
}

/** What every other part stands on: logs, metrics, the shared clients and the stores, caches and budgets over them. */
function buildFoundation(config: GatewayConfig, deps: GatewayDeps) {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  // One MongoClient and one Redis pair for every part; closed last, after every part that uses them.
  const clients = openSharedClients(config);
  const closers = createCloseStack(logger);
  closers.add('shared clients', () => clients.close());
  const redis = clients.redis?.command ?? null;
  const store = deps.store ?? createStore(config, clients.db);
  closers.add('event store', () => store.close());
  const pubsub = deps.pubsub ?? createPubSub(config, clients.redis);
  closers.add('pubsub', () => pubsub.close());
  const rateBudgets = createRateBudgets(redis, config.cache.prefix);
  closers.add('rate budgets', () => rateBudgets.close());
  const cache = createGatewayCache({ config: config.cache, redisUrl: config.redisUrl, redis: redis ?? undefined, registry: metrics.registry, logger, scopes: cacheScopes(config), responseMaxBytes: deps.responseCacheMaxBytes });
  closers.add('cache', () => cache.close());
  const directory = deps.directory ?? createDirectory(config, clients.db);
  closers.add('directory', () => directory.close());
  return { logger, metrics, clients, closers, redis, store, pubsub, rateBudgets, cache, directory };
}
type Foundation = ReturnType<typeof buildFoundation>;

/** The accounts (the environment's and stored ones), their providers behind the cache, keys, and sending. */
function buildAccounts(config: GatewayConfig, deps: GatewayDeps, base: Foundation) {
  const { logger, metrics, clients, closers, redis, cache, directory } = base;
  const providerDeps: ProviderDeps = {
    upstream: config.upstream,
    publicUrl: config.publicUrl,
    allowUnsignedWebhooks: config.allowUnsignedWebhooks,
    onCall: (call) => metrics.observeUpstream(call),
    rateBudgets: base.rateBudgets,
    onRateBudget: (provider, remaining) => metrics.observeRateBudget(provider, remaining),
    directory: { store: directory, account: ENV_DIRECTORY_ACCOUNT },
  };
  // The environment's providers are its accounts; stored accounts join them, and each provider answers from its default one.
  const accounts = createAccounts(config, {
    logger,
    providerDeps,
    envProviders: deps.providers,
    store: deps.accountStore,
    clients: { db: clients.db, redis },
    wrap: (name, account, provider) => cache.wrapProvider(name, account, provider),
  });
  closers.add('accounts', () => accounts.close());
  const outbound = createOutbound({
    config: { ...config.outbound, db: clients.db, redis: clients.redis, prefix: config.cache.prefix, upstreamTimeoutMs: config.upstream.timeoutMs },
    logger,
    registry: metrics.registry,
    senderFor: async (provider, account) => (await accounts.service.registry.apiFor(provider, account as AccountId)).sender ?? null,
    invalidate: (provider, account, conversationId) =>
      cache.invalidate(provider, conversationId ? { conversationIds: [conversationId] } : { conversations: true }, 'send', account === 'env' ? null : account),
    // The worker's recipient lookups (sends the mutation queued for want of budget).
    loaders: () => createLoaders((name, account) => accounts.routes.forAccount(name, account)),
    timing: deps.outbound,
  });
  closers.add('outbound', () => outbound.close());
  return { accounts, providers: accounts.providers, auth: createAuthenticator(config.apiKeys, accounts.service.keys), outbound };
}
type AccountParts = ReturnType<typeof buildAccounts>;

/** The webhook path: ingest with its after-stored hooks, the outbox that publishes, retention. */
function buildEvents(config: GatewayConfig, deps: GatewayDeps, base: Foundation, people: AccountParts) {
  const { store, pubsub, metrics, logger, cache, directory } = base;
  const { accounts, providers, outbound } = people;
  const outbox = createOutbox({ log: store, claims: store, pubsub, logger, metrics, ...deps.outbox });
  const retention = createRetention({ log: store, claims: store, logger });
  const ingest = createIngest({
    providers,
    store,
    pubsub,
    metrics,
    logger,
    outbox,
    // A delivery naming a connected account's location, organization or app is verified with that account's secrets.
    route: createWebhookRouter(accounts.service.registry),
    // Before the 200: a query that starts after the answer must not see what this delivery changed.
    afterStored: [
      // First, so the lists the invalidation below refreshes already hold what this delivery named.
      recordSeenOnStored(directory, (name) => providers.get(name)?.receiver.feedsDirectory === true),
      invalidateOnStored(cache, accounts.service.registry),
      // Sends move forward by their provider's webhooks before the delivery is acknowledged.
      outbound.afterStored,
    ],
  });
  return { outbox, retention, ingest };
}
type EventParts = ReturnType<typeof buildEvents>;

/** The query path: schema, the operation pipeline, Apollo and graphql-ws, and the Fastify app with every route module. */
function buildApp(config: GatewayConfig, base: Foundation, people: AccountParts, events: EventParts, trustedDocuments: TrustedDocuments | null): FastifyInstance {
  const { store, pubsub, metrics, logger, closers } = base;
  const { accounts, providers, outbound, auth } = people;
  const { ingest } = events;
  const schema = createSchema();
  const limits = createOperationLimits(schema, config.graphql, { introspection: config.introspection });
  const formatError = createErrorFormatter({ logger, hideSuggestions: !config.introspection, hint: withProviderEnumHint });
  const contextFor = createContextFactory({
    providers,
    accountProviders: accounts.routes,
    store,
    pubsub,
    liveEvents: createLiveEvents({ pubsub, log: store, logger, metrics }),
    logger,
    metrics,
    onWebhooksChanged: (provider) => ingest.invalidateSecrets(provider),
    beginWebhookCreation: (provider) => ingest.beginWebhookCreation(provider),
    replay: ingest.replay,
    allowLocalHttpWebhooks: config.env !== 'production',
    accounts: dropCacheOnDisconnect(accounts.service, base.cache),
    outbound,
  });
  const admission = createAdmission(config.websockets, { registry: metrics.registry, logger });
  const persistedQueries = createPersistedQueries({ redis: base.redis, prefix: config.cache.prefix, logger });
  closers.add('persisted queries', () => persistedQueries.close());
  const pipeline = createGatewayPipeline({ limits, metrics, trustedDocuments });
  const apollo = createApollo({
    schema,
    pipeline,
    formatError,
    introspection: config.introspection,
    federationTraces: config.federationTraces,
    persistedQueries: persistedQueries.options,
  });
  const keys = accounts.service.keys;
  const app: FastifyInstance = Fastify({ logger: false, return503OnClosing: true });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    metrics.observeHttp(route && METRIC_ROUTES.has(route) ? route : 'other', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}`));
  void app.register(healthRoutes, { store, pubsub, metrics, admission });
  void app.register(pageRoutes, { explorer: config.explorer, console: config.console });
  void app.register(webhookRoutes, { ingest, metrics, maxBytes: config.webhookMaxBytes });
  void app.register(oauthRoutes, { connector: accounts.service.connector, secureCookies: config.publicUrl.startsWith('https:') });
  void app.register(graphqlRoutes, {
    apollo,
    pipeline,
    auth,
    contextFor,
    corsOrigins: config.corsOrigins,
    maxBytes: config.graphql.maxBytes,
    explorerPath: config.explorer ? EXPLORER_PATH : null,
    responses: base.cache.responses,
    ws: {
      schema,
      formatError,
      metrics,
      admission,
      maxBufferedBytes: config.wsMaxBufferedBytes,
      eventContext,
      revocations: { onRevoked: keys.onRevoked, revokedAmong: keys.revokedAmong, recheckMs: KEY_CHECK_TTL_MS },
    },
  });
  return app;
}

/** One cache namespace per environment credential: the API it talks to and the identity it acts as. */
function cacheScopes(config: GatewayConfig): ReadonlyMap<ProviderName, string> {
  const scopes = new Map<ProviderName, string>();
  for (const descriptor of PROVIDER_DESCRIPTORS as readonly AnyDescriptor[]) {
    const identity = descriptor.environment(configOf(config, descriptor))?.identity;
    if (identity) scopes.set(descriptor.name, `${descriptor.name}:${createHash('sha256').update(identity).digest('base64url').slice(0, 12)}`);
  }
  return scopes;
}
