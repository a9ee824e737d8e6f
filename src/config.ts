// Parses and validates the environment once at start-up into a frozen object,
// through one zod schema. Nothing else in the gateway reads process.env. One
// ConfigError lists every bad variable at once, naming each and what it expected.
import { z } from 'zod';
import type { CacheConfig } from './cache/index.js';
import { apiKeys, bool, encryptionKey, httpUrl, int, mongodbUrl, onOff, origins, otlpHeaders, ratio, text, url, type Role } from './env-vars.js';
import { defaultMaxConnections, type AdmissionConfig } from './http/admission.js';
import type { ProviderName } from './model.js';
import { PROVIDER_DESCRIPTORS, type AnyDescriptor, type ProviderConfigs } from './providers/index.js';
import type { SharedEnv } from './providers/provider.js';

export type { Role } from './env-vars.js';
export { redactUrl } from './env-vars.js';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface UpstreamConfig {
  /** @default 10_000 (10 seconds) */
  readonly timeoutMs: number;
  /** @default 3 */
  readonly maxRetries: number;
}

/** Limits every GraphQL operation is checked against before it runs, on HTTP and on graphql-ws alike. */
export interface GraphQLLimits {
  /** Largest HTTP request body and graphql-ws message. @default 1_048_576 (1 MiB) */
  readonly maxBytes: number;
  /** @default 10 */
  readonly maxDepth: number;
  /** @default 30 */
  readonly maxAliases: number;
  /** @default 2_000 */
  readonly maxTokens: number;
  /** @default 20 */
  readonly maxDirectives: number;
  /** Worst-case upstream calls one operation may cause. @default 1_000 */
  readonly maxCost: number;
}

/** OpenTelemetry traces, exported by OTLP over HTTP (JSON). Absent = tracing off, no SDK loaded. */
export interface TelemetryConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  readonly tracesUrl: string;
  /** Sent with every export (a collector's API key), from OTEL_EXPORTER_OTLP_HEADERS. */
  readonly headers: Readonly<Record<string, string>>;
  /** `service.name` of every span. @default messaging-gateway */
  readonly serviceName: string;
  /** @default parentbased_always_on */
  readonly sampler: TraceSampler;
  /** Sampling probability of the ratio samplers, 0 to 1. @default 1 */
  readonly samplerRatio: number;
}

export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/** Stored accounts (src/accounts/): their encryption at rest and token refresh. */
export interface AccountsConfig {
  /**
   * AES-256-GCM key for credentials at rest (GATEWAY_ENCRYPTION_KEY, 32 bytes).
   * null outside production: a fixed development key is used and a warning logged;
   * in production storing or reading an account then fails with a clear error.
   */
  readonly encryptionKey: Buffer | null;
  /** Refresh an OAuth access token this long before it expires. @default 300_000 (5 minutes) */
  readonly refreshAheadMs: number;
  /** Per provider with API-key accounts: where one points unless its input names another API URL. */
  readonly connectApiUrls: Readonly<Partial<Record<ProviderName, string>>>;
}

