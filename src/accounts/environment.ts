// The environment's account of a provider: credentials from the config, served
// like a stored account's, by the one token source (token-source.ts). Its
// renewed tokens live in this process: the variables stay the source of truth
// at the next start.
import type { ProviderName } from '../model.js';
import type { UpstreamAuth } from '../providers/http.js';
import type { EnvironmentAccount, ProviderDeps, ProviderDescriptor, ScopeBase } from '../providers/provider.js';
import type { RefreshLocks } from './locks.js';
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

export interface EnvironmentAuthOptions extends Pick<TokenSourceOptions, 'refreshAheadMs' | 'onRefresh'> {
  readonly locks: RefreshLocks;
  readonly owner: string;
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
  const handle = environmentHandle(descriptor.name, env.fallbackName, env.scope as AccountScope | null, env.credentials);
  return accountTokenSource(handle, { ...options, flow, environment: { tokenUrl: env.tokenUrl } });
}
