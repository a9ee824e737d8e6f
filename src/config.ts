// Parses and validates the environment once at start-up into a frozen object,
// through one zod schema. Nothing else in the gateway reads process.env. One
// ConfigError lists every bad variable at once, naming each and what it expected.
import { ConnectionString } from 'mongodb-connection-string-url';
import { z } from 'zod';
import type { CacheConfig } from './cache/index.js';
import { defaultMaxConnections, type AdmissionConfig } from './http/admission.js';

export type Role = 'viewer' | 'agent' | 'admin';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What a Podium adapter needs to call the API; absent when only webhooks are received. */
export interface PodiumApiConfig {
  readonly apiUrl: string;
  readonly accessToken: string;
  readonly refreshToken: string | null;
  readonly clientId: string | null;
  readonly clientSecret: string | null;
  readonly tokenUrl: string;
  /** Client-side limit per credential. @default 300 (requests a minute) */
  readonly requestsPerMinute: number;
}

/**
 * An OAuth app (authorization-code flow) that connects stored accounts. The
 * redirect URI is `<GATEWAY_PUBLIC_URL>/oauth/<provider>/callback`.
 */
export interface OAuthClientConfig {
  /** The API that connected accounts call. */
  readonly apiUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The provider's consent page. */
  readonly authorizeUrl: string;
  /** Code exchange and refresh. */
  readonly tokenUrl: string;
  /** Space-separated on the consent URL. */
  readonly scopes: readonly string[];
}

export interface PodiumOAuthConfig extends OAuthClientConfig {
  /** Client-side limit per connected account. @default 300 (requests a minute) */
  readonly requestsPerMinute: number;
}

export interface LeadConnectorOAuthConfig extends OAuthClientConfig {
  /** Client-side burst limit per connected location. @default 100 (requests per 10 seconds) */
  readonly requestsPer10Seconds: number;
}

export interface PodiumConfig {
  /** The account set by environment variables; null: none (webhooks only, or OAuth-connected accounts). */
  readonly api: PodiumApiConfig | null;
  /** The OAuth app stored Podium accounts are connected and refreshed with; null: none can be. */
  readonly oauth?: PodiumOAuthConfig | null;
  readonly webhookSecret: string | null;
  /** How far a `podium-timestamp` may be from now. @default 300_000 (5 minutes) */
  readonly webhookToleranceMs: number;
}

export interface LeadConnectorApiConfig {
  readonly apiUrl: string;
  readonly token: string;
  readonly locationId: string;
  readonly companyId: string | null;
  /** Client-side burst limit per app and location. @default 100 (requests per 10 seconds) */
  readonly requestsPer10Seconds: number;
}

export interface LeadConnectorConfig {
  readonly api: LeadConnectorApiConfig | null;
  /** The Marketplace app stored HighLevel accounts are connected and refreshed with; null: none can be. */
  readonly oauth?: LeadConnectorOAuthConfig | null;
  /** PEM of the RSA key for `x-wh-signature`. */
  readonly webhookPublicKey: string;
  /** base64 DER (SPKI) or PEM of the Ed25519 key for `x-ghl-signature`. */
  readonly webhookEd25519PublicKey: string;
  /** @default 300_000 (5 minutes) */
  readonly webhookToleranceMs: number;
}

export interface SmoochApiConfig {
  readonly apiUrl: string;
  readonly appId: string;
  readonly keyId: string;
  readonly secret: string;
}

export interface SmoochConfig {
  readonly api: SmoochApiConfig | null;
  /** Expected X-API-Key besides the secrets of webhooks created through the gateway. */
  readonly webhookSecret: string | null;
}

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
  /** Where `connectSmoochAccount` points an app unless its input names another API URL. */
  readonly smoochApiUrl: string;
}