/** Each provider's own config is under its configKey (`podium`, …): see providers/index.ts. */
export interface GatewayConfig extends ProviderConfigs {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  /** Base URL providers reach this gateway on (shown as HighLevel's receiving endpoint). */
  readonly publicUrl: string;
  readonly mongodbUrl: string | null;
  readonly mongodbDb: string;
  readonly redisUrl: string | null;
  /** null = any origin (development only). */
  readonly corsOrigins: readonly string[] | null;
  /** key -> role. Empty in development means no authentication (every caller is admin). */
  readonly apiKeys: ReadonlyMap<string, Role>;
  readonly logLevel: LogLevel;
  /** Largest webhook body accepted, before and after decompression. @default 1_048_576 (1 MiB) */
  readonly webhookMaxBytes: number;
  /**
   * Accept webhooks of a provider with no secret or key configured or stored, unsigned.
   * @default true outside production, false in production
   */
  readonly allowUnsignedWebhooks: boolean;
  /** Introspection and "Did you mean" suggestions. @default true outside production */
  readonly introspection: boolean;
  /**
   * Apollo Federation inline traces (ftv1) for callers with the admin role that send
   * `apollo-federation-include-trace: ftv1` (a supergraph router). @default false
   */
  readonly federationTraces: boolean;
  /**
   * Path of a trusted documents manifest: only the operations it lists are run, on HTTP and
   * graphql-ws; anything else is refused with PERSISTED_QUERY_NOT_LISTED. null = any operation.
   */
  readonly trustedDocuments: string | null;
  /** Serve the GraphiQL explorer at /explorer (and redirect browsers from /graphql). @default true outside production */
  readonly explorer: boolean;
  /** Serve the event console page at /console (its data needs the admin key). @default true */
  readonly console: boolean;
  readonly graphql: GraphQLLimits;
  readonly websockets: AdmissionConfig;
  /** Bytes queued on a subscriber's socket past which it is closed as too slow (4008). @default 4 MiB */
  readonly wsMaxBufferedBytes: number;
  /** How long stored events are kept (and cursors resume). @default 7 days (ms) */
  readonly eventRetentionMs: number;
  readonly cache: CacheConfig;
  readonly upstream: UpstreamConfig;
  /** Sending (src/outbound/). */
  readonly outbound: OutboundConfig;
  readonly accounts: AccountsConfig;
  /** Start the provider emulators and fill in what is not configured with them. */
  readonly sandbox: boolean;
  /** With the sandbox: emulators deliver a signed message webhook about once a second. */
  readonly demo: boolean;
  /** null = tracing off (no OTLP endpoint set, or OTEL_SDK_DISABLED). */
  readonly telemetry: TelemetryConfig | null;
}

