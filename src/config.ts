// Parses and validates the environment once at start-up into a frozen object.
// Nothing else in the gateway reads process.env. One error lists every problem.
export type Role = 'viewer' | 'admin';

export interface PodiumConfig {
  readonly apiUrl: string;
  readonly accessToken: string;
  readonly refreshToken: string | null;
  readonly clientId: string | null;
  readonly clientSecret: string | null;
  readonly tokenUrl: string;
  readonly webhookSecret: string | null;
  /** How far a `podium-timestamp` may be from now. @default 300_000 (5 minutes) */
  readonly webhookToleranceMs: number;
  /** Client-side limit per credential. @default 300 (requests a minute) */
  readonly requestsPerMinute: number;
}

export interface LeadConnectorConfig {
  readonly apiUrl: string;
  readonly token: string;
  readonly locationId: string | null;
  readonly companyId: string | null;
  /** PEM of the RSA key for `x-wh-signature`. */
  readonly webhookPublicKey: string;
  /** base64 DER (SPKI) or PEM of the Ed25519 key for `x-ghl-signature`. */
  readonly webhookEd25519PublicKey: string;
  /** @default 300_000 (5 minutes) */
  readonly webhookToleranceMs: number;
}

export interface SmoochConfig {
  readonly apiUrl: string;
  readonly appId: string;
  readonly keyId: string;
  readonly secret: string;
  /** Expected X-API-Key besides the secrets of webhooks created through the gateway. */
  readonly webhookSecret: string | null;
}

