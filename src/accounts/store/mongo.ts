// The MongoDB accounts store, in the event store's database: `accounts`
// (`_id` = account id, unique `scopeKey`), `account_locks` and `api_keys`. Only this file
// imports the driver for accounts.
//
// A lock is a unique insert, the one write FerretDB (our test server) makes
// atomic: its conditional updates and deletes evaluate the filter and write in
// separate steps. So a lock whose holder died is not deleted and retaken; the
// next taker inserts the next generation of it (`<key>#1`, `#2`, ...), which
// exactly one caller can. Lock keys carry the credentials version they protect,
// so a finished refresh never leaves a lock in the way of the next one.
import { MongoClient, MongoServerError, type Collection } from 'mongodb';
import { ensureIndexes } from '../../events/store/mongo-indexes.js';
import { newAccountId } from '../types.js';
import type { AccountDocument, AccountStore, ApiKeyDocument } from './types.js';

export interface MongoAccountStoreOptions {
  readonly url: string;
  readonly db: string;
  /** @default 2_000 (ms) */
  readonly serverSelectionTimeoutMs?: number;
  readonly now?: () => number;
}

interface LockDocument {
  readonly _id: string;
  readonly owner: string;
  readonly expiresAt: Date;
}

const DUPLICATE_KEY = 11000;
/** Generations of one lock tried before giving up (each one a holder that died holding it). */
const MAX_LOCK_GENERATIONS = 8;

export function createMongoAccountStore(options: MongoAccountStoreOptions): AccountStore {
  const client = new MongoClient(options.url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 2_000,
    ignoreUndefined: true,
    appName: 'messaging-gateway-accounts',
  });
  const db = client.db(options.db);
  // A refreshed token is persisted before use: it must survive a failover.
  const durable = { writeConcern: { w: 'majority' as const } };
  const accounts: Collection<AccountDocument> = db.collection<AccountDocument>('accounts', durable);
  const locks: Collection<LockDocument> = db.collection<LockDocument>('account_locks', durable);
  // A revocation must survive a failover like a refreshed token.
  const keys: Collection<ApiKeyDocument> = db.collection<ApiKeyDocument>('api_keys', durable);
  const now = options.now ?? Date.now;

  let indexes: Promise<void> | null = null;
  const ready = (): Promise<void> => {
    indexes ??= ensureIndexes(accounts, [{ key: { scopeKey: 1 }, name: 'scopeKey_unique', unique: true }]).catch((error: unknown) => {
      indexes = null;
      throw error;
    });
    return indexes;
  };

  const isDuplicate = (error: unknown): boolean => error instanceof MongoServerError && error.code === DUPLICATE_KEY;

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
    async close() {
      await client.close();
    },
  };
}