export interface OutboundConfig {
  /** How long a send and its idempotency key are kept. @default 86_400_000 (24 hours) */
  readonly keyTtlMs: number;
  /** How long a send may wait for rate budget before it fails PROVIDER_RATE_LIMITED. @default 600_000 (10 minutes) */
  readonly queueMaxMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export const defaults = {
  port: 4000,
  outbound: {
    keyTtlSeconds: 86_400, // 24 hours: how long a send and its idempotency key are kept
    queueMaxSeconds: 600, // 10 minutes: a send still queued after this fails PROVIDER_RATE_LIMITED
  },
  wsMaxBufferedBytes: 4 * 1024 * 1024,
  eventRetentionDays: 7,
  mongodbDb: 'gateway',
  tokenRefreshAheadSeconds: 300, // 5 minutes
  webhookToleranceMs: 300_000, // 5 minutes
  webhookMaxBytes: 1_048_576, // 1 MiB
  otelServiceName: 'messaging-gateway',
  upstreamTimeoutMs: 10_000, // 10 seconds
  upstreamMaxRetries: 3,
  cache: {
    ttlSeconds: 600, // 10 minutes, where webhooks invalidate
    uncoveredTtlSeconds: 30,
    usersTtlSeconds: 300, // 5 minutes: no provider sends user webhooks
    maxEntries: 50_000,
  },
  graphql: {
    maxBytes: 1_048_576, // 1 MiB
    maxDepth: 10, // the inbox query is 8 deep
    maxAliases: 30,
    maxTokens: 2_000,
    maxDirectives: 20,
    maxCost: 1_000, // upstream calls; the inbox query's worst case is 651
  },
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Every provider's variables, each fragment its own (providers/<name>/config.ts). */
function providerVariables(): z.ZodRawShape {
  return Object.assign({}, ...PROVIDER_DESCRIPTORS.map((d) => d.env.variables)) as z.ZodRawShape;
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: (i) => `must be development, production or test, got "${String(i.input)}"` }).optional(),
  PORT: int(0, 65_535).optional(),
  GATEWAY_PUBLIC_URL: httpUrl.optional(),
  GATEWAY_API_KEYS: apiKeys.optional(),
  GATEWAY_CORS_ORIGINS: origins.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: (i) => `must be one of ${LOG_LEVELS.join(', ')}, got "${String(i.input)}"` }).optional(),
  MONGODB_URL: mongodbUrl.optional(),
  MONGODB_DB: z.string().regex(/^[^/\\. "$*<>:|?]{1,63}$/, { error: 'must be a MongoDB database name (no /\\. "$*<>:|?, at most 63 characters)' }).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  GATEWAY_SANDBOX: bool.optional(),
  GATEWAY_DEMO: bool.optional(),
  GATEWAY_WEBHOOKS_ALLOW_UNSIGNED: bool.optional(),
  GATEWAY_INTROSPECTION: bool.optional(),
  GATEWAY_FEDERATION_TRACES: bool.optional(),
  GATEWAY_TRUSTED_DOCUMENTS: text.optional(),
  GATEWAY_WEBHOOK_TOLERANCE_SECONDS: int(1, 86_400).optional(),
  GATEWAY_UPSTREAM_TIMEOUT_MS: int(1, 120_000).optional(),
  GATEWAY_UPSTREAM_MAX_RETRIES: int(0, 10).optional(),
  GATEWAY_GRAPHQL_MAX_BYTES: int(1_024, 16_777_216).optional(),
  GATEWAY_GRAPHQL_MAX_DEPTH: int(1, 100).optional(),
  GATEWAY_GRAPHQL_MAX_ALIASES: int(0, 1_000).optional(),
  GATEWAY_GRAPHQL_MAX_TOKENS: int(10, 100_000).optional(),
  GATEWAY_GRAPHQL_MAX_DIRECTIVES: int(0, 1_000).optional(),
  GATEWAY_GRAPHQL_MAX_COST: int(1, 1_000_000).optional(),
  GATEWAY_WS_MAX_CONNECTIONS: int(1, 1_000_000).optional(),
  GATEWAY_WS_MAX_CONNECTIONS_PER_CLIENT: int(0, 1_000_000).optional(),
  GATEWAY_WS_CONNECTS_PER_CLIENT_PER_SECOND: int(0, 1_000_000).optional(),
  GATEWAY_WS_MAX_BUFFERED_BYTES: int(16_384, 1_073_741_824).optional(),
  GATEWAY_EVENT_RETENTION_DAYS: int(1, 3_650).optional(),
  GATEWAY_CLIENT_ADDRESS_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'must be a header name such as x-forwarded-for' }).optional(),
  GATEWAY_ENCRYPTION_KEY: encryptionKey.optional(),
  GATEWAY_TOKEN_REFRESH_AHEAD_SECONDS: int(0, 86_400).optional(),
  GATEWAY_CACHE: onOff.optional(),
  GATEWAY_EXPLORER: onOff.optional(),
  GATEWAY_CONSOLE: onOff.optional(),
  GATEWAY_CACHE_TTL_SECONDS: int(1, 3_600).optional(),
  GATEWAY_SEND_KEY_TTL_SECONDS: int(60, 30 * 86_400).optional(),
  GATEWAY_SEND_QUEUE_MAX_SECONDS: int(1, 86_400).optional(),
  GATEWAY_CACHE_UNCOVERED_TTL_SECONDS: int(1, 3_600).optional(),
  GATEWAY_CACHE_USERS_TTL_SECONDS: int(1, 3_600).optional(),
  GATEWAY_CACHE_MAX_ENTRIES: int(100, 10_000_000).optional(),
  GATEWAY_CACHE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, { error: 'must be 1 to 40 letters, digits, _ . or -' }).optional(),
  ...providerVariables(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_HEADERS: otlpHeaders.optional(),
  OTEL_SERVICE_NAME: z.string().max(200, { error: 'must be at most 200 characters' }).optional(),
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS, { error: (i) => `must be one of ${TRACE_SAMPLERS.join(', ')}, got "${String(i.input)}"` }).optional(),
  OTEL_TRACES_SAMPLER_ARG: ratio.optional(),
  OTEL_SDK_DISABLED: bool.optional(),
});
type ParsedEnv = z.output<typeof envSchema>;

