// What an account is: one set of provider credentials with the provider-side
// scope they reach (a Podium organization and its locations, a HighLevel
// location or company, a Smooch app). The environment's credentials are one
// account per provider; the others are stored, their credentials encrypted.
import { randomBytes } from 'node:crypto';
import type { ProviderName } from '../model.js';

declare const accountIdBrand: unique symbol;
/** The gateway's own id of an account: `env` for the environment's, 24 hex digits for stored ones. */
export type AccountId = string & { readonly [accountIdBrand]: true };

export const ENV_ACCOUNT_ID = 'env' as AccountId;
const ACCOUNT_ID = /^(?:env|[0-9a-f]{24})$/;

export function newAccountId(): AccountId {
  return randomBytes(12).toString('hex') as AccountId;
}

export function isAccountId(value: string): value is AccountId {
  return ACCOUNT_ID.test(value);
}

export type AccountStatus = 'ACTIVE' | 'NEEDS_RECONNECTION';

/** Where at the provider an account's credentials reach. */
export type AccountScope =
  | { readonly provider: 'PODIUM'; readonly organizationUid: string; readonly locationUids: readonly string[] }
  | {
      readonly provider: 'LEADCONNECTOR';
      /** HighLevel's `userType` of the token. */
      readonly userType: 'Location' | 'Company';
      readonly locationId: string | null;
      readonly companyId: string | null;
    }
  | { readonly provider: 'SMOOCH'; readonly appId: string; readonly apiUrl: string };

/** One key per provider-side account: connecting the same organization, location or app again replaces its credentials. */
export function scopeKey(scope: AccountScope): string {
  switch (scope.provider) {
    case 'PODIUM':
      return `PODIUM:organization:${scope.organizationUid}`;
    case 'LEADCONNECTOR':
      return scope.locationId ? `LEADCONNECTOR:location:${scope.locationId}` : `LEADCONNECTOR:company:${scope.companyId ?? ''}`;
    case 'SMOOCH':
      return `SMOOCH:app:${scope.appId}`;
  }
}

/** The provider's own id of what the account reaches, for display. */
export function providerAccountId(scope: AccountScope): string {
  switch (scope.provider) {
    case 'PODIUM':
      return scope.organizationUid;
    case 'LEADCONNECTOR':
      return scope.locationId ?? scope.companyId ?? '';
    case 'SMOOCH':
      return scope.appId;
  }
}

export interface OAuthCredentials {
  readonly kind: 'oauth';
  readonly accessToken: string;
  /** Single-use at HighLevel: every refresh returns a new one. */
  readonly refreshToken: string | null;
  /** Epoch ms; null when the provider did not say. */
  readonly expiresAt: number | null;
}

export interface ApiKeyCredentials {
  readonly kind: 'api-key';
  readonly keyId: string;
  readonly secret: string;
}

export type Credentials = OAuthCredentials | ApiKeyCredentials;

/** An account as the admin API shows it: never its credentials. */
export interface Account {
  readonly id: AccountId;
  readonly provider: ProviderName;
  readonly name: string;
  readonly scope: AccountScope | null;
  readonly status: AccountStatus;
  readonly lastError: string | null;
  /** `environment`: from the provider's variables, not stored, not disconnectable. */
  readonly source: 'environment' | 'stored';
  readonly connectedAt: string | null;
}

/** A stored account with its credentials decrypted (in memory only). */
export interface StoredAccount extends Account {
  readonly scope: AccountScope;
  readonly source: 'stored';
  readonly credentials: Credentials;
  /** Bumped by every credentials change; a refresh starts from one version and persists the next. */
  readonly version: number;
}

/** What a finished OAuth exchange or a Smooch key check hands the registry. */
export interface NewAccount {
  readonly provider: ProviderName;
  readonly name: string;
  readonly scope: AccountScope;
  readonly credentials: Credentials;
}

/** Tokens a provider's token endpoint answered with. */
export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken: string | null;
  /** Epoch ms. */
  readonly expiresAt: number | null;
}

/** The token endpoint refused the grant itself (revoked, expired or already used): only reconnecting helps. */
export class GrantRejectedError extends Error {
  override readonly name = 'GrantRejectedError';
  constructor(
    readonly provider: ProviderName,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A provider's OAuth authorization-code flow (providers/<name>/auth.ts): the
 * consent URL, the code exchange, the refresh, and what the tokens reach.
 */
export interface OAuthFlow {
  readonly provider: ProviderName;
  authorizeUrl(params: { readonly state: string; readonly redirectUri: string }): string;
  exchangeCode(code: string, redirectUri: string): Promise<TokenSet & { readonly hints: Readonly<Record<string, string | null>> }>;
  /** Throws GrantRejectedError when the refresh token is no good any more. */
  refresh(refreshToken: string, scope: AccountScope): Promise<TokenSet>;
  /** The display name and scope the new tokens reach (calls the API with them). */
  describe(tokens: TokenSet, hints: Readonly<Record<string, string | null>>): Promise<{ readonly name: string; readonly scope: AccountScope }>;
}
