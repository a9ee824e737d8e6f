// Starts a real gateway on an ephemeral port against the provider emulators,
// with MongoDB (FerretDB) or the embedded store, and gives tests a GraphQL
// client, a graphql-ws client factory and the emulators to count requests on.
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { inject, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import type { AccountStore } from '../../src/accounts/store/types.js';
import { loadConfig, type GatewayConfig } from '../../src/config.js';
import { createMongoStore } from '../../src/events/store/mongo.js';
import { createRedisPubSub } from '../../src/events/pubsub/redis.js';
import type { EventStore, PubSub } from '../../src/events/types.js';
import type { ProviderName } from '../../src/model.js';
import { startLeadConnectorEmulator } from '../../src/sandbox/leadconnector/index.js';
import { startPodiumEmulator, type PodiumEmulator } from '../../src/sandbox/podium/index.js';
import { startSmoochEmulator } from '../../src/sandbox/smooch/index.js';
import type { ProviderEmulator } from '../../src/sandbox/types.js';
import { createGateway, type Gateway } from '../../src/server.js';

export const ADMIN_KEY = 'test-admin-key';
export const VIEWER_KEY = 'test-viewer-key';

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data: T | null;
  readonly errors?: ReadonlyArray<{ message: string; path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }>;
}

export interface TestGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly config: GatewayConfig;
  readonly emulators: Partial<Record<ProviderName, ProviderEmulator<unknown>>>;
  readonly podium: Awaited<ReturnType<typeof startPodiumEmulator>>;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GraphQLResponse<T>>;
  /** A graphql-ws client, disposed when the test ends. */
  ws(key?: string | null): Client;
  /** POSTs a raw webhook body. */
  webhook(provider: 'podium' | 'leadconnector' | 'smooch', rawBody: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Providers to run against emulators. @default ['PODIUM'] */
  readonly providers?: readonly ProviderName[];
  /** Use MongoDB (FerretDB from the global setup) instead of the embedded store. @default false */
  readonly mongo?: boolean;
  /** Use Redis (from the global setup) instead of the in-process pubsub. @default false */
  readonly redis?: boolean;
  /** Extra environment for loadConfig. */
  readonly env?: Record<string, string>;
  /** Replace the store (e.g. one pointed at an unreachable server). */
  readonly store?: EventStore;
  /** Replace the accounts (and API keys) store. */
  readonly accountStore?: AccountStore;
  readonly pubsub?: PubSub;
  /** Talk to this Podium emulator (another harness owns and closes it) instead of starting one. */
  readonly podium?: PodiumEmulator;
  /** How long close() waits for in-flight requests (GatewayDeps.closeGraceMs). */
  readonly closeGraceMs?: number;
  /** Send worker pace and attempt lease (GatewayDeps.outbound). */
  readonly outbound?: { readonly intervalMs?: number; readonly leaseMs?: number };
  /** Bytes of answers the in-process response cache holds (GatewayDeps.responseCacheMaxBytes). */
  readonly responseCacheMaxBytes?: number;
}

/** A POST /graphql client for the gateway at `url`, with the admin key unless told otherwise (null: no key). */
export function gqlAt(url: string): TestGateway['gql'] {
  return async (query, variables, key = ADMIN_KEY) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: GraphQLResponse['errors'] };
    return { status: res.status, data: (body.data ?? null) as never, errors: body.errors };
  };
}