/** The variables loadConfig reads, for documentation and tests. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export function loadConfig(env: Env = process.env): GatewayConfig {
  const input: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = env[name]?.trim();
    if (value) input[name] = value;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  }
  const problems: string[] = [];
  const config = build(parsed.data, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Cross-variable rules and the config object; `problems` collects what is wrong. */
function build(e: ParsedEnv, problems: string[]): GatewayConfig {
  const envName = e.NODE_ENV ?? 'development';
  const production = envName === 'production';
  const port = e.PORT ?? defaults.port;
  const apiKeys = e.GATEWAY_API_KEYS ?? new Map<string, Role>();

  if (production && !e.MONGODB_URL) problems.push('MONGODB_URL is required when NODE_ENV=production (the embedded store is for development only)');
  if (production && apiKeys.size === 0) problems.push('GATEWAY_API_KEYS is required when NODE_ENV=production');

  const shared: SharedEnv = { production, webhookToleranceMs: (e.GATEWAY_WEBHOOK_TOLERANCE_SECONDS ?? defaults.webhookToleranceMs / 1000) * 1000 };
  const providers = providerConfigs(e, shared, problems);

  // An OAuth app counts: its accounts are real ones, connected at run time.
  const anyApi = (PROVIDER_DESCRIPTORS as readonly AnyDescriptor[]).some((d) => {
    const own = providers[d.configKey];
    return own !== null && own !== undefined && d.env.hasApi(own);
  });
  const sandbox = e.GATEWAY_SANDBOX ?? (!production && !anyApi);
  if (production && sandbox) problems.push('GATEWAY_SANDBOX cannot be on when NODE_ENV=production');

  const corsOrigins = e.GATEWAY_CORS_ORIGINS ?? (production ? [] : null);
  return Object.freeze({
    env: envName,
    port,
    publicUrl: (e.GATEWAY_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    mongodbUrl: e.MONGODB_URL ?? null,
    mongodbDb: e.MONGODB_DB ?? defaults.mongodbDb,
    redisUrl: e.REDIS_URL ?? null,
    corsOrigins: corsOrigins === null ? null : Object.freeze(corsOrigins),
    apiKeys,
    logLevel: e.LOG_LEVEL ?? (envName === 'test' ? 'silent' : 'info'),
    webhookMaxBytes: defaults.webhookMaxBytes,
    allowUnsignedWebhooks: e.GATEWAY_WEBHOOKS_ALLOW_UNSIGNED ?? !production,
    introspection: e.GATEWAY_INTROSPECTION ?? !production,
    federationTraces: e.GATEWAY_FEDERATION_TRACES ?? false,
    trustedDocuments: e.GATEWAY_TRUSTED_DOCUMENTS ?? null,
    explorer: (e.GATEWAY_EXPLORER ?? (production ? 'off' : 'on')) === 'on',
    console: (e.GATEWAY_CONSOLE ?? 'on') === 'on',
    graphql: Object.freeze({
      maxBytes: e.GATEWAY_GRAPHQL_MAX_BYTES ?? defaults.graphql.maxBytes,
      maxDepth: e.GATEWAY_GRAPHQL_MAX_DEPTH ?? defaults.graphql.maxDepth,
      maxAliases: e.GATEWAY_GRAPHQL_MAX_ALIASES ?? defaults.graphql.maxAliases,
      maxTokens: e.GATEWAY_GRAPHQL_MAX_TOKENS ?? defaults.graphql.maxTokens,
      maxDirectives: e.GATEWAY_GRAPHQL_MAX_DIRECTIVES ?? defaults.graphql.maxDirectives,
      maxCost: e.GATEWAY_GRAPHQL_MAX_COST ?? defaults.graphql.maxCost,
    }),
    websockets: Object.freeze({
      maxConnections: e.GATEWAY_WS_MAX_CONNECTIONS ?? defaultMaxConnections(),
      maxConnectionsPerClient: e.GATEWAY_WS_MAX_CONNECTIONS_PER_CLIENT ?? 0,
      connectsPerClientPerSecond: e.GATEWAY_WS_CONNECTS_PER_CLIENT_PER_SECOND ?? 0,
      clientAddressHeader: e.GATEWAY_CLIENT_ADDRESS_HEADER?.toLowerCase() ?? null,
    }),
    wsMaxBufferedBytes: e.GATEWAY_WS_MAX_BUFFERED_BYTES ?? defaults.wsMaxBufferedBytes,
    eventRetentionMs: (e.GATEWAY_EVENT_RETENTION_DAYS ?? defaults.eventRetentionDays) * 86_400_000,
    cache: Object.freeze({
      enabled: (e.GATEWAY_CACHE ?? 'on') === 'on',
      ttlMs: (e.GATEWAY_CACHE_TTL_SECONDS ?? defaults.cache.ttlSeconds) * 1000,
      uncoveredTtlMs: (e.GATEWAY_CACHE_UNCOVERED_TTL_SECONDS ?? defaults.cache.uncoveredTtlSeconds) * 1000,
      usersTtlMs: (e.GATEWAY_CACHE_USERS_TTL_SECONDS ?? defaults.cache.usersTtlSeconds) * 1000,
      maxEntries: e.GATEWAY_CACHE_MAX_ENTRIES ?? defaults.cache.maxEntries,
      prefix: e.GATEWAY_CACHE_PREFIX ?? 'gw',
    }),
    outbound: Object.freeze({
      keyTtlMs: (e.GATEWAY_SEND_KEY_TTL_SECONDS ?? defaults.outbound.keyTtlSeconds) * 1000,
      queueMaxMs: (e.GATEWAY_SEND_QUEUE_MAX_SECONDS ?? defaults.outbound.queueMaxSeconds) * 1000,
    }),
    upstream: Object.freeze({
      timeoutMs: e.GATEWAY_UPSTREAM_TIMEOUT_MS ?? defaults.upstreamTimeoutMs,
      maxRetries: e.GATEWAY_UPSTREAM_MAX_RETRIES ?? defaults.upstreamMaxRetries,
    }),
    ...(providers as unknown as ProviderConfigs),
    accounts: Object.freeze({
      encryptionKey: e.GATEWAY_ENCRYPTION_KEY ?? null,
      refreshAheadMs: (e.GATEWAY_TOKEN_REFRESH_AHEAD_SECONDS ?? defaults.tokenRefreshAheadSeconds) * 1000,
      connectApiUrls: connectApiUrls(e),
    }),
    sandbox,
    demo: sandbox && (e.GATEWAY_DEMO ?? false),
    telemetry: telemetryConfig(e),
  });
}

/** On when an OTLP endpoint is set (the standard variables), unless OTEL_SDK_DISABLED says otherwise. */
function telemetryConfig(e: ParsedEnv): TelemetryConfig | null {
  if (e.OTEL_SDK_DISABLED) return null;
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracesUrl = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : null);
  if (!tracesUrl) return null;
  return Object.freeze({
    tracesUrl,
    headers: Object.freeze(e.OTEL_EXPORTER_OTLP_HEADERS ?? {}),
    serviceName: e.OTEL_SERVICE_NAME ?? defaults.otelServiceName,
    sampler: e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
  });
}

/** Each provider's config under its configKey, null when not configured. */
function providerConfigs(e: ParsedEnv, shared: SharedEnv, problems: string[]): Readonly<Record<string, unknown>> {
  const configs: Record<string, unknown> = {};
  for (const d of PROVIDER_DESCRIPTORS as readonly AnyDescriptor[]) configs[d.configKey] = d.env.parse(e, shared, problems);
  return configs;
}

function connectApiUrls(e: ParsedEnv): Readonly<Partial<Record<ProviderName, string>>> {
  const urls: Partial<Record<ProviderName, string>> = {};
  for (const d of PROVIDER_DESCRIPTORS as readonly AnyDescriptor[]) {
    const url = d.env.connectApiUrl?.(e);
    if (url) urls[d.name] = url;
  }
  return Object.freeze(urls);
}
