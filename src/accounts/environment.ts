// The environment's account of a provider: credentials from the config, served
// like a stored account's, by the one token source (token-source.ts). Its
// renewed tokens are persisted where there is an accounts store (so every
// instance and the next start use them, as a HighLevel refresh token works
// once), for as long as the configured credentials are the ones they were
// renewed from; without a store they live in this process.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ProviderName } from '../model.js';
import type { UpstreamAuth } from '../providers/http.js';
import type { EnvironmentAccount, ProviderDeps, ProviderDescriptor, ScopeBase } from '../providers/provider.js';
import { DecryptError, type Sealer } from './crypto.js';
import type { RefreshLocks } from './locks.js';
import type { EnvironmentTokenStore } from './store/types.js';
import { accountTokenSource, type AccountHandle, type TokenSourceOptions } from './token-source.js';
import { ENV_ACCOUNT_ID, type AccountScope, type Credentials, type TokenAccount } from './types.js';

export function environmentHandle(provider: ProviderName, name: string, scope: AccountScope | null, credentials: Credentials): AccountHandle {
  let account: TokenAccount = { id: ENV_ACCOUNT_ID, provider, name, scope, status: 'ACTIVE', lastError: null, credentials, version: 0 };
  return {
    current: () => account,
    reload: async () => account,
    async persist(fromVersion, next) {
      if (account.version !== fromVersion) return null;
      account = { ...account, credentials: next, version: fromVersion + 1, status: 'ACTIVE', lastError: null };
      return account;
    },
    async markNeedsReconnection(reason) {
      account = { ...account, status: 'NEEDS_RECONNECTION', lastError: reason };
    },
  };
}

/** Where the environment's renewed tokens are kept, sealed. */
export interface EnvironmentPersistence {
  readonly store: EnvironmentTokenStore;
  readonly sealer: Sealer;
  readonly logger: Logger;
}

/**
 * Like environmentHandle, reading and writing the renewed tokens in the store.
 * A store that cannot be reached leaves the account working from what this
 * process holds: the environment's credentials never depended on the store.
 */
export function persistedEnvironmentHandle(base: AccountHandle, persistence: EnvironmentPersistence): AccountHandle {
  const { store, sealer, logger } = persistence;
  const { provider, credentials: configured } = base.current();
  const fingerprint = createHash('sha256').update(JSON.stringify(configured)).digest('base64url');
  const aad = `env:${provider}`;
  let account = base.current();
  const unreachable = (err: unknown, what: string): void => logger.warn({ err, provider }, `environment token ${what}: account store unreachable, using this process's copy`);
  return {
    current: () => account,
    async reload() {
      try {
        const doc = await store.getEnvironmentTokens(provider);
        if (doc && doc.fingerprint === fingerprint && doc.version > account.version) {
          account = { ...account, credentials: sealer.open<Credentials>(doc.credentials, aad), version: doc.version };
        }
      } catch (err) {
        if (err instanceof DecryptError) logger.warn({ err, provider }, 'stored environment token cannot be decrypted; using the configured one');
        else unreachable(err, 'not read');
      }
      return account;
    },
    async persist(fromVersion, next) {
      try {
        if (!(await store.replaceEnvironmentTokens(provider, fingerprint, fromVersion, sealer.seal(next, aad)))) return null;
      } catch (err) {
        unreachable(err, 'not saved');
      }
      account = { ...account, credentials: next, version: fromVersion + 1, status: 'ACTIVE', lastError: null };
      return account;
    },
    markNeedsReconnection: (reason) => base.markNeedsReconnection(reason),
  };
}

export interface EnvironmentAuthOptions extends Pick<TokenSourceOptions, 'refreshAheadMs' | 'onRefresh'> {
  readonly locks: RefreshLocks;
  readonly owner: string;
  /** @default in this process only */
  readonly persistence?: EnvironmentPersistence | null;
}

/** The token source of the environment's OAuth credentials; null for an API key (nothing to renew). */
export function environmentAuth<C, S extends ScopeBase>(
  descriptor: ProviderDescriptor<C, S>,
  env: EnvironmentAccount<S>,
  deps: Pick<ProviderDeps, 'upstream' | 'onCall'>,
  options: EnvironmentAuthOptions,
): UpstreamAuth | null {
  if (env.credentials.kind !== 'oauth') return null;
  const flow = env.oauthApp && descriptor.oauth ? descriptor.oauth.flow(env.oauthApp, deps) : null;
  const memory = environmentHandle(descriptor.name, env.fallbackName, env.scope as AccountScope | null, env.credentials);
  const handle = options.persistence ? persistedEnvironmentHandle(memory, options.persistence) : memory;
  const { persistence: _persistence, ...tokenOptions } = options;
  return accountTokenSource(handle, { ...tokenOptions, flow, environment: { tokenUrl: env.tokenUrl } });
}
