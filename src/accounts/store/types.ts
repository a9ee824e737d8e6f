// The accounts store contract: documents with credentials already sealed
// (crypto.ts), the lock documents token refreshes take, and the hashed API keys
// that may be scoped to accounts. MongoDB in
// production (mongo.ts), in process in development (memory.ts).
import type { ProviderName } from '../../model.js';
import type { EncryptedBlob } from '../crypto.js';
import type { AccountId, AccountScope, AccountStatus } from '../types.js';

export interface AccountDocument {
  readonly _id: AccountId;
  readonly provider: ProviderName;
  readonly name: string;
  readonly scope: AccountScope;
  /** Unique: one account per provider-side organization, location or app. */
  readonly scopeKey: string;
  readonly credentials: EncryptedBlob;
  readonly version: number;
  readonly status: AccountStatus;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type AccountFields = Omit<AccountDocument, '_id' | 'version' | 'createdAt' | 'updatedAt'>;

/**
 * The environment's renewed tokens of one provider, so that every instance and
 * the next start use them (a HighLevel refresh token works once). Valid only
 * while the configured credentials are the ones they were renewed from.
 */
export interface EnvironmentTokensDocument {
  /** The provider. */
  readonly _id: ProviderName;
  /** Hash of the configured credentials the tokens descend from. */
  readonly fingerprint: string;
  readonly credentials: EncryptedBlob;
  /** 1 for the first renewal of the configured tokens, then +1 per renewal. */
  readonly version: number;
  readonly updatedAt: Date;
}

export interface EnvironmentTokenStore {
  getEnvironmentTokens(provider: ProviderName): Promise<EnvironmentTokensDocument | null>;
  /**
   * Writes the tokens at version `fromVersion + 1` if the stored ones are still
   * at `fromVersion` for this fingerprint (0: the configured tokens, whatever
   * was stored for other ones); true when written.
   */
  replaceEnvironmentTokens(provider: ProviderName, fingerprint: string, fromVersion: number, credentials: EncryptedBlob): Promise<boolean>;
}

export interface AccountStore extends ApiKeyStore, EnvironmentTokenStore {
  list(): Promise<readonly AccountDocument[]>;
  get(id: AccountId): Promise<AccountDocument | null>;
  /**
   * Inserts the account, or when one with the same scopeKey exists replaces
   * its name, scope and credentials (bumping its version) and makes it ACTIVE.
   * `seal` gets the id the document ends up with (the credentials' additional data).
   */
  upsert(fields: Omit<AccountFields, 'credentials' | 'status' | 'lastError'>, seal: (id: AccountId) => EncryptedBlob): Promise<AccountDocument>;
  /** Replaces the credentials only if the document is still at `fromVersion`; true when it was. */
  replaceCredentials(id: AccountId, fromVersion: number, credentials: EncryptedBlob): Promise<boolean>;
  setStatus(id: AccountId, status: AccountStatus, lastError: string | null): Promise<void>;
  delete(id: AccountId): Promise<boolean>;
  /** Takes `key` for `ttlMs` unless someone else holds it unexpired; true when taken. */
  tryLock(key: string, owner: string, ttlMs: number): Promise<boolean>;
  unlock(key: string, owner: string): Promise<void>;
  close(): Promise<void>;
}

/** One account a scoped API key reaches. */
export interface AccountRef {
  readonly provider: ProviderName;
  /** `env` for the environment's account. */
  readonly account: AccountId;
}

/** A stored API key: only the SHA-256 of its secret is kept (the key is shown once, at creation). */
export interface ApiKeyDocument {
  /** 24 hex digits, also the key's visible prefix (`mgw_<id>_<secret>`). */
  readonly _id: string;
  readonly name: string | null;
  readonly role: 'viewer' | 'agent' | 'admin';
  /** null: every account, present and future. */
  readonly accounts: readonly AccountRef[] | null;
  /** Hex SHA-256 of the secret part. */
  readonly secretHash: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  /** When a request last presented it, to the hour (see api-keys.ts); absent until then. */
  readonly lastUsedAt?: Date | null;
}

/** API keys, in the accounts store's database (`api_keys`). */
export interface ApiKeyStore {
  insertKey(doc: ApiKeyDocument): Promise<void>;
  getKey(id: string): Promise<ApiKeyDocument | null>;
  /** Oldest first, revoked ones included. */
  listKeys(): Promise<readonly ApiKeyDocument[]>;
  /** Sets revokedAt on an unrevoked key; true when it was one. */
  revokeKey(id: string, at: Date): Promise<boolean>;
  /** Records that the key was used at `at`. */
  touchKey(id: string, at: Date): Promise<void>;
}
