// HighLevel's environment variables (a fragment of the gateway's one zod
// schema, composed by src/config.ts) and the config they parse into: the
// environment's location token, the Marketplace app that connects stored
// accounts, and the keys that verify webhooks.
import { z } from 'zod';
import { httpUrl, int, pem, scopeList, text } from '../../env-vars.js';
import type { OAuthClientConfig, SharedEnv } from '../provider.js';

export interface LeadConnectorApiConfig {
  readonly apiUrl: string;
  readonly token: string;
  /**
   * Renews `token` through the Marketplace app (LEADCONNECTOR_CLIENT_ID and
   * LEADCONNECTOR_CLIENT_SECRET) when it expires or is refused. @default null (a token that does not expire)
   */
  readonly refreshToken?: string | null;
  readonly locationId: string;
  readonly companyId: string | null;
  /** Client-side burst limit per app and location. @default 100 (requests per 10 seconds) */
  readonly requestsPer10Seconds: number;
}

export interface LeadConnectorOAuthConfig extends OAuthClientConfig {
  /** Client-side burst limit per connected location. @default 100 (requests per 10 seconds) */
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

// HighLevel's published webhook keys (HighLevel's Webhook Authentication guide, Webhook Integration Guide).
export const HIGHLEVEL_ED25519_PUBLIC_KEY = 'MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=';

// HighLevel's RSA key for `x-wh-signature`, as published in its Webhook Authentication guide.
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

export const LEADCONNECTOR_DEFAULTS = {
  apiUrl: 'https://services.leadconnectorhq.com',
  authorizeUrl: 'https://marketplace.gohighlevel.com/oauth/chooselocation',
  scopes: ['conversations.readonly', 'conversations/message.readonly', 'contacts.readonly', 'users.readonly', 'locations.readonly'],
  requestsPer10Seconds: 100,
} as const;

export const leadConnectorEnv = {
  LEADCONNECTOR_API_URL: httpUrl.optional(),
  LEADCONNECTOR_TOKEN: text.optional(),
  LEADCONNECTOR_REFRESH_TOKEN: text.optional(),
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
};
type LeadConnectorEnv = z.output<z.ZodObject<typeof leadConnectorEnv>>;

function oauthConfig(e: LeadConnectorEnv, apiUrl: string): LeadConnectorOAuthConfig | null {
  if (!e.LEADCONNECTOR_CLIENT_ID || !e.LEADCONNECTOR_CLIENT_SECRET) return null;
  return {
    apiUrl,
    clientId: e.LEADCONNECTOR_CLIENT_ID,
    clientSecret: e.LEADCONNECTOR_CLIENT_SECRET,
    authorizeUrl: e.LEADCONNECTOR_OAUTH_AUTHORIZE_URL ?? LEADCONNECTOR_DEFAULTS.authorizeUrl,
    tokenUrl: e.LEADCONNECTOR_TOKEN_URL ?? `${apiUrl.replace(/\/+$/, '')}/oauth/token`,
    scopes: e.LEADCONNECTOR_OAUTH_SCOPES ?? LEADCONNECTOR_DEFAULTS.scopes,
    requestsPer10Seconds: e.LEADCONNECTOR_REQUESTS_PER_10_SECONDS ?? LEADCONNECTOR_DEFAULTS.requestsPer10Seconds,
  };
}

export function parseLeadConnectorConfig(e: LeadConnectorEnv, shared: SharedEnv, problems: string[]): LeadConnectorConfig | null {
  const hasKeys = Boolean(e.LEADCONNECTOR_WEBHOOK_PUBLIC_KEY ?? e.LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY);
  const apiUrl = e.LEADCONNECTOR_API_URL ?? LEADCONNECTOR_DEFAULTS.apiUrl;
  const oauth = oauthConfig(e, apiUrl);
  if (Boolean(e.LEADCONNECTOR_CLIENT_ID) !== Boolean(e.LEADCONNECTOR_CLIENT_SECRET)) {
    problems.push('LEADCONNECTOR_CLIENT_ID and LEADCONNECTOR_CLIENT_SECRET go together (the Marketplace app)');
  }
  if (!e.LEADCONNECTOR_TOKEN && !hasKeys && !oauth) return null;
  if (e.LEADCONNECTOR_TOKEN && !e.LEADCONNECTOR_LOCATION_ID) {
    problems.push('LEADCONNECTOR_LOCATION_ID is required with LEADCONNECTOR_TOKEN (HighLevel scopes every search to a location)');
  }
  if (e.LEADCONNECTOR_REFRESH_TOKEN && (!e.LEADCONNECTOR_TOKEN || !oauth)) {
    problems.push('LEADCONNECTOR_REFRESH_TOKEN needs LEADCONNECTOR_TOKEN, LEADCONNECTOR_CLIENT_ID and LEADCONNECTOR_CLIENT_SECRET to refresh the token');
  }
  return {
    api: e.LEADCONNECTOR_TOKEN
      ? {
          apiUrl,
          token: e.LEADCONNECTOR_TOKEN,
          ...(e.LEADCONNECTOR_REFRESH_TOKEN ? { refreshToken: e.LEADCONNECTOR_REFRESH_TOKEN } : {}),
          locationId: e.LEADCONNECTOR_LOCATION_ID ?? '',
          companyId: e.LEADCONNECTOR_COMPANY_ID ?? null,
          requestsPer10Seconds: e.LEADCONNECTOR_REQUESTS_PER_10_SECONDS ?? LEADCONNECTOR_DEFAULTS.requestsPer10Seconds,
        }
      : null,
    ...(oauth ? { oauth } : {}),
    webhookPublicKey: e.LEADCONNECTOR_WEBHOOK_PUBLIC_KEY ?? HIGHLEVEL_RSA_PUBLIC_KEY,
    webhookEd25519PublicKey: e.LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY ?? HIGHLEVEL_ED25519_PUBLIC_KEY,
    webhookToleranceMs: shared.webhookToleranceMs,
  };
}