export interface GatewayConfig {
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
  readonly podium: PodiumConfig | null;
  readonly leadconnector: LeadConnectorConfig | null;
  readonly smooch: SmoochConfig | null;
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

// HighLevel's published webhook keys (WebhookAuthentication.md, Webhook Integration Guide).
export const HIGHLEVEL_ED25519_PUBLIC_KEY = 'MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=';

export const defaults = {
  port: 4000,
  outbound: {
    keyTtlSeconds: 86_400, // 24 hours: how long a send and its idempotency key are kept
    queueMaxSeconds: 600, // 10 minutes: a send still queued after this fails PROVIDER_RATE_LIMITED
  },
  wsMaxBufferedBytes: 4 * 1024 * 1024,
  eventRetentionDays: 7,
  mongodbDb: 'gateway',
  podiumApiUrl: 'https://api.podium.com',
  podiumTokenUrl: 'https://accounts.podium.com/oauth/token', // Podium's own sample app uses this host
  podiumAuthorizeUrl: 'https://api.podium.com/oauth/authorize',
  podiumScopes: ['read_messages', 'read_contacts', 'read_users', 'read_locations', 'read_organizations'],
  leadconnectorAuthorizeUrl: 'https://marketplace.gohighlevel.com/oauth/chooselocation',
  leadconnectorScopes: ['conversations.readonly', 'conversations/message.readonly', 'contacts.readonly', 'users.readonly', 'locations.readonly'],
  tokenRefreshAheadSeconds: 300, // 5 minutes
  leadconnectorApiUrl: 'https://services.leadconnectorhq.com',
  smoochApiUrl: 'https://api.smooch.io',
  webhookToleranceMs: 300_000, // 5 minutes
  webhookMaxBytes: 1_048_576, // 1 MiB
  podiumRequestsPerMinute: 300,
  otelServiceName: 'messaging-gateway',
  leadconnectorRequestsPer10Seconds: 100,
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

// --- variable types ---------------------------------------------------------------------------------
// Each takes the raw string (already trimmed; empty = unset) and says what it expected.

const text = z.string().min(1);

function int(min: number, max: number) {
  return z
    .string()
    .regex(/^-?\d+$/, { error: (i) => `must be a whole number from ${min} to ${max}, got "${String(i.input)}"` })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be a whole number from ${min} to ${max}` }).max(max, { error: `must be a whole number from ${min} to ${max}` }));
}

const bool = z
  .enum(['true', 'false', '1', '0'], { error: (i) => `must be true, false, 1 or 0, got "${String(i.input)}"` })
  .transform((v) => v === 'true' || v === '1');

function url(protocols: readonly string[]) {
  return z.string().refine(
    (raw) => {
      try {
        return protocols.includes(new URL(raw).protocol);
      } catch {
        return false;
      }
    },
    { error: (i) => `must be a ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')} URL, got "${redactUrl(String(i.input))}"` },
  );
}
const httpUrl = url(['http:', 'https:']);

/** Parsed by the driver's own parser, so replica sets, several hosts and mongodb+srv all pass. */
const mongodbUrl = z.string().refine(
  (raw) => {
    try {
      new ConnectionString(raw);
      return true;
    } catch {
      return false;
    }
  },
  { error: (i) => `must be a mongodb:// or mongodb+srv:// connection string, got "${redactUrl(String(i.input))}"` },
);

const apiKeys = z.string().transform((raw, ctx) => {
  const keys = new Map<string, Role>();
  raw.split(',').forEach((entry, index) => {
    const pair = entry.trim();
    if (!pair) return;
    const idx = pair.indexOf(':');
    const role = pair.slice(0, Math.max(idx, 0));
    const key = pair.slice(idx + 1);
    if (idx < 1 || !key || (role !== 'viewer' && role !== 'agent' && role !== 'admin')) {
      // Never echo any part of a key: the entry is named by its position only.
      ctx.addIssue({ code: 'custom', message: `entry ${index + 1} must be role:key with role viewer, agent or admin` });
      return;
    }
    keys.set(key, role);
  });
  return keys;
});

const origins = z.string().transform((raw, ctx) => {
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      ctx.addIssue({ code: 'custom', message: `entries must be origins like https://app.example.com, got "${origin}"` });
    }
  }
  return list;
});

