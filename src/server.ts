// The composition root: builds the gateway's parts from the config and wires
// them into one Fastify server (route modules in http/), and nothing else.
// Shutdown order: WebSockets (1001), HTTP (in-flight requests finish), Apollo,
// publishes of acknowledged webhooks and the outbox, then the store and pubsub.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAuthenticator } from './auth.js';
import type { GatewayConfig } from './config.js';
import { createContextFactory } from './context.js';
import { createErrorFormatter } from './errors.js';
import { createIngest } from './events/ingest.js';
import { createOutbox, type OutboxOptions } from './events/outbox.js';
import { createPubSub } from './events/pubsub/index.js';
import { createStore } from './events/store/index.js';
import type { EventStore, PubSub } from './events/types.js';
import { createApollo } from './graphql/apollo.js';
import { createOperationLimits } from './graphql/limits.js';
import { GRAPHQL_PATH, graphqlRoutes } from './http/graphql.js';
import { healthRoutes } from './http/health.js';
import { sendError } from './http/reply.js';
import { WEBHOOK_PATHS, webhookRoutes } from './http/webhooks.js';
import { createLogger } from './logger.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import type { ProviderName } from './model.js';
import { createProviders } from './providers/index.js';
import type { Provider } from './providers/provider.js';
import { createSchema } from './schema.js';

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
}

/** Test and embedding hooks; everything defaults to what the config says. */
export interface GatewayDeps {
  readonly store?: EventStore;
  readonly pubsub?: PubSub;
  readonly providers?: ReadonlyMap<ProviderName, Provider>;
  readonly logger?: Logger;
  /** Outbox timing (tests shorten it). @default see OutboxOptions */
  readonly outbox?: Pick<OutboxOptions, 'intervalMs' | 'graceMs' | 'leaseMs'>;
}

/** Route labels of the HTTP metrics; anything else is `other`, so scanners cannot grow the label set. */
const METRIC_ROUTES = new Set([GRAPHQL_PATH, '/healthz', '/readyz', '/metrics', ...Object.keys(WEBHOOK_PATHS)]);

export function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const store = deps.store ?? createStore(config);
  const pubsub = deps.pubsub ?? createPubSub(config);
  const providers =
    deps.providers ??
    createProviders(config, {
      upstream: config.upstream,
      publicUrl: config.publicUrl,
      allowUnsignedWebhooks: config.allowUnsignedWebhooks,
      onCall: (call) => metrics.observeUpstream(call),
    });
  const auth = createAuthenticator(config.apiKeys);
  const outbox = createOutbox({ store, pubsub, logger, metrics, ...deps.outbox });
  const ingest = createIngest({ providers, store, pubsub, metrics, logger, outbox });
  const schema = createSchema();
  const limits = createOperationLimits(schema, config.graphql, { introspection: config.introspection });
  const formatError = createErrorFormatter({ logger, hideSuggestions: !config.introspection });
  const contextFor = createContextFactory({
    providers,
    store,
    pubsub,
    logger,
    metrics,
    onWebhooksChanged: (provider) => ingest.invalidateSecrets(provider),
    allowLocalHttpWebhooks: config.env !== 'production',
  });
  const apollo = createApollo({ schema, limits, formatError, metrics, introspection: config.introspection });

  const app: FastifyInstance = Fastify({ logger: false, return503OnClosing: true });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    metrics.observeHttp(route && METRIC_ROUTES.has(route) ? route : 'other', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}`));
  void app.register(healthRoutes, { store, pubsub, metrics });
  void app.register(webhookRoutes, { ingest, metrics, maxBytes: config.webhookMaxBytes });
  void app.register(graphqlRoutes, {
    apollo,
    auth,
    contextFor,
    corsOrigins: config.corsOrigins,
    maxBytes: config.graphql.maxBytes,
    ws: { schema, limits, formatError, metrics },
  });

  let url = '';
  let closing: Promise<void> | null = null;
  return {
    get url() {
      return url;
    },
    store,
    pubsub,
    providers,
    metrics,
    logger,
    async listen(port = config.port, host = '::') {
      await app.listen({ port, host });
      // Publishes what an earlier process stored but never published, then keeps sweeping.
      outbox.start();
      const address = app.server.address() as AddressInfo;
      const shownHost = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
      url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
      return url;
    },
    close() {
      closing ??= (async () => {
        await app.close();
        await ingest.drain();
        await outbox.stop();
        await Promise.allSettled([store.close(), pubsub.close()]);
      })();
      return closing;
    },
  };
}
