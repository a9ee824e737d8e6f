// The stored accounts as this process holds them: a snapshot of the store
// (reused for `snapshotMs`, as every webhook delivery asks), each account's
// current credentials, and its adapter built on first use with its token
// source (token-source.ts) over a handle that reads and writes the store.
import type { Logger } from 'pino';
import { ProviderError } from '../errors.js';
import type { ProviderName } from '../model.js';
import { PROVIDER_LABELS } from '../providers/labels.js';
import type { ProviderApi } from '../providers/provider.js';
import { DecryptError, type Sealer } from './crypto.js';
import type { AccountDocument, AccountStore } from './store/types.js';
import type { AccountHandle } from './token-source.js';
import type { AccountId, Credentials, StoredAccount } from './types.js';

export interface LiveAccounts {
  /** The stored accounts: read again when `fresh`, else from a snapshot at most `snapshotMs` old. */
  stored(fresh: boolean): Promise<readonly StoredAccount[]>;
  /** Makes a (re)connected account current, with new credentials and so a new adapter. */
  connected(doc: AccountDocument): StoredAccount;
  forget(id: AccountId): void;
  /** The account's adapter, built on first use. */
  apiOf(account: StoredAccount): ProviderApi;
  handleFor(id: AccountId, provider: ProviderName): AccountHandle;
}

export interface LiveAccountsOptions {
  readonly store: AccountStore;
  readonly sealer: Sealer;
  readonly logger: Logger;
  readonly snapshotMs: number;
  readonly now: () => number;
  /** Throws when stored accounts may not be read (production without the encryption key). */
  readonly requireKey: (what: string) => void;
  readonly build: (account: StoredAccount) => ProviderApi;
}

interface Live {
  account: StoredAccount;
  api: ProviderApi | null;
}

/** Decrypts a document; one that cannot be decrypted is shown as needing reconnection, with why. */
export function decodeAccount(doc: AccountDocument, sealer: Sealer): StoredAccount {
  let credentials: Credentials;
  let status = doc.status;
  let lastError = doc.lastError;
  try {
    credentials = sealer.open<Credentials>(doc.credentials, doc._id);
  } catch (err) {
    if (!(err instanceof DecryptError)) throw err;
    credentials = { kind: 'oauth', accessToken: '', refreshToken: null, expiresAt: null };
    status = 'NEEDS_RECONNECTION';
    lastError = `The stored credentials cannot be used: ${err.message}`;
  }
  return {
    id: doc._id,
    provider: doc.provider,
    name: doc.name,
    scope: doc.scope,
    status,
    lastError,
    source: 'stored',
    connectedAt: doc.createdAt.toISOString(),
    credentials,
    version: doc.version,
  };
}

export function createLiveAccounts(options: LiveAccountsOptions): LiveAccounts {
  const { store, sealer } = options;
  const live = new Map<AccountId, Live>();
  let snapshot: { at: number; pending: Promise<readonly StoredAccount[]> } | null = null;

  /** Makes `account` current; an API-key account whose keys changed gets a new adapter. */
  function remember(account: StoredAccount): StoredAccount {
    const entry = live.get(account.id);
    if (!entry) {
      live.set(account.id, { account, api: null });
    } else if (account.version >= entry.account.version) {
      if (account.credentials.kind === 'api-key' && account.version !== entry.account.version) entry.api = null;
      entry.account = account;
    }
    return live.get(account.id)!.account;
  }

  function stored(fresh: boolean): Promise<readonly StoredAccount[]> {
    if (fresh || !snapshot || options.now() - snapshot.at > options.snapshotMs) {
      const pending = (async () => {
        const docs = await store.list();
        if (docs.length > 0) options.requireKey(`read the ${docs.length} stored accounts`);
        const accounts = docs.map((d) => remember(decodeAccount(d, sealer)));
        const ids = new Set(accounts.map((a) => a.id));
        for (const id of live.keys()) if (!ids.has(id)) live.delete(id);
        return accounts;
      })();
      snapshot = { at: options.now(), pending };
      pending.catch(() => {
        if (snapshot?.pending === pending) snapshot = null;
      });
    }
    return snapshot.pending;
  }

  function handleFor(id: AccountId, provider: ProviderName): AccountHandle {
    const current = (): StoredAccount => {
      const entry = live.get(id);
      if (!entry) throw new ProviderError(provider, 'NOT_CONFIGURED', `The ${PROVIDER_LABELS[provider]} account was disconnected`);
      return entry.account;
    };
    return {
      current,
      async reload() {
        const doc = await store.get(id);
        if (!doc) {
          const gone = current();
          live.delete(id);
          throw new ProviderError(gone.provider, 'NOT_CONFIGURED', `The ${PROVIDER_LABELS[gone.provider]} account "${gone.name}" was disconnected`);
        }
        return remember(decodeAccount(doc, sealer));
      },
      async persist(fromVersion, credentials) {
        const ok = await store.replaceCredentials(id, fromVersion, sealer.seal(credentials, id));
        if (!ok) return null;
        return remember({ ...current(), credentials, version: fromVersion + 1, status: 'ACTIVE', lastError: null });
      },
      async markNeedsReconnection(reason) {
        const account = current();
        options.logger.warn({ provider: account.provider, account: id, reason }, 'account needs reconnection');
        await store.setStatus(id, 'NEEDS_RECONNECTION', reason);
        const entry = live.get(id);
        if (entry) entry.account = { ...entry.account, status: 'NEEDS_RECONNECTION', lastError: reason };
      },
    };
  }

  return {
    stored,
    handleFor,
    connected(doc) {
      snapshot = null;
      const account = decodeAccount(doc, sealer);
      // Reconnected: new credentials (and so a new token source state) from now on.
      live.delete(account.id);
      return remember(account);
    },
    forget(id) {
      live.delete(id);
      snapshot = null;
    },
    apiOf(account) {
      remember(account);
      const entry = live.get(account.id) as Live;
      entry.api ??= options.build(entry.account);
      return entry.api;
    },
  };
}
