// The gateway process: one node:http server carrying GraphQL over HTTP
// (Apollo Server), graphql-ws on the same path, the provider webhook receivers,
// health, readiness and metrics; and an orderly shutdown.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { createAuthenticator, requireRole } from './auth.js';
import type { GatewayConfig, Role } from './config.js';
import type { GatewayContext } from './context.js';
import { ErrorCode, ProviderError, UnsupportedError, toGraphQLError } from './errors.js';
import { createIngest } from './events/ingest.js';
import { createPubSub } from './events/pubsub/index.js';
import { createStore } from './events/store/index.js';
import type { EventStore, PubSub } from './events/types.js';
import { createLoaders } from './loaders.js';
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
}

const WEBHOOK_ROUTES: Readonly<Record<string, ProviderName>> = {
  '/webhooks/podium': 'PODIUM',
  '/webhooks/leadconnector': 'LEADCONNECTOR',
  '/webhooks/smooch': 'SMOOCH',
};
/** Largest GraphQL request body. @default 1 MiB */
const GRAPHQL_MAX_BYTES = 1_048_576;
/** /readyz waits this long for the store and pubsub. */
const READY_TIMEOUT_MS = 2_000;

class BodyTooLarge extends Error {}

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
  /** Publishes of acknowledged webhooks still running. */
  const inFlight = new Set<Promise<void>>();
  const ingest = createIngest({ providers, store, pubsub, metrics, logger });
  const schema = createSchema();

  function makeContext(role: Role | null): GatewayContext {
    return {
      role,
      providers,
      loaders: createLoaders(providers),
      store,
      pubsub,
      logger,
      metrics,
      onWebhooksChanged: (provider) => ingest.invalidateSecrets(provider),
      allowLocalHttpWebhooks: config.env !== 'production',
    };
  }

  const httpServer: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      logger.error({ err }, 'unhandled error answering a request');
      sendJson(res, 500, { error: 'internal_error', message: 'Internal server error' });
    });
  });
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  wsServer.on('connection', (socket) => {
    metrics.wsConnections.inc();
    socket.once('close', () => metrics.wsConnections.dec());
  });
  const wsCleanup = useServer<Record<string, unknown> | undefined, { role?: Role | null }>(
    {
      schema,
      // Auth happens once, in connection_init; false closes the socket with 4403.
      onConnect: (ctx) => {
        const role = auth.roleFor(ctx.connectionParams?.authorization);
        if (role === null) return false;
        ctx.extra.role = role;
        return true;
      },
      context: (ctx) => makeContext(ctx.extra.role ?? null),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e, e)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GatewayContext>({
    schema,
    csrfPrevention: true,
    // src/index.ts owns SIGTERM/SIGINT: it drains this server, then the sandbox, then exits.
    stopOnTerminationSignals: false,
    introspection: config.env !== 'production',
    includeStacktraceInErrorResponses: false,
    formatError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
      operationPlugin(metrics),
    ],
  });

  function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const original = unwrapResolverError(error);
    if (original instanceof ProviderError || original instanceof UnsupportedError) {
      const mapped = toGraphQLError(original);
      return { message: mapped.message, locations: formatted.locations, path: formatted.path, extensions: { ...mapped.extensions } };
    }
    const code = formatted.extensions?.code ?? ErrorCode.InternalServerError;
    if (code === ErrorCode.InternalServerError) {
      logger.error({ err: original }, 'resolver failed');
      return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    const { http: _http, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { ...extensions, code } };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = req.method ?? 'GET';
    const provider = WEBHOOK_ROUTES[url.pathname];
    const label = provider ? url.pathname : ['/graphql', '/healthz', '/readyz', '/metrics'].includes(url.pathname) ? url.pathname : 'other';
    res.once('finish', () => metrics.observeHttp(label, method, res.statusCode, (performance.now() - started) / 1000));

    if (url.pathname === '/graphql') return graphql(req, res, url);
    if (provider) {
      if (method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed', message: 'webhooks are POSTed' }, { allow: 'POST' });
      return webhook(provider, req, res);
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') return ready(res);
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    sendJson(res, 404, { error: 'not_found', message: `no route ${method} ${url.pathname}` });
  }

  async function graphql(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const origin = req.headers.origin;
    if (origin) {
      const allowed = config.corsOrigins === null || config.corsOrigins.includes('*') || config.corsOrigins.includes(origin);
      if (!allowed) return sendJson(res, 403, { error: 'origin_not_allowed', message: `origin ${origin} is not in GATEWAY_CORS_ORIGINS` });
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    let body: unknown;
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, GRAPHQL_MAX_BYTES);
      } catch (err) {
        if (err instanceof BodyTooLarge) return sendJson(res, 413, graphqlError(`request body exceeds ${GRAPHQL_MAX_BYTES} bytes`, 'PAYLOAD_TOO_LARGE'));
        throw err;
      }
      const type = req.headers['content-type'] ?? '';
      if (type.includes('json')) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return sendJson(res, 400, graphqlError('request body is not valid JSON', ErrorCode.BadUserInput));
        }
      } else {
        body = raw.toString('utf8');
      }
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const role = auth.roleFor(req.headers.authorization);
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => makeContext(role),
    });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }

  async function webhook(provider: ProviderName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = new Date();
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, config.webhookMaxBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        metrics.countWebhook(provider, 'too_large');
        return sendJson(res, 413, { error: 'payload_too_large', message: `webhook bodies are limited to ${config.webhookMaxBytes} bytes` }, { connection: 'close' });
      }
      throw err;
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
    }
    const result = await ingest.handle(provider, { headers, rawBody, receivedAt });
    sendJson(res, result.status, result.body);
    if (result.afterResponse) {
      const publishing = result.afterResponse().catch((err: unknown) => logger.error({ err, provider }, 'publishing webhook events failed'));
      // close() waits for these: the store and pubsub must outlive what was acknowledged.
      inFlight.add(publishing);
      await publishing;
      inFlight.delete(publishing);
    }
  }

  async function ready(res: ServerResponse): Promise<void> {
    const check = async (name: string, ping: () => Promise<void>): Promise<[string, string]> => {
      try {
        await withTimeout(ping(), READY_TIMEOUT_MS);
        return [name, 'ok'];
      } catch (err) {
        return [name, err instanceof Error ? err.message : 'unreachable'];
      }
    };
    const checks = Object.fromEntries(await Promise.all([check('store', () => store.ping()), check('pubsub', () => pubsub.ping())]));
    const ok = Object.values(checks).every((v) => v === 'ok');
    sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks });
  }

  let url = '';
  let closing: Promise<void> | null = null;
  let started = false;
  return {
    get url() {
      return url;
    },
    store,
    pubsub,
    providers,
    metrics,
    logger,
    async listen(port = config.port, host?: string) {
      await apollo.start();
      started = true;
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => resolve());
      });
      const address = httpServer.address() as AddressInfo;
      const shownHost = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
      url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
      return url;
    },
    close() {
      closing ??= (async () => {
        if (started) await apollo.stop();
        else {
          await wsCleanup.dispose();
          wsServer.close();
        }
        await Promise.allSettled(inFlight);
        await Promise.allSettled([store.close(), pubsub.close()]);
      })();
      return closing;
    },
  };
}

/** Operation-level auth (queries need a viewer key, mutations an admin key) and metrics. */
function operationPlugin(metrics: GatewayMetrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      let operationType = 'unknown';
      return {
        async didResolveOperation({ operation, contextValue }) {
          operationType = operation?.operation ?? 'unknown';
          requireRole(contextValue.role, operationType === 'mutation' ? 'admin' : 'viewer');
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          metrics.observeGraphQL(operationType, errors?.length ? 'error' : 'ok', (performance.now() - started) / 1000);
        },
      };
    },
  };
}

function graphqlError(message: string, code: string): { errors: GraphQLFormattedError[] } {
  return { errors: [{ message, extensions: { code } }] };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** Reads the whole body, failing fast (without buffering the rest) past `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
