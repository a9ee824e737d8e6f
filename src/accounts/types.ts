// What an account is: one set of provider credentials with the provider-side
// scope they reach (a Podium organization and its locations, a HighLevel
// location or company, a Smooch app). The environment's credentials are one
// account per provider; the others are stored, their credentials encrypted.
import { randomBytes } from 'node:crypto';
import type { ProviderName } from '../model.js';
import type { AccountScope } from '../providers/index.js';

export type { AccountScope } from '../providers/index.js';

declare const accountIdBrand: unique symbol;
/** The gateway's own id of an account: `env` for the environment's, 24 hex digits for stored ones. */
export type AccountId = string & { readonly [accountIdBrand]: true };

export const ENV_ACCOUNT_ID = 'env' as AccountId;

export function newAccountId(): AccountId {
  return randomBytes(12).toString('hex') as AccountId;
}

export type AccountStatus = 'ACTIVE' | 'NEEDS_RECONNECTION';

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

/** What a token source reads and renews: the environment's account has no stored scope or document. */
export type TokenAccount = Pick<StoredAccount, 'id' | 'provider' | 'name' | 'status' | 'lastError' | 'credentials' | 'version'> & {
  readonly scope: AccountScope | null;
};

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
  refresh(refreshToken: string, scope: AccountScope | null): Promise<TokenSet>;
  /** The display name and scope the new tokens reach (calls the API with them). */
  describe(tokens: TokenSet, hints: Readonly<Record<string, string | null>>): Promise<{ readonly name: string; readonly scope: AccountScope }>;
}
