// The accounts store contract: documents with credentials already sealed
// (crypto.ts), and the lock documents token refreshes take. MongoDB in
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

export interface AccountStore {
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
