// Podium's environment variables (a fragment of the gateway's one zod schema,
// composed by src/config.ts) and the config they parse into: the environment's
// account, the OAuth app that connects stored accounts, the webhook secret.
import { z } from 'zod';
import { httpUrl, int, scopeList, text } from '../../env-vars.js';
import type { OAuthClientConfig, SharedEnv } from '../provider.js';

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

export interface PodiumOAuthConfig extends OAuthClientConfig {
  /** Client-side limit per connected account. @default 300 (requests a minute) */
  readonly requestsPerMinute: number;
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

export const PODIUM_DEFAULTS = {
  apiUrl: 'https://api.podium.com',
  tokenUrl: 'https://accounts.podium.com/oauth/token', // Podium's own sample app uses this host
  authorizeUrl: 'https://api.podium.com/oauth/authorize',
  scopes: ['read_messages', 'read_contacts', 'read_users', 'read_locations', 'read_organizations'],
  requestsPerMinute: 300,
} as const;

export const podiumEnv = {
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
};
type PodiumEnv = z.output<z.ZodObject<typeof podiumEnv>>;

/** Enabled by API credentials, a webhook secret, an OAuth app, or any of them. */
export function parsePodiumConfig(e: PodiumEnv, shared: SharedEnv, problems: string[]): PodiumConfig | null {
  const hasApi = Boolean(e.PODIUM_ACCESS_TOKEN ?? e.PODIUM_REFRESH_TOKEN);
  const apiUrl = e.PODIUM_API_URL ?? PODIUM_DEFAULTS.apiUrl;
  const tokenUrl = e.PODIUM_TOKEN_URL ?? PODIUM_DEFAULTS.tokenUrl;
  const requestsPerMinute = e.PODIUM_REQUESTS_PER_MINUTE ?? PODIUM_DEFAULTS.requestsPerMinute;
  // The same app credentials refresh the environment's token and connect accounts by OAuth.
  const oauth: PodiumOAuthConfig | null =
    e.PODIUM_CLIENT_ID && e.PODIUM_CLIENT_SECRET
      ? {
          apiUrl,
          clientId: e.PODIUM_CLIENT_ID,
          clientSecret: e.PODIUM_CLIENT_SECRET,
          authorizeUrl: e.PODIUM_OAUTH_AUTHORIZE_URL ?? PODIUM_DEFAULTS.authorizeUrl,
          tokenUrl,
          scopes: e.PODIUM_OAUTH_SCOPES ?? PODIUM_DEFAULTS.scopes,
          requestsPerMinute,
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
          apiUrl,
          accessToken: e.PODIUM_ACCESS_TOKEN ?? '',
          refreshToken: e.PODIUM_REFRESH_TOKEN ?? null,
          clientId: e.PODIUM_CLIENT_ID ?? null,
          clientSecret: e.PODIUM_CLIENT_SECRET ?? null,
          tokenUrl,
          requestsPerMinute,
        }
      : null,
    ...(oauth ? { oauth } : {}),
    webhookSecret: e.PODIUM_WEBHOOK_SECRET ?? null,
    webhookToleranceMs: shared.webhookToleranceMs,
  };
}
