// The access token of an OAuth account, the environment's or a stored one, as
// the shared upstream client's auth (providers/http.ts): refreshed ahead of
// expiry and after a 401, one refresh at a time across every instance, and
// persisted before it is used.
//
// Why so careful: a HighLevel refresh token is single-use. Two instances that
// both spend it leave one of them with a token HighLevel no longer accepts, and
// a new token kept only in memory is gone after a restart. So a refresh
//  1. reads the account: if its version moved, someone already renewed;
//  2. takes the lock `refresh:<account>:<version>` (Redis or the store);
//  3. reads again (the holder before us may just have finished), spends the
//     refresh token, writes the new tokens at version+1, and only then uses them.
// Waiters poll the account until its version moves, the account needs
// reconnection, or the lock frees up for them.
import { ProviderError } from '../errors.js';
import type { ProviderName } from '../model.js';
import type { UpstreamAuth } from '../providers/http.js';
import { PROVIDER_LABELS } from '../providers/labels.js';
import type { RefreshLocks } from './locks.js';
import { GrantRejectedError, type OAuthCredentials, type OAuthFlow, type TokenAccount, type TokenSet } from './types.js';

/** The registry's side of one account: its current state and how to change it. */
export interface AccountHandle {
  current(): TokenAccount;
  /** The account as persisted, also made current; throws when it was disconnected. */
  reload(): Promise<TokenAccount>;
  /** Writes the credentials at version `fromVersion + 1`; null when the persisted version is no longer `fromVersion`. */
  persist(fromVersion: number, credentials: OAuthCredentials): Promise<TokenAccount | null>;
  markNeedsReconnection(reason: string): Promise<void>;
}

export interface TokenSourceOptions {
  /** null: the OAuth app is not configured, so the token cannot be renewed. */
  readonly flow: OAuthFlow | null;
  readonly locks: RefreshLocks;
  /** Who holds a lock (this instance). */
  readonly owner: string;
  /**
   * The environment's account: without a refresh token or app its 401s stand
   * (nothing to reconnect), and a refused renewal is UNAUTHORIZED naming the
   * token endpoint in the logs. @default a stored account
   */
  readonly environment?: { readonly tokenUrl: string | null };
  /** @default 300_000 (5 minutes) */
  readonly refreshAheadMs?: number;
  /** How long a refresh may hold the lock; a holder that died frees it after this. @default 30_000 (30 seconds) */
  readonly lockTtlMs?: number;
  /** How often a waiter looks at the persisted account. @default 100 (ms) */
  readonly pollMs?: number;
  readonly now?: () => number;
  readonly onRefresh?: (account: TokenAccount) => void;
}

export function needsReconnection(provider: ProviderName, account: { readonly name: string; readonly lastError: string | null }): ProviderError {
  return new ProviderError(
    provider,
    'NEEDS_RECONNECTION',
    `The ${PROVIDER_LABELS[provider]} account "${account.name}" needs reconnecting: ${account.lastError ?? 'its credentials were refused'}`,
  );
}

function oauth(account: TokenAccount): OAuthCredentials {
  if (account.credentials.kind !== 'oauth') throw new Error(`account ${account.id} has no OAuth credentials`);
  return account.credentials;
}

function checkUsable(account: TokenAccount): void {
  if (account.status === 'NEEDS_RECONNECTION') throw needsReconnection(account.provider, account);
}

const bearer = (account: TokenAccount): string | undefined => {
  const token = oauth(account).accessToken;
  return token ? `Bearer ${token}` : undefined;
};