/**
 * OTEL_EXPORTER_OTLP_HEADERS as the OpenTelemetry spec writes it: `key=value`
 * pairs, comma separated, values percent-encoded. Values are never echoed.
 */
const otlpHeaders = z.string().transform((raw, ctx) => {
  const headers: Record<string, string> = {};
  raw.split(',').forEach((entry, index) => {
    const pair = entry.trim();
    if (!pair) return;
    const idx = pair.indexOf('=');
    const key = pair.slice(0, Math.max(idx, 0)).trim();
    if (idx < 1 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) {
      ctx.addIssue({ code: 'custom', message: `entry ${index + 1} must be name=value with a header name` });
      return;
    }
    try {
      headers[key.toLowerCase()] = decodeURIComponent(pair.slice(idx + 1).trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: `entry ${index + 1} (${key}) has a value that is not valid percent-encoding` });
    }
  });
  return headers;
});

const ratio = z
  .string()
  .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { error: (i) => `must be a number from 0 to 1, got "${String(i.input)}"` })
  .transform(Number);
const onOff = z.enum(['on', 'off'], { error: (i) => `must be on or off, got "${String(i.input)}"` });
/** 32 bytes as base64 (44 characters) or hex (64 characters); never echoed. */
const encryptionKey = z.string().transform((raw, ctx) => {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(raw) ? Buffer.from(raw, 'base64') : null;
  if (!key || key.length !== 32) {
    ctx.addIssue({ code: 'custom', message: `must be 32 bytes as base64 (44 characters) or hex (64 characters), got ${raw.length} characters` });
    return z.NEVER;
  }
  return key;
});

const scopeList = z.string().transform((raw) => raw.split(/[\s,]+/).filter(Boolean));

