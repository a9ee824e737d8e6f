// API keys an admin creates at run time (`createApiKey`), optionally scoped to
// accounts: a tenant's key. A key is `mgw_<id>_<secret>`: the id finds its
// document, and only the SHA-256 of the secret is stored. The secret is 256
// random bits, so a fast hash is as good as a slow one here (nothing to guess
// from it), and checking a key costs microseconds on every request.
//
// Checks read a snapshot of every key (one small document each), renewed on
// demand when older than CHECK_TTL_MS: revoking a key takes effect at once on
// the instance that revoked it and within that time on the others, and a flood
// of made-up keys costs no store reads (an unknown id makes the snapshot be
// renewed at most once a second, for a key just created elsewhere). Live
// connections of a revoked key are closed (graphql-ws.ts).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AccountSet, type Principal, type StoredKeys } from '../auth.js';
import type { Role } from '../config.js';
import type { AccountRef, ApiKeyDocument, ApiKeyStore } from './store/types.js';

const KEY = /^mgw_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;
const PREFIX = 'mgw_';
/** How old the snapshot of keys may get (revocations on other instances take this long). */
export const CHECK_TTL_MS = 5_000;
/** How often an unknown key id may renew a fresher snapshot (a key created on another instance works within this). */
const UNKNOWN_RELOAD_MS = 1_000;
/** A key's use is recorded at most this often per instance: one write an hour, not one per request. */
const USE_RECORD_MS = 3_600_000;

export interface ApiKey {
  readonly id: string;
  readonly name: string | null;
  readonly role: Role;
  /** null: every account. */
  readonly accounts: readonly AccountRef[] | null;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  /** When a request last presented it, to the hour; null: never. */
  readonly lastUsedAt: Date | null;
}

/** A key as `createApiKey` answers it: the only time `key` is seen. */
export interface CreatedApiKey extends ApiKey {
  readonly key: string;
}

export interface ApiKeys extends StoredKeys {
  /** Stores a new key; `key` is the only time its secret exists outside the caller's hands. */
  create(input: { readonly role: Role; readonly accounts: readonly AccountRef[] | null; readonly name: string | null }): Promise<CreatedApiKey>;
  list(): Promise<readonly ApiKey[]>;
  get(id: string): Promise<ApiKey | null>;
  /** False when there was no such unrevoked key. */
  revoke(id: string): Promise<boolean>;
  /** Of these ids, those no longer usable (revoked or gone), from a snapshot renewed for the purpose: for connections authenticated earlier. */
  revokedAmong(ids: readonly string[]): Promise<string[]>;
  /** Runs when this instance revokes a key; returns the unregister function. */
  onRevoked(listener: (id: string) => void): () => void;
}

const hashOf = (secret: string): Buffer => createHash('sha256').update(secret).digest();

function view(doc: ApiKeyDocument): ApiKey {
  return { id: doc._id, name: doc.name, role: doc.role, accounts: doc.accounts, createdAt: doc.createdAt, revokedAt: doc.revokedAt, lastUsedAt: doc.lastUsedAt ?? null };
}

export interface ApiKeysOptions {
  readonly now?: () => number;
  readonly checkTtlMs?: number;
  /** Where a failed use record is reported (it never fails the request). @default ignored */
  readonly onError?: (err: unknown, keyId: string) => void;
}

export function createApiKeys(store: ApiKeyStore, options: ApiKeysOptions = {}): ApiKeys {
  const now = options.now ?? Date.now;
  const ttlMs = options.checkTtlMs ?? CHECK_TTL_MS;
  const listeners = new Set<(id: string) => void>();
  let snapshot: { readonly at: number; readonly byId: Map<string, ApiKeyDocument> } | null = null;
  let loading: Promise<Map<string, ApiKeyDocument>> | null = null;
  let lastUnknownReload = Number.NEGATIVE_INFINITY;
  /** One principal per key document, so a request does not rebuild its account set. */
  const principals = new WeakMap<ApiKeyDocument, Principal>();
  /** When this instance last recorded each key's use. */
  const recorded = new Map<string, number>();

  function recordUse(doc: ApiKeyDocument): void {
    const at = now();
    const last = recorded.get(doc._id) ?? doc.lastUsedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    if (at - last < USE_RECORD_MS) return;
    recorded.set(doc._id, at);
    store.touchKey(doc._id, new Date(at)).catch((err: unknown) => options.onError?.(err, doc._id));
  }

  /** One read for every caller waiting on it. */
  function reload(): Promise<Map<string, ApiKeyDocument>> {
    const startedAt = now();
    loading ??= store
      .listKeys()
      .then((docs) => {
        snapshot = { at: startedAt, byId: new Map(docs.map((d) => [d._id, d])) };
        return snapshot.byId;
      })
      .finally(() => (loading = null));
    return loading;
  }

  function remember(doc: ApiKeyDocument): void {
    snapshot?.byId.set(doc._id, doc);
    void loading?.then((byId) => byId.set(doc._id, doc));
  }

  async function document(id: string): Promise<ApiKeyDocument | null> {
    if (!snapshot || now() - snapshot.at >= ttlMs) return (await reload()).get(id) ?? null;
    const hit = snapshot.byId.get(id);
    if (hit) return hit;
    if (now() - snapshot.at < UNKNOWN_RELOAD_MS || now() - lastUnknownReload < UNKNOWN_RELOAD_MS) return null;
    lastUnknownReload = now();
    return (await reload()).get(id) ?? null;
  }

  return {
    recognizes: (presented) => presented.startsWith(PREFIX),
    async verify(presented): Promise<Principal | null> {
      const match = KEY.exec(presented);
      if (!match) return null;
      const doc = await document(match[1] as string);
      if (!doc || doc.revokedAt) return null;
      if (!timingSafeEqual(hashOf(match[2] as string), Buffer.from(doc.secretHash, 'hex'))) return null;
      recordUse(doc);
      let principal = principals.get(doc);
      if (!principal) principals.set(doc, (principal = { role: doc.role, keyId: doc._id, accounts: doc.accounts ? new AccountSet(doc.accounts) : null }));
      return principal;
    },
    async create({ role, accounts, name }) {
      const id = randomBytes(12).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const doc: ApiKeyDocument = { _id: id, name, role, accounts, secretHash: hashOf(secret).toString('hex'), createdAt: new Date(now()), revokedAt: null };
      await store.insertKey(doc);
      // Usable here at once, also when a snapshot read that started before the insert lands after it.
      remember(doc);
      return { ...view(doc), key: `${PREFIX}${id}_${secret}` };
    },
    async list() {
      return (await store.listKeys()).map(view);
    },
    async get(id) {
      const doc = await store.getKey(id);
      return doc ? view(doc) : null;
    },
    async revoke(id) {
      const at = new Date(now());
      const revoked = await store.revokeKey(id, at);
      const known = snapshot?.byId.get(id) ?? (await store.getKey(id));
      if (known) remember({ ...known, revokedAt: known.revokedAt ?? at });
      if (revoked) for (const listener of [...listeners]) listener(id);
      return revoked;
    },
    async revokedAmong(ids) {
      const byId = await reload();
      return ids.filter((id) => !byId.get(id) || byId.get(id)?.revokedAt);
    },
    onRevoked(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
