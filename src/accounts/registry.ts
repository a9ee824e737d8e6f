// The accounts of every provider: the environment's (one per provider, from
// config, never stored) and the stored ones (live.ts), with an adapter per
// account built on first use. Ids and `account:` arguments name the account
// (apiFor); without one, the provider's default account answers: the
// environment's, or the only stored one (defaultAccountId).
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, ProviderError, userInputError } from '../errors.js';
import type { ProviderName } from '../model.js';
import type { UpstreamAuth } from '../providers/http.js';
import { PROVIDER_LABELS } from '../providers/labels.js';
import { descriptorOf } from '../providers/index.js';
import type { ProviderApi } from '../providers/provider.js';
import type { Sealer } from './crypto.js';
import { createLiveAccounts } from './live.js';
import type { RefreshLocks } from './locks.js';
import { scopeKey } from './scope.js';
import type { AccountDocument, AccountStore } from './store/types.js';
import { accountTokenSource, type AccountHandle } from './token-source.js';
import type { Account, AccountId, NewAccount, OAuthFlow, StoredAccount } from './types.js';

/** What an account's adapter serves: the API, without the (per-provider) webhook receiver. */
export type AccountApi = ProviderApi;

/** Builds the adapter of a stored account; `auth` is set for OAuth accounts, null for API keys. */
export type AccountApiFactory = (account: StoredAccount, auth: UpstreamAuth | null) => AccountApi;

