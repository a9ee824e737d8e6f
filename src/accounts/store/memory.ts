// The in-process accounts store (development, the embedded store): the same
// contract as mongo.ts, lost on restart and not shared between instances.
import type { AccountId } from '../types.js';
import { newAccountId } from '../types.js';
import type { AccountDocument, AccountStore, ApiKeyDocument, EnvironmentTokensDocument } from './types.js';

export function createMemoryAccountStore(options: { readonly now?: () => number } = {}): AccountStore {
  const now = options.now ?? Date.now;
  const docs = new Map<AccountId, AccountDocument>();
  const locks = new Map<string, { owner: string; expiresAt: number }>();
  const keys = new Map<string, ApiKeyDocument>();
  const envTokens = new Map<string, EnvironmentTokensDocument>();
  const copy = (d: AccountDocument): AccountDocument => structuredClone(d);

  return {
    async list() {
      return [...docs.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(copy);
    },
    async get(id) {
      const d = docs.get(id);
      return d ? copy(d) : null;
    },
    async upsert(fields, seal) {
      const existing = [...docs.values()].find((d) => d.scopeKey === fields.scopeKey);
      const at = new Date(now());
      const id = existing?._id ?? newAccountId();
      const doc: AccountDocument = {
        ...fields,
        _id: id,
        credentials: seal(id),
        status: 'ACTIVE',
        lastError: null,
        version: (existing?.version ?? 0) + 1,
        createdAt: existing?.createdAt ?? at,
        updatedAt: at,
      };
      docs.set(id, doc);
      return copy(doc);
    },
    async replaceCredentials(id, fromVersion, credentials) {
      const d = docs.get(id);
      if (!d || d.version !== fromVersion) return false;
      docs.set(id, { ...d, credentials, version: fromVersion + 1, status: 'ACTIVE', lastError: null, updatedAt: new Date(now()) });
      return true;
    },
    async setStatus(id, status, lastError) {
      const d = docs.get(id);
      if (d) docs.set(id, { ...d, status, lastError, updatedAt: new Date(now()) });
    },
    async delete(id) {
      return docs.delete(id);
    },
    async tryLock(key, owner, ttlMs) {
      const held = locks.get(key);
      if (held && held.expiresAt > now()) return false;
      locks.set(key, { owner, expiresAt: now() + ttlMs });
      return true;
    },
    async unlock(key, owner) {
      if (locks.get(key)?.owner === owner) locks.delete(key);
    },
    async insertKey(doc) {
      if (keys.has(doc._id)) throw new Error(`duplicate API key id ${doc._id}`);
      keys.set(doc._id, structuredClone(doc));
    },
    async getKey(id) {
      const d = keys.get(id);
      return d ? structuredClone(d) : null;
    },
    async listKeys() {
      return [...keys.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((d) => structuredClone(d));
    },
    async touchKey(id, at) {
      const d = keys.get(id);
      if (d) keys.set(id, { ...d, lastUsedAt: at });
    },
    async revokeKey(id, at) {
      const d = keys.get(id);
      if (!d || d.revokedAt) return false;
      keys.set(id, { ...d, revokedAt: at });
      return true;
    },
    async getEnvironmentTokens(provider) {
      const d = envTokens.get(provider);
      return d ? structuredClone(d) : null;
    },
    async replaceEnvironmentTokens(provider, fingerprint, fromVersion, credentials) {
      const d = envTokens.get(provider);
      const current = d && d.fingerprint === fingerprint ? d.version : 0;
      if (current !== fromVersion) return false;
      envTokens.set(provider, { _id: provider, fingerprint, credentials, version: fromVersion + 1, updatedAt: new Date(now()) });
      return true;
    },
    async close() {},
  };
}