export interface UpstreamConfig {
  /** @default 10_000 (10 seconds) */
  readonly timeoutMs: number;
  /** @default 3 */
  readonly maxRetries: number;
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
  readonly logLevel: string;
  /** Largest webhook body accepted. @default 1_048_576 (1 MiB) */
  readonly webhookMaxBytes: number;
  readonly upstream: UpstreamConfig;
  readonly podium: PodiumConfig | null;
  readonly leadconnector: LeadConnectorConfig | null;
  readonly smooch: SmoochConfig | null;
  /** Start the provider emulators and point unconfigured providers at them. */
  readonly sandbox: boolean;
  /** With the sandbox: emulators deliver a signed message webhook about once a second. */
  readonly demo: boolean;
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
  mongodbDb: 'gateway',
  podiumApiUrl: 'https://api.podium.com',
  podiumTokenUrl: 'https://accounts.podium.com/oauth/token', // Podium's own sample app uses this host
  leadconnectorApiUrl: 'https://services.leadconnectorhq.com',
  smoochApiUrl: 'https://api.smooch.io',
  webhookToleranceMs: 300_000, // 5 minutes
  webhookMaxBytes: 1_048_576, // 1 MiB
  podiumRequestsPerMinute: 300,
  upstreamTimeoutMs: 10_000, // 10 seconds
  upstreamMaxRetries: 3,
};

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): GatewayConfig {
  const problems: string[] = [];
  const get = (name: string): string | null => {
    const v = env[name]?.trim();
    return v ? v : null;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const url = (name: string, fallback: string | null): string | null => {
    const raw = get(name) ?? fallback;
    if (raw === null) return null;
    try {
      const u = new URL(raw);
      if (!/^(https?|mongodb(\+srv)?|rediss?):$/.test(u.protocol)) throw new Error('protocol');
      return raw;
    } catch {
      problems.push(`${name} must be a URL, got "${raw}"`);
      return fallback;
    }
  };

  const nodeEnv = get('NODE_ENV');
  const envName = nodeEnv === 'production' ? 'production' : nodeEnv === 'test' ? 'test' : 'development';
  const production = envName === 'production';
  const port = int('PORT', defaults.port, 0, 65_535);

  const apiKeys = new Map<string, Role>();
  for (const pair of (get('GATEWAY_API_KEYS') ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const idx = pair.indexOf(':');
    const role = pair.slice(0, idx);
    const key = pair.slice(idx + 1);
    if (idx < 1 || !key || (role !== 'viewer' && role !== 'admin')) {
      problems.push(`GATEWAY_API_KEYS entries must be role:key with role viewer or admin, got "${pair.slice(0, 12)}…"`);
      continue;
    }
    apiKeys.set(key, role);
  }

  const cors = get('GATEWAY_CORS_ORIGINS');
  const corsOrigins = cors === null ? (production ? [] : null) : cors.split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of corsOrigins ?? []) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      problems.push(`GATEWAY_CORS_ORIGINS entries must be origins like https://app.example.com, got "${origin}"`);
    }
  }

  const mongodbUrl = url('MONGODB_URL', null);
  if (production && mongodbUrl === null) problems.push('MONGODB_URL is required when NODE_ENV=production (the embedded store is for development only)');
  if (production && apiKeys.size === 0) problems.push('GATEWAY_API_KEYS is required when NODE_ENV=production');

  const tolerance = int('GATEWAY_WEBHOOK_TOLERANCE_SECONDS', defaults.webhookToleranceMs / 1000, 1, 86_400) * 1000;

  let podium: PodiumConfig | null = null;
  const podiumToken = get('PODIUM_ACCESS_TOKEN');
  if (podiumToken !== null || get('PODIUM_REFRESH_TOKEN') !== null) {
    const refreshToken = get('PODIUM_REFRESH_TOKEN');
    const clientId = get('PODIUM_CLIENT_ID');
    const clientSecret = get('PODIUM_CLIENT_SECRET');
    if (refreshToken && (!clientId || !clientSecret)) {
      problems.push('PODIUM_REFRESH_TOKEN needs PODIUM_CLIENT_ID and PODIUM_CLIENT_SECRET to refresh the access token');
    }
    podium = {
      apiUrl: url('PODIUM_API_URL', defaults.podiumApiUrl) ?? defaults.podiumApiUrl,
      accessToken: podiumToken ?? '',
      refreshToken,
      clientId,
      clientSecret,
      tokenUrl: url('PODIUM_TOKEN_URL', defaults.podiumTokenUrl) ?? defaults.podiumTokenUrl,
      webhookSecret: get('PODIUM_WEBHOOK_SECRET'),
      webhookToleranceMs: tolerance,
      requestsPerMinute: int('PODIUM_REQUESTS_PER_MINUTE', defaults.podiumRequestsPerMinute, 1, 100_000),
    };
  }

  let leadconnector: LeadConnectorConfig | null = null;
  const lcToken = get('LEADCONNECTOR_TOKEN');
  if (lcToken !== null) {
    const locationId = get('LEADCONNECTOR_LOCATION_ID');
    if (!locationId) problems.push('LEADCONNECTOR_LOCATION_ID is required with LEADCONNECTOR_TOKEN (HighLevel scopes every search to a location)');
    leadconnector = {
      apiUrl: url('LEADCONNECTOR_API_URL', defaults.leadconnectorApiUrl) ?? defaults.leadconnectorApiUrl,
      token: lcToken,
      locationId,
      companyId: get('LEADCONNECTOR_COMPANY_ID'),
      webhookPublicKey: pemFromEnv(get('LEADCONNECTOR_WEBHOOK_PUBLIC_KEY')) ?? HIGHLEVEL_RSA_PUBLIC_KEY,
      webhookEd25519PublicKey: pemFromEnv(get('LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY')) ?? HIGHLEVEL_ED25519_PUBLIC_KEY,
      webhookToleranceMs: tolerance,
    };
  }

  let smooch: SmoochConfig | null = null;
  const smoochAppId = get('SMOOCH_APP_ID');
  if (smoochAppId !== null || get('SMOOCH_KEY_ID') !== null) {
    const keyId = get('SMOOCH_KEY_ID');
    const secret = get('SMOOCH_SECRET');
    if (!smoochAppId || !keyId || !secret) problems.push('Smooch needs all of SMOOCH_APP_ID, SMOOCH_KEY_ID and SMOOCH_SECRET');
    smooch = {
      apiUrl: url('SMOOCH_API_URL', defaults.smoochApiUrl) ?? defaults.smoochApiUrl,
      appId: smoochAppId ?? '',
      keyId: keyId ?? '',
      secret: secret ?? '',
      webhookSecret: get('SMOOCH_WEBHOOK_SECRET'),
    };
  }

  const sandboxSetting = get('GATEWAY_SANDBOX');
  const sandbox = sandboxSetting === null ? !production && !podium && !leadconnector && !smooch : sandboxSetting === '1' || sandboxSetting === 'true';
  if (production && sandbox) problems.push('GATEWAY_SANDBOX cannot be on when NODE_ENV=production');

  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    env: envName,
    port,
    publicUrl: (url('GATEWAY_PUBLIC_URL', `http://localhost:${port}`) ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    mongodbUrl,
    mongodbDb: get('MONGODB_DB') ?? defaults.mongodbDb,
    redisUrl: url('REDIS_URL', null),
    corsOrigins: corsOrigins === null ? null : Object.freeze(corsOrigins),
    apiKeys,
    logLevel: get('LOG_LEVEL') ?? (envName === 'test' ? 'silent' : 'info'),
    webhookMaxBytes: defaults.webhookMaxBytes,
    upstream: {
      timeoutMs: int('GATEWAY_UPSTREAM_TIMEOUT_MS', defaults.upstreamTimeoutMs, 1, 120_000),
      maxRetries: int('GATEWAY_UPSTREAM_MAX_RETRIES', defaults.upstreamMaxRetries, 0, 10),
    },
    podium,
    leadconnector,
    smooch,
    sandbox,
    demo: sandbox && (get('GATEWAY_DEMO') === '1' || get('GATEWAY_DEMO') === 'true'),
  });
}

/** Accepts a PEM with literal `\n` escapes (how multi-line values survive .env files). */
function pemFromEnv(value: string | null): string | null {
  return value === null ? null : value.replace(/\\n/g, '\n');
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