export interface EnvAccount {
  readonly account: Account;
  readonly api: AccountApi;
  /** The provider's own name of the account (organization, location, app), read once when first listed. */
  readonly displayName?: () => Promise<string | null>;
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

const SNAPSHOT_MS = 2_000;

export class EncryptionKeyRequiredError extends GraphQLError {
  constructor(what: string) {
    super(`GATEWAY_ENCRYPTION_KEY is required when NODE_ENV=production to ${what} (32 bytes, base64 or hex)`, {
      extensions: { code: ErrorCode.EncryptionKeyRequired },
    });
  }
}

export function createAccountRegistry(options: AccountRegistryOptions): AccountRegistry {
  const { store, logger } = options;
  const owner = randomUUID();
  const requireKey = (what: string): void => {
    if (options.requireKey) throw new EncryptionKeyRequiredError(what);
  };
  const live = createLiveAccounts({
    store,
    sealer: options.sealer,
    logger,
    snapshotMs: options.snapshotMs ?? SNAPSHOT_MS,
    now: options.now ?? Date.now,
    requireKey,
    build: (account) => build(options, owner, live.handleFor(account.id, account.provider), account),
  });
  const names = environmentNames(options.envAccounts, logger);
  const defaultAccountId = defaultAccountOf(options, live.stored);

  const envList = async (provider?: ProviderName | null): Promise<Account[]> =>
    Promise.all([...options.envAccounts.keys()].filter((name) => !provider || name === provider).map((name) => names.view(name)));
  const envOf = (provider: ProviderName, id: AccountId): EnvAccount | null => {
    const env = options.envAccounts.get(provider);
    return env && env.account.id === id ? env : null;
  };

  return {
    async list(provider) {
      const stored = await live.stored(true);
      return [...(await envList(provider)), ...stored.filter((a) => !provider || a.provider === provider).map(view)];
    },
    async recent(provider) {
      const stored = await live.stored(false);
      const env = options.envAccounts.get(provider);
      return [...(env ? [env.account] : []), ...stored.filter((a) => a.provider === provider)].map(view);
    },
    async get(provider, id) {
      if (envOf(provider, id)) return names.view(provider);
      const stored = (await live.stored(true)).find((a) => a.id === id && a.provider === provider);
      return stored ? view(stored) : null;
    },
    defaultAccountId,
    async apiFor(provider, id) {
      const env = envOf(provider, id);
      if (env) return env.api;
      const account = (await live.stored(false)).find((a) => a.id === id && a.provider === provider) ?? (await live.stored(true)).find((a) => a.id === id && a.provider === provider);
      if (!account) throw new ProviderError(provider, 'NOT_FOUND', `No ${PROVIDER_LABELS[provider]} account ${id}`);
      return live.apiOf(account);
    },
    async connect(account) {
      requireKey('store account credentials');
      const doc = await store.upsert(
        { provider: account.provider, name: account.name, scope: account.scope, scopeKey: scopeKey(account.scope) },
        (id) => options.sealer.seal(account.credentials, id),
      );
      const stored = live.connected(doc);
      logger.info({ provider: stored.provider, account: stored.id, version: stored.version }, 'account connected');
      return view(stored);
    },
    async disconnect(provider, id) {
      const env = envOf(provider, id);
      if (env) throw userInputError(`The ${PROVIDER_LABELS[provider]} account "${env.account.name}" comes from environment variables: unset them to remove it`);
      const existing = await store.get(id);
      if (!existing || existing.provider !== provider) return false;
      const deleted = await store.delete(id);
      live.forget(id);
      return deleted;
    },
    check: () => checkStore(store, options.requireKey, options.sealer, logger),
    async close() {
      await Promise.allSettled([store.close(), options.locks.close()]);
    },
  };
}

function view(account: Account): Account {
  const { id, provider, name, scope, status, lastError, source, connectedAt } = account;
  return { id, provider, name, scope, status, lastError, source, connectedAt };
}

/** A stored account's adapter, with the token source of its OAuth credentials. */
function build(options: AccountRegistryOptions, owner: string, handle: AccountHandle, account: StoredAccount): AccountApi {
  const factory = options.factories.get(account.provider);
  if (!factory) {
    throw new ProviderError(account.provider, 'NOT_CONFIGURED', `${PROVIDER_LABELS[account.provider]} is not configured on this gateway, so its stored accounts cannot be used`);
  }
  const auth =
    account.credentials.kind === 'oauth'
      ? accountTokenSource(handle, {
          flow: options.flows.get(account.provider) ?? null,
          locks: options.locks,
          owner,
          refreshAheadMs: options.refreshAheadMs,
          onRefresh: (a) => options.logger.info({ provider: a.provider, account: a.id, version: a.version }, 'account token renewed'),
        })
      : null;
  return factory(account, auth);
}

/** The environment's account, else the only stored one; with none or several, the errors say what to do. */
function defaultAccountOf(options: AccountRegistryOptions, stored: (fresh: boolean) => Promise<readonly StoredAccount[]>): (provider: ProviderName) => Promise<AccountId> {
  return async (provider) => {
    const env = options.envAccounts.get(provider);
    if (env) return env.account.id;
    const accounts = (await stored(false)).filter((a) => a.provider === provider);
    const label = PROVIDER_LABELS[provider];
    if (accounts.length === 0) {
      const descriptor = descriptorOf(provider);
      const connect = descriptor.keyConnect ? `connect one with ${descriptor.keyConnect.mutation}` : options.flows.has(provider) ? 'connect one by OAuth (oauthStartUrl)' : null;
      throw new ProviderError(provider, 'NOT_CONFIGURED', `${provider} has no API credentials on this gateway (set ${descriptor.apiVariables}${connect ? `, or ${connect}` : ''}); only its webhooks are received`);
    }
    if (accounts.length > 1) {
      throw userInputError(
        `${accounts.length} ${label} accounts are connected and none is set by environment variables, so the argument "account" is required: pass one of the ids of accounts(provider: ${provider}) (ids issued for an account already name it)`,
        { provider, argumentName: 'account', accounts: accounts.length },
      );
    }
    return (accounts[0] as StoredAccount).id;
  };
}

/** The environment's accounts as listed: named by the provider once it has answered, by their variables until then. */
function environmentNames(envAccounts: ReadonlyMap<ProviderName, EnvAccount>, logger: Logger): { view(provider: ProviderName): Promise<Account> } {
  const named = new Map<ProviderName, Promise<string | null>>();
  return {
    async view(provider) {
      const env = envAccounts.get(provider) as EnvAccount;
      if (!env.displayName) return view(env.account);
      let pending = named.get(provider);
      if (!pending) {
        pending = env.displayName().catch((err: unknown) => {
          // Asked again next time: the provider may answer then.
          named.delete(provider);
          logger.debug({ err, provider }, "the environment account's name could not be read");
          return null;
        });
        named.set(provider, pending);
      }
      const name = await pending;
      return view(name ? { ...env.account, name } : env.account);
    },
  };
}

/** Start-up check: production with stored accounts needs the encryption key. Store outages are only logged. */
async function checkStore(store: AccountStore, requireKey: boolean, sealer: Sealer, logger: Logger): Promise<void> {
  let docs: readonly AccountDocument[];
  try {
    docs = await store.list();
  } catch (err) {
    logger.warn({ err }, 'accounts not checked at start-up: account store unreachable');
    return;
  }
  if (docs.length > 0 && requireKey) {
    throw new Error(`GATEWAY_ENCRYPTION_KEY is required when NODE_ENV=production: the store holds ${docs.length} accounts with encrypted credentials`);
  }
  if (docs.length > 0 && sealer.kid === 'dev') logger.warn('stored account credentials use the development key: set GATEWAY_ENCRYPTION_KEY before going to production');
}
