// The accounts of every provider: the environment's (one per provider, from
// config, never stored) and the stored ones, with an adapter per account built
// on first use. Ids and `account:` arguments name the account (apiFor); without
// one, the provider's default account answers: the environment's, or the only
// stored one (defaultAccountId).
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, ProviderError, userInputError } from '../errors.js';
import type { ProviderName } from '../model.js';
import type { UpstreamAuth } from '../providers/http.js';
import { PROVIDER_LABELS } from '../providers/labels.js';
import type { Provider } from '../providers/provider.js';
import { DecryptError, type Sealer } from './crypto.js';
import type { RefreshLocks } from './locks.js';
import type { AccountDocument, AccountStore } from './store/types.js';
import { accountTokenSource, type AccountHandle } from './token-source.js';
import { scopeKey, type Account, type AccountId, type Credentials, type NewAccount, type OAuthFlow, type StoredAccount } from './types.js';

/** What an account's adapter serves: a Provider without the (per-provider) webhook receiver. */
export type AccountApi = Omit<Provider, 'receiver'>;

/** Builds the adapter of a stored account; `auth` is set for OAuth accounts, null for API keys. */
export type AccountApiFactory = (account: StoredAccount, auth: UpstreamAuth | null) => AccountApi;

export interface EnvAccount {
  readonly account: Account;
  readonly api: AccountApi;
}

export interface AccountRegistryOptions {
  readonly store: AccountStore;
  readonly sealer: Sealer;
  readonly locks: RefreshLocks;
  /** The providers whose accounts can be used here, each with its adapter factory. */
  readonly factories: ReadonlyMap<ProviderName, AccountApiFactory>;
  readonly flows: ReadonlyMap<ProviderName, OAuthFlow>;
  readonly envAccounts: ReadonlyMap<ProviderName, EnvAccount>;
  /** Production refuses to store or read accounts without GATEWAY_ENCRYPTION_KEY. */
  readonly requireKey: boolean;
  readonly refreshAheadMs: number;
  readonly logger: Logger;
  /** How long the list of stored accounts is reused before the store is asked again. @default 2_000 (ms) */
  readonly snapshotMs?: number;
  readonly now?: () => number;
}

export interface AccountRegistry {
  /** The environment's accounts first, then the stored ones, oldest first. */
  list(provider?: ProviderName | null): Promise<readonly Account[]>;
  get(provider: ProviderName, id: AccountId): Promise<Account | null>;
  /** Like list, from the snapshot of stored accounts (at most `snapshotMs` old): for every webhook delivery. */
  recent(provider: ProviderName): Promise<readonly Account[]>;
  /** The provider's default account: the environment's, or the only stored one; throws PROVIDER_NOT_CONFIGURED or BAD_USER_INPUT (naming `account`) when there is none or several. */
  defaultAccountId(provider: ProviderName): Promise<AccountId>;
  /** The adapter of the provider's default account (see defaultAccountId). */
  defaultApi(provider: ProviderName): Promise<AccountApi>;
  /** The adapter of one account (what `account:` arguments and ids naming an account use); NOT_FOUND when unknown. */
  apiFor(provider: ProviderName, id: AccountId): Promise<AccountApi>;
  /** Stores the account (replacing the one of the same organization, location or app) and returns it. */
  connect(account: NewAccount): Promise<Account>;
  /** False when there is no such stored account. */
  disconnect(provider: ProviderName, id: AccountId): Promise<boolean>;
  /** Start-up check: production with stored accounts needs the encryption key. Store outages are only logged. */
  check(): Promise<void>;
  close(): Promise<void>;
}

interface Live {
  account: StoredAccount;
  api: AccountApi | null;
}

const SNAPSHOT_MS = 2_000;

const ENV_VARIABLES: Readonly<Record<ProviderName, string>> = {
  PODIUM: 'PODIUM_ACCESS_TOKEN or PODIUM_REFRESH_TOKEN',
  LEADCONNECTOR: 'LEADCONNECTOR_TOKEN and LEADCONNECTOR_LOCATION_ID',
  SMOOCH: 'SMOOCH_APP_ID, SMOOCH_KEY_ID and SMOOCH_SECRET',
};

