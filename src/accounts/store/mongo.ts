// The MongoDB accounts store, in the event store's database: `accounts`
// (`_id` = account id, unique `scopeKey`), `account_locks`, `api_keys` and
// `environment_tokens` (`_id` = provider). Only this file imports the driver
// for accounts.
//
// A lock is a unique insert, the one write FerretDB (our test server) makes
// atomic: its conditional updates and deletes evaluate the filter and write in
// separate steps. So a lock whose holder died is not deleted and retaken; the
// next taker inserts the next generation of it (`<key>#1`, `#2`, ...), which
// exactly one caller can. Lock keys carry the credentials version they protect,
// so a finished refresh never leaves a lock in the way of the next one.
import { MongoServerError, type Collection } from 'mongodb';
import { openMongoTarget, type MongoConnectionOptions } from '../../infra/clients.js';
import { ensureIndexes } from '../../events/store/mongo-indexes.js';
import { newAccountId } from '../types.js';
import type { AccountDocument, AccountStore, ApiKeyDocument, ApiKeyStore, EnvironmentTokenStore, EnvironmentTokensDocument } from './types.js';

export type MongoAccountStoreOptions = MongoConnectionOptions & { readonly now?: () => number };

interface LockDocument {
  readonly _id: string;
  readonly owner: string;
  readonly expiresAt: Date;
}

const DUPLICATE_KEY = 11000;
/** Generations of one lock tried before giving up (each one a holder that died holding it). */
const MAX_LOCK_GENERATIONS = 8;

const isDuplicate = (error: unknown): boolean => error instanceof MongoServerError && error.code === DUPLICATE_KEY;

type AccountOps = Pick<AccountStore, 'list' | 'get' | 'upsert' | 'replaceCredentials' | 'setStatus' | 'delete'>;
type LockOps = Pick<AccountStore, 'tryLock' | 'unlock'>;

export function createMongoAccountStore(options: MongoAccountStoreOptions): AccountStore {
  const { db, close } = openMongoTarget(options);
  // A refreshed token is persisted before use: it must survive a failover.
  const durable = { writeConcern: { w: 'majority' as const } };
  const now = options.now ?? Date.now;
  return {
    ...accountOps(db.collection<AccountDocument>('accounts', durable), now),
    ...lockOps(db.collection<LockDocument>('account_locks', durable), now),
    // A revocation must survive a failover like a refreshed token.
    ...keyOps(db.collection<ApiKeyDocument>('api_keys', durable)),
    ...environmentTokenOps(db.collection<EnvironmentTokensDocument>('environment_tokens', durable), now),
    async close() {
      await close();
    },
  };
}

function accountOps(accounts: Collection<AccountDocument>, now: () => number): AccountOps {
  let indexes: Promise<void> | null = null;
  const ready = (): Promise<void> => {
    indexes ??= ensureIndexes(accounts, [{ key: { scopeKey: 1 }, name: 'scopeKey_unique', unique: true }]).catch((error: unknown) => {
      indexes = null;
      throw error;
    });
    return indexes;
  };

  return {
    async list() {
      await ready();
      return accounts.find({}).sort({ createdAt: 1 }).toArray();
    },
    async get(id) {
      await ready();
      return accounts.findOne({ _id: id });
    },
    async upsert(fields, seal) {
      await ready();
      for (let attempt = 0; ; attempt++) {
        const at = new Date(now());
        const existing = await accounts.findOne({ scopeKey: fields.scopeKey });
        if (existing) {
          const update = { ...fields, credentials: seal(existing._id), status: 'ACTIVE' as const, lastError: null, version: existing.version + 1, updatedAt: at };
          await accounts.updateOne({ _id: existing._id }, { $set: update });
          return { ...existing, ...update };
        }
        const id = newAccountId();
        const doc: AccountDocument = { ...fields, _id: id, credentials: seal(id), status: 'ACTIVE', lastError: null, version: 1, createdAt: at, updatedAt: at };
        try {
          await accounts.insertOne(doc);
          return doc;
        } catch (error) {
          // Another connect of the same organization won the insert: update that one instead.
          if (!isDuplicate(error) || attempt >= 2) throw error;
        }
      }
    },
    async replaceCredentials(id, fromVersion, credentials) {
      await ready();
      const { matchedCount } = await accounts.updateOne(
        { _id: id, version: fromVersion },
        { $set: { credentials, version: fromVersion + 1, status: 'ACTIVE', lastError: null, updatedAt: new Date(now()) } },
      );
      return matchedCount === 1;
    },
    async setStatus(id, status, lastError) {
      await ready();
      await accounts.updateOne({ _id: id }, { $set: { status, lastError, updatedAt: new Date(now()) } });
    },
    async delete(id) {
      await ready();
      const { deletedCount } = await accounts.deleteOne({ _id: id });
      return deletedCount === 1;
    },
  };
}

function lockOps(locks: Collection<LockDocument>, now: () => number): LockOps {
  return {
    async tryLock(key, owner, ttlMs) {
      for (let generation = 0; generation < MAX_LOCK_GENERATIONS; generation++) {
        const _id = `${key}#${generation}`;
        try {
          await locks.insertOne({ _id, owner, expiresAt: new Date(now() + ttlMs) });
          return true;
        } catch (error) {
          if (!isDuplicate(error)) throw error;
          const held = await locks.findOne({ _id });
          // Released between our insert and our read: the next generation is as good.
          if (held && held.expiresAt.getTime() > now()) return false;
        }
      }
      return false;
    },
    async unlock(key, owner) {
      await locks.deleteMany({ _id: { $in: Array.from({ length: MAX_LOCK_GENERATIONS }, (_, g) => `${key}#${g}`) }, owner });
    },
  };
}

function keyOps(keys: Collection<ApiKeyDocument>): ApiKeyStore {
  return {
    async insertKey(doc) {
      await keys.insertOne(doc);
    },
    async getKey(id) {
      return keys.findOne({ _id: id });
    },
    async listKeys() {
      return keys.find({}).sort({ createdAt: 1 }).toArray();
    },
    async touchKey(id, at) {
      await keys.updateOne({ _id: id }, { $set: { lastUsedAt: at } });
    },
    async revokeKey(id, at) {
      const { modifiedCount } = await keys.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } });
      return modifiedCount === 1;
    },
  };
}

/** Written under the refresh lock (token-source.ts), like replaceCredentials. */
function environmentTokenOps(tokens: Collection<EnvironmentTokensDocument>, now: () => number): EnvironmentTokenStore {
  return {
    getEnvironmentTokens: (provider) => tokens.findOne({ _id: provider }),
    async replaceEnvironmentTokens(provider, fingerprint, fromVersion, credentials) {
      const updatedAt = new Date(now());
      const existing = await tokens.findOne({ _id: provider });
      const current = existing?.fingerprint === fingerprint ? existing.version : 0;
      if (current !== fromVersion) return false;
      if (!existing) {
        try {
          await tokens.insertOne({ _id: provider, fingerprint, credentials, version: 1, updatedAt });
          return true;
        } catch (error) {
          if (isDuplicate(error)) return false;
          throw error;
        }
      }
      // Tokens of other configured credentials are replaced; these ones only from the version read.
      const { matchedCount } = await tokens.updateOne(
        { _id: provider, fingerprint: existing.fingerprint, version: existing.version },
        { $set: { fingerprint, credentials, version: fromVersion + 1, updatedAt } },
      );
      return matchedCount === 1;
    },
  };
}