export function mongoTestDb(): { url: string; db: string } {
  return { url: inject('mongodbUrl'), db: `t_${randomUUID().replace(/-/g, '').slice(0, 16)}` };
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const wanted = options.providers ?? ['PODIUM'];
  const podium = options.podium ?? (await startPodiumEmulator());
  const emulators: Partial<Record<ProviderName, ProviderEmulator<unknown>>> = { PODIUM: podium };
  if (wanted.includes('LEADCONNECTOR')) emulators.LEADCONNECTOR = await startLeadConnectorEmulator();
  if (wanted.includes('SMOOCH')) emulators.SMOOCH = await startSmoochEmulator();

  const mongo = options.mongo ? mongoTestDb() : null;
  const base = loadConfig({
    NODE_ENV: 'test',
    GATEWAY_API_KEYS: `admin:${ADMIN_KEY},viewer:${VIEWER_KEY}`,
    GATEWAY_SANDBOX: 'false',
    GATEWAY_UPSTREAM_TIMEOUT_MS: '2000',
    // Most suites assert upstream request counts of single requests; the cache suite turns it on.
    GATEWAY_CACHE: 'off',
    ...(mongo ? { MONGODB_URL: mongo.url, MONGODB_DB: mongo.db } : {}),
    ...(options.redis ? { REDIS_URL: inject('redisUrl') } : {}),
    ...options.env,
  });
  const config: GatewayConfig = {
    ...base,
    podium: wanted.includes('PODIUM') ? withBudget(podium.providerConfig(), options.env?.PODIUM_REQUESTS_PER_MINUTE) : null,
    leadconnector: emulators.LEADCONNECTOR ? withBurst(emulators.LEADCONNECTOR.providerConfig() as GatewayConfig['leadconnector'], options.env?.LEADCONNECTOR_REQUESTS_PER_10_SECONDS) : null,
    smooch: emulators.SMOOCH ? (emulators.SMOOCH.providerConfig() as GatewayConfig['smooch']) : null,
  };
  const gateway = createGateway(config, {
    store: options.store ?? (mongo ? createMongoStore({ url: mongo.url, db: mongo.db }) : undefined),
    pubsub: options.pubsub ?? (options.redis ? createRedisPubSub(inject('redisUrl')) : undefined),
    accountStore: options.accountStore,
    outbound: options.outbound,
    responseCacheMaxBytes: options.responseCacheMaxBytes,
    closeGraceMs: options.closeGraceMs,
  });
  const url = await gateway.listen(0, '127.0.0.1');
  const clients = new Set<Client>();

  const harness: TestGateway = {
    gateway,
    url,
    config,
    emulators,
    podium,
    gql: gqlAt(url),
    ws(key = VIEWER_KEY) {
      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: key ? { authorization: `Bearer ${key}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
      clients.add(client);
      return client;
    },
    async webhook(provider, rawBody, headers) {
      const res = await fetch(`${url}/webhooks/${provider}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: rawBody,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async close() {
      await Promise.all([...clients].map((c) => c.dispose()));
      await gateway.close();
      await Promise.all(Object.values(emulators).map((e) => (e === options.podium ? undefined : e.close())));
    },
  };
  return harness;
}

/** Starts a gateway and closes it when the current test ends. */
export async function useTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const t = await startTestGateway(options);
  onTestFinished(() => t.close());
  return t;
}

/** Resolves with the first `count` results of a subscription; rejects on error or completion. */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}, count = 1) {
  const results: T[] = [];
  let unsubscribe: () => void = () => undefined;
  const done = new Promise<T[]>((resolve, reject) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) reject(new Error(JSON.stringify(value.errors)));
          results.push(value.data as T);
          if (results.length === count) resolve(results);
        },
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => (results.length < count ? reject(new Error(`completed after ${results.length} of ${count} events`)) : undefined),
      },
    );
  });
  return { done, unsubscribe, results };
}

/** Waits until `check` is true, polling the event loop (not the clock) with a bound. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw graphql-transport-ws socket past connection_ack, for tests of the protocol itself. */
export async function openAcknowledged(url: string, key = VIEWER_KEY): Promise<WebSocket> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => resolve());
  });
  const acked = new Promise<void>((resolve) => socket.on('message', (m) => JSON.parse(String(m)).type === 'connection_ack' && resolve()));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
  await acked;
  return socket;
}

/** The emulator's Podium config with the client-side limit a test asked for (PODIUM_REQUESTS_PER_MINUTE). */
function withBurst(config: GatewayConfig['leadconnector'], per10Seconds: string | undefined): GatewayConfig['leadconnector'] {
  return per10Seconds && config?.api ? { ...config, api: { ...config.api, requestsPer10Seconds: Number(per10Seconds) } } : config;
}

function withBudget(config: ReturnType<PodiumEmulator['providerConfig']>, perMinute: string | undefined): GatewayConfig['podium'] {
  return perMinute ? { ...config, api: { ...config.api, requestsPerMinute: Number(perMinute) } } : config;
}