/** Accepts a PEM with literal `\n` escapes (how multi-line values survive .env files). */
const pem = z.string().transform((v) => v.replace(/\\n/g, '\n'));

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
  PODIUM_API_URL: httpUrl.optional(),
  PODIUM_ACCESS_TOKEN: text.optional(),
  PODIUM_REFRESH_TOKEN: text.optional(),
  PODIUM_CLIENT_ID: text.optional(),
  PODIUM_CLIENT_SECRET: text.optional(),
  PODIUM_TOKEN_URL: httpUrl.optional(),
  PODIUM_OAUTH_AUTHORIZE_URL: httpUrl.optional(),
  PODIUM_OAUTH_SCOPES: scopeList.optional(),
  PODIUM_WEBHOOK_SECRET: text.optional(),
  PODIUM_REQUESTS_PER_MINUTE: int(1, 100_000).optional(),
  LEADCONNECTOR_API_URL: httpUrl.optional(),
  LEADCONNECTOR_TOKEN: text.optional(),
  LEADCONNECTOR_LOCATION_ID: text.optional(),
  LEADCONNECTOR_COMPANY_ID: text.optional(),
  LEADCONNECTOR_CLIENT_ID: text.optional(),
  LEADCONNECTOR_CLIENT_SECRET: text.optional(),
  LEADCONNECTOR_OAUTH_AUTHORIZE_URL: httpUrl.optional(),
  LEADCONNECTOR_TOKEN_URL: httpUrl.optional(),
  LEADCONNECTOR_OAUTH_SCOPES: scopeList.optional(),
  LEADCONNECTOR_REQUESTS_PER_10_SECONDS: int(1, 100_000).optional(),
  LEADCONNECTOR_WEBHOOK_PUBLIC_KEY: pem.optional(),
  LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY: pem.optional(),
  SMOOCH_API_URL: httpUrl.optional(),
  SMOOCH_APP_ID: text.optional(),
  SMOOCH_KEY_ID: text.optional(),
  SMOOCH_SECRET: text.optional(),
  SMOOCH_WEBHOOK_SECRET: text.optional(),
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

  const tolerance = (e.GATEWAY_WEBHOOK_TOLERANCE_SECONDS ?? defaults.webhookToleranceMs / 1000) * 1000;
  const podium = podiumConfig(e, tolerance, problems);
  const leadconnector = leadConnectorConfig(e, tolerance, problems);
  const smooch = smoochConfig(e, problems);

  // An OAuth app counts: its accounts are real ones, connected at run time.
  const anyApi = Boolean(podium?.api ?? podium?.oauth ?? leadconnector?.api ?? leadconnector?.oauth ?? smooch?.api);
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
    podium,
    leadconnector,
    smooch,
    accounts: Object.freeze({
      encryptionKey: e.GATEWAY_ENCRYPTION_KEY ?? null,
      refreshAheadMs: (e.GATEWAY_TOKEN_REFRESH_AHEAD_SECONDS ?? defaults.tokenRefreshAheadSeconds) * 1000,
      smoochApiUrl: e.SMOOCH_API_URL ?? defaults.smoochApiUrl,
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

/** Enabled by API credentials, a webhook secret, or both. */
function podiumConfig(e: ParsedEnv, tolerance: number, problems: string[]): PodiumConfig | null {
  const hasApi = Boolean(e.PODIUM_ACCESS_TOKEN ?? e.PODIUM_REFRESH_TOKEN);
  // The same app credentials refresh the environment's token and connect accounts by OAuth.
  const oauth: PodiumOAuthConfig | null =
    e.PODIUM_CLIENT_ID && e.PODIUM_CLIENT_SECRET
      ? {
          apiUrl: e.PODIUM_API_URL ?? defaults.podiumApiUrl,
          clientId: e.PODIUM_CLIENT_ID,
          clientSecret: e.PODIUM_CLIENT_SECRET,
          authorizeUrl: e.PODIUM_OAUTH_AUTHORIZE_URL ?? defaults.podiumAuthorizeUrl,
          tokenUrl: e.PODIUM_TOKEN_URL ?? defaults.podiumTokenUrl,
          scopes: e.PODIUM_OAUTH_SCOPES ?? defaults.podiumScopes,
          requestsPerMinute: e.PODIUM_REQUESTS_PER_MINUTE ?? defaults.podiumRequestsPerMinute,
        }
      : null;
  if (!e.PODIUM_REFRESH_TOKEN && Boolean(e.PODIUM_CLIENT_ID) !== Boolean(e.PODIUM_CLIENT_SECRET)) {
    problems.push('PODIUM_CLIENT_ID and PODIUM_CLIENT_SECRET go together (the OAuth app)');
  }
  if (!hasApi && !e.PODIUM_WEBHOOK_SECRET && !oauth) return null;
  if (e.PODIUM_REFRESH_TOKEN && (!e.PODIUM_CLIENT_ID || !e.PODIUM_CLIENT_SECRET)) {
    problems.push('PODIUM_REFRESH_TOKEN needs PODIUM_CLIENT_ID and PODIUM_CLIENT_SECRET to refresh the access token');
  }
  return {
    api: hasApi
      ? {
          apiUrl: e.PODIUM_API_URL ?? defaults.podiumApiUrl,
          accessToken: e.PODIUM_ACCESS_TOKEN ?? '',
          refreshToken: e.PODIUM_REFRESH_TOKEN ?? null,
          clientId: e.PODIUM_CLIENT_ID ?? null,
          clientSecret: e.PODIUM_CLIENT_SECRET ?? null,
          tokenUrl: e.PODIUM_TOKEN_URL ?? defaults.podiumTokenUrl,
          requestsPerMinute: e.PODIUM_REQUESTS_PER_MINUTE ?? defaults.podiumRequestsPerMinute,
        }
      : null,
    ...(oauth ? { oauth } : {}),
    webhookSecret: e.PODIUM_WEBHOOK_SECRET ?? null,
    webhookToleranceMs: tolerance,
  };
}

function leadConnectorConfig(e: ParsedEnv, tolerance: number, problems: string[]): LeadConnectorConfig | null {
  const hasKeys = Boolean(e.LEADCONNECTOR_WEBHOOK_PUBLIC_KEY ?? e.LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY);
  const apiUrl = e.LEADCONNECTOR_API_URL ?? defaults.leadconnectorApiUrl;
  const oauth: LeadConnectorOAuthConfig | null =
    e.LEADCONNECTOR_CLIENT_ID && e.LEADCONNECTOR_CLIENT_SECRET
      ? {
          apiUrl,
          clientId: e.LEADCONNECTOR_CLIENT_ID,
          clientSecret: e.LEADCONNECTOR_CLIENT_SECRET,
          authorizeUrl: e.LEADCONNECTOR_OAUTH_AUTHORIZE_URL ?? defaults.leadconnectorAuthorizeUrl,
          tokenUrl: e.LEADCONNECTOR_TOKEN_URL ?? `${apiUrl.replace(/\/+$/, '')}/oauth/token`,
          scopes: e.LEADCONNECTOR_OAUTH_SCOPES ?? defaults.leadconnectorScopes,
          requestsPer10Seconds: e.LEADCONNECTOR_REQUESTS_PER_10_SECONDS ?? defaults.leadconnectorRequestsPer10Seconds,
        }
      : null;
  if (Boolean(e.LEADCONNECTOR_CLIENT_ID) !== Boolean(e.LEADCONNECTOR_CLIENT_SECRET)) {
    problems.push('LEADCONNECTOR_CLIENT_ID and LEADCONNECTOR_CLIENT_SECRET go together (the Marketplace app)');
  }
  if (!e.LEADCONNECTOR_TOKEN && !hasKeys && !oauth) return null;
  if (e.LEADCONNECTOR_TOKEN && !e.LEADCONNECTOR_LOCATION_ID) {
    problems.push('LEADCONNECTOR_LOCATION_ID is required with LEADCONNECTOR_TOKEN (HighLevel scopes every search to a location)');
  }
  return {
    api: e.LEADCONNECTOR_TOKEN
      ? {
          apiUrl,
          token: e.LEADCONNECTOR_TOKEN,
          locationId: e.LEADCONNECTOR_LOCATION_ID ?? '',
          companyId: e.LEADCONNECTOR_COMPANY_ID ?? null,
          requestsPer10Seconds: e.LEADCONNECTOR_REQUESTS_PER_10_SECONDS ?? defaults.leadconnectorRequestsPer10Seconds,
        }
      : null,
    ...(oauth ? { oauth } : {}),
    webhookPublicKey: e.LEADCONNECTOR_WEBHOOK_PUBLIC_KEY ?? HIGHLEVEL_RSA_PUBLIC_KEY,
    webhookEd25519PublicKey: e.LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY ?? HIGHLEVEL_ED25519_PUBLIC_KEY,
    webhookToleranceMs: tolerance,
  };
}

function smoochConfig(e: ParsedEnv, problems: string[]): SmoochConfig | null {
  const anyApi = Boolean(e.SMOOCH_APP_ID ?? e.SMOOCH_KEY_ID ?? e.SMOOCH_SECRET);
  if (!anyApi && !e.SMOOCH_WEBHOOK_SECRET) return null;
  if (anyApi && (!e.SMOOCH_APP_ID || !e.SMOOCH_KEY_ID || !e.SMOOCH_SECRET)) {
    problems.push('Smooch needs all of SMOOCH_APP_ID, SMOOCH_KEY_ID and SMOOCH_SECRET');
  }
  return {
    api:
      e.SMOOCH_APP_ID && e.SMOOCH_KEY_ID && e.SMOOCH_SECRET
        ? { apiUrl: e.SMOOCH_API_URL ?? defaults.smoochApiUrl, appId: e.SMOOCH_APP_ID, keyId: e.SMOOCH_KEY_ID, secret: e.SMOOCH_SECRET }
        : null,
    webhookSecret: e.SMOOCH_WEBHOOK_SECRET ?? null,
  };
}

/** A URL safe to print: user and password replaced. */
export function redactUrl(raw: string): string {
  return raw.replace(/(\/\/)[^@/]*@/, '$1***@');
}

// HighLevel's RSA key for `x-wh-signature`, as published in WebhookAuthentication.md.
export const HIGHLEVEL_RSA_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----`;