export class EncryptionKeyRequiredError extends GraphQLError {
  constructor(what: string) {
    super(`GATEWAY_ENCRYPTION_KEY is required when NODE_ENV=production to ${what} (32 bytes, base64 or hex)`, {
      extensions: { code: ErrorCode.EncryptionKeyRequired },
    });
  }
}

export function createAccountRegistry(options: AccountRegistryOptions): AccountRegistry {
  const { store, sealer, logger } = options;
  const now = options.now ?? Date.now;
  const snapshotMs = options.snapshotMs ?? SNAPSHOT_MS;
  const owner = randomUUID();
  const live = new Map<AccountId, Live>();
  let snapshot: { at: number; pending: Promise<readonly StoredAccount[]> } | null = null;

  function requireKey(what: string): void {
    if (options.requireKey) throw new EncryptionKeyRequiredError(what);
  }

  /** Decrypts a document; one that cannot be decrypted is shown as needing reconnection, with why. */
  function decode(doc: AccountDocument): StoredAccount {
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

  async function storedAccounts(fresh: boolean): Promise<readonly StoredAccount[]> {
    if (fresh || !snapshot || now() - snapshot.at > snapshotMs) {
      const pending = (async () => {
        const docs = await store.list();
        if (docs.length > 0) requireKey(`read the ${docs.length} stored accounts`);
        const accounts = docs.map((d) => remember(decode(d)));
        const ids = new Set(accounts.map((a) => a.id));
        for (const id of live.keys()) if (!ids.has(id)) live.delete(id);
        return accounts;
      })();
      snapshot = { at: now(), pending };
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
        return remember(decode(doc));
      },
      async persist(fromVersion, credentials) {
        const ok = await store.replaceCredentials(id, fromVersion, sealer.seal(credentials, id));
        if (!ok) return null;
        const updated: StoredAccount = { ...current(), credentials, version: fromVersion + 1, status: 'ACTIVE', lastError: null };
        return remember(updated);
      },
      async markNeedsReconnection(reason) {
        const account = current();
        logger.warn({ provider: account.provider, account: id, reason }, 'account needs reconnection');
        await store.setStatus(id, 'NEEDS_RECONNECTION', reason);
        const entry = live.get(id);
        if (entry) entry.account = { ...entry.account, status: 'NEEDS_RECONNECTION', lastError: reason };
      },
    };
  }

  function build(account: StoredAccount): AccountApi {
    const factory = options.factories.get(account.provider);
    if (!factory) {
      throw new ProviderError(account.provider, 'NOT_CONFIGURED', `${PROVIDER_LABELS[account.provider]} is not configured on this gateway, so its stored accounts cannot be used`);
    }
    const auth =
      account.credentials.kind === 'oauth'
        ? accountTokenSource(handleFor(account.id, account.provider), {
            flow: options.flows.get(account.provider) ?? null,
            locks: options.locks,
            owner,
            refreshAheadMs: options.refreshAheadMs,
            onRefresh: (a) => logger.info({ provider: a.provider, account: a.id, version: a.version }, 'account token renewed'),
          })
        : null;
    return factory(account, auth);
  }

  async function apiOf(account: StoredAccount): Promise<AccountApi> {
    remember(account);
    const entry = live.get(account.id) as Live;
    entry.api ??= build(entry.account);
    return entry.api;
  }

  function view(account: Account): Account {
    const { id, provider, name, scope, status, lastError, source, connectedAt } = account;
    return { id, provider, name, scope, status, lastError, source, connectedAt };
  }

  /** The environment's account, else the only stored one; with none or several, the errors say what to do. */
  async function defaultAccountId(provider: ProviderName): Promise<AccountId> {
    const env = options.envAccounts.get(provider);
    if (env) return env.account.id;
    const stored = (await storedAccounts(false)).filter((a) => a.provider === provider);
    const label = PROVIDER_LABELS[provider];
    if (stored.length === 0) {
      const vars = ENV_VARIABLES[provider];
      const connect =
        provider === 'SMOOCH' ? 'connect an app with connectSmoochAccount' : options.flows.has(provider) ? 'connect one by OAuth (oauthStartUrl)' : null;
      throw new ProviderError(provider, 'NOT_CONFIGURED', `${provider} has no API credentials on this gateway (set ${vars}${connect ? `, or ${connect}` : ''}); only its webhooks are received`);
    }
    if (stored.length > 1) {
      throw userInputError(
        `${stored.length} ${label} accounts are connected and none is set by environment variables, so the argument "account" is required: pass one of the ids of accounts(provider: ${provider}) (ids issued for an account already name it)`,
        { provider, argumentName: 'account', accounts: stored.length },
      );
    }
    return (stored[0] as StoredAccount).id;
  }

  const envList = (provider?: ProviderName | null): Account[] =>
    [...options.envAccounts.entries()].filter(([name]) => !provider || name === provider).map(([, env]) => env.account);

  return {
    async list(provider) {
      const stored = await storedAccounts(true);
      return [...envList(provider), ...stored.filter((a) => !provider || a.provider === provider)].map(view);
    },
    async recent(provider) {
      const stored = await storedAccounts(false);
      return [...envList(provider), ...stored.filter((a) => a.provider === provider)].map(view);
    },
    async get(provider, id) {
      const env = options.envAccounts.get(provider);
      if (env && env.account.id === id) return view(env.account);
      const stored = (await storedAccounts(true)).find((a) => a.id === id && a.provider === provider);
      return stored ? view(stored) : null;
    },
    defaultAccountId,
    async defaultApi(provider) {
      const id = await defaultAccountId(provider);
      const env = options.envAccounts.get(provider);
      if (env && env.account.id === id) return env.api;
      return apiOf((await storedAccounts(false)).find((a) => a.id === id) as StoredAccount);
    },
    async apiFor(provider, id) {
      const env = options.envAccounts.get(provider);
      if (env && env.account.id === id) return env.api;
      const account = (await storedAccounts(false)).find((a) => a.id === id && a.provider === provider) ?? (await storedAccounts(true)).find((a) => a.id === id && a.provider === provider);
      if (!account) throw new ProviderError(provider, 'NOT_FOUND', `No ${PROVIDER_LABELS[provider]} account ${id}`);
      return apiOf(account);
    },
    async connect(account) {
      requireKey('store account credentials');
      const doc = await store.upsert(
        { provider: account.provider, name: account.name, scope: account.scope, scopeKey: scopeKey(account.scope) },
        (id) => sealer.seal(account.credentials, id),
      );
      snapshot = null;
      const stored = decode(doc);
      const entry = live.get(stored.id);
      // Reconnected: new credentials (and so a new token source state) from now on.
      if (entry) live.delete(stored.id);
      remember(stored);
      logger.info({ provider: stored.provider, account: stored.id, version: stored.version }, 'account connected');
      return view(stored);
    },
    async disconnect(provider, id) {
      const env = options.envAccounts.get(provider);
      if (env && env.account.id === id) {
        throw userInputError(`The ${PROVIDER_LABELS[provider]} account "${env.account.name}" comes from environment variables: unset them to remove it`);
      }
      const existing = await store.get(id);
      if (!existing || existing.provider !== provider) return false;
      const deleted = await store.delete(id);
      live.delete(id);
      snapshot = null;
      return deleted;
    },
    async check() {
      let docs: readonly AccountDocument[];
      try {
        docs = await store.list();
      } catch (err) {
        logger.warn({ err }, 'accounts not checked at start-up: account store unreachable');
        return;
      }
      if (docs.length > 0 && options.requireKey) {
        throw new Error(`GATEWAY_ENCRYPTION_KEY is required when NODE_ENV=production: the store holds ${docs.length} accounts with encrypted credentials`);
      }
      if (docs.length > 0 && sealer.kid === 'dev') logger.warn('stored account credentials use the development key: set GATEWAY_ENCRYPTION_KEY before going to production');
    },
    async close() {
      await Promise.allSettled([store.close(), options.locks.close()]);
    },
  };
}