/** Renews the token of one account: one renewal per process at a time, and one per version across instances. */
function createRenewal(handle: AccountHandle, options: TokenSourceOptions): { renew(from: number): Promise<void>; saveUnsaved(): Promise<void> } {
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const pollMs = options.pollMs ?? 100;
  const now = options.now ?? Date.now;
  const label = (): string => PROVIDER_LABELS[handle.current().provider];
  let inflight: Promise<void> | null = null;
  /** Tokens that were renewed but not yet written: used only once they are. */
  let unsaved: { fromVersion: number; credentials: OAuthCredentials } | null = null;

  async function saveUnsaved(): Promise<void> {
    if (!unsaved) return;
    let saved: TokenAccount | null;
    try {
      saved = await handle.persist(unsaved.fromVersion, unsaved.credentials);
    } catch (err) {
      throw new ProviderError(handle.current().provider, 'UNAVAILABLE', `The renewed ${label()} token could not be saved yet (account store unreachable); retry shortly`, null, String(err));
    }
    // The version moved under us: the persisted tokens are newer than ours.
    if (!saved) await handle.reload();
    unsaved = null;
  }

  async function spend(account: TokenAccount): Promise<void> {
    const credentials = oauth(account);
    const tokens = await refreshed(account, credentials);
    // Podium may answer without a new refresh token: the old one stays good.
    const next: OAuthCredentials = { kind: 'oauth', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken ?? credentials.refreshToken, expiresAt: tokens.expiresAt };
    unsaved = { fromVersion: account.version, credentials: next };
    await saveUnsaved();
    options.onRefresh?.(handle.current());
  }

  async function refreshed(account: TokenAccount, credentials: OAuthCredentials): Promise<TokenSet> {
    if (!options.flow) {
      throw new ProviderError(account.provider, 'NOT_CONFIGURED', `The ${label()} OAuth app is not configured on this gateway, so the account's token cannot be renewed`);
    }
    if (!credentials.refreshToken) {
      const reason = `${label()} gave no refresh token, so the expired access token cannot be renewed`;
      await handle.markNeedsReconnection(reason);
      throw needsReconnection(account.provider, { name: account.name, lastError: reason });
    }
    try {
      return await options.flow.refresh(credentials.refreshToken, account.scope);
    } catch (err) {
      if (options.environment) throw environmentRefusal(account.provider, options.environment.tokenUrl, err);
      if (!(err instanceof GrantRejectedError)) throw err;
      await handle.markNeedsReconnection(err.message);
      throw needsReconnection(account.provider, { name: account.name, lastError: err.message });
    }
  }

  async function renew(from: number): Promise<void> {
    const current = handle.current();
    // The environment's ids are `env` in every provider: its lock names the provider too.
    const key = options.environment ? `refresh:${current.provider}:${current.id}:${from}` : `refresh:${current.id}:${from}`;
    const deadline = now() + lockTtlMs + 5_000;
    for (;;) {
      const stored = await handle.reload();
      if (stored.version !== from) return;
      checkUsable(stored);
      if (await options.locks.tryLock(key, options.owner, lockTtlMs)) {
        try {
          const locked = await handle.reload();
          if (locked.version !== from) return;
          checkUsable(locked);
          await spend(locked);
          return;
        } finally {
          await options.locks.unlock(key, options.owner).catch(() => undefined);
        }
      }
      if (now() > deadline) throw new ProviderError(stored.provider, 'UNAVAILABLE', `Renewing the ${label()} token took another instance too long; retry shortly`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  return {
    saveUnsaved,
    renew(from) {
      inflight ??= renew(from).finally(() => {
        inflight = null;
      });
      return inflight;
    },
  };
}

/** A refused renewal of the environment's token: the client learns only that; the endpoint and its answer are for the logs. */
function environmentRefusal(provider: ProviderName, tokenUrl: string | null, err: unknown): ProviderError {
  const cause = err instanceof ProviderError ? `${err.message}; ${err.detail ?? ''}` : err instanceof Error ? err.message : String(err);
  const label = PROVIDER_LABELS[provider];
  return new ProviderError(provider, 'UNAUTHORIZED', `${label} rejected the credentials and renewing the access token failed`, null, `token refresh at ${tokenUrl ?? '(unknown)'}: ${cause}`);
}

export function accountTokenSource(handle: AccountHandle, options: TokenSourceOptions): UpstreamAuth {
  const refreshAheadMs = options.refreshAheadMs ?? 300_000;
  const now = options.now ?? Date.now;
  const { renew, saveUnsaved } = createRenewal(handle, options);
  /** The environment's token without a way to renew it is used as it is: its 401s stand. */
  const renewable = (account: TokenAccount): boolean => !options.environment || (options.flow !== null && oauth(account).refreshToken !== null);

  return {
    async headers(): Promise<Record<string, string>> {
      await saveUnsaved();
      let account = handle.current();
      checkUsable(account);
      const { expiresAt } = oauth(account);
      if (expiresAt !== null && expiresAt - now() < refreshAheadMs && renewable(account)) {
        try {
          await renew(account.version);
        } catch (err) {
          // Still valid for a while: a failed early renewal is tried again on the next call.
          const stillValid = expiresAt > now() && !(err instanceof ProviderError && err.failure === 'NEEDS_RECONNECTION');
          if (!stillValid) throw err;
        }
        account = handle.current();
        checkUsable(account);
      }
      const authorization = bearer(account);
      return authorization ? { authorization } : {};
    },
    async refresh(sentHeaders) {
      const account = handle.current();
      // Sent with a token someone else's refresh already replaced: just retry with the new one.
      if (sentHeaders.authorization !== bearer(account)) return true;
      if (!renewable(account)) return false;
      await renew(account.version);
      return true;
    },
  };
}
