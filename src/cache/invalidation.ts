// The cache-invalidation policy of stored webhook events, an after-stored hook
// of the event pipeline (events/persist.ts): it runs before the provider gets
// its 200, so a query that starts after the answer never sees data older than
// the webhook. A delivery routed to an account changes that account's entries
// only; one routed to none is the environment's account's, or (without one) may
// be any stored account's.
import type { AccountsService } from '../accounts/index.js';
import type { AfterStoredHook } from '../events/persist.js';
import type { ProviderName } from '../model.js';
import type { GatewayCache } from './index.js';
import { touchedBy } from './touched.js';

/** The accounts a gateway knows of a provider, as far as invalidation needs them. */
export interface KnownAccounts {
  recent(provider: ProviderName): Promise<readonly { readonly id: string; readonly source: string }[]>;
}

/** The after-stored hook that invalidates what a batch of stored events touched. */
export function invalidateOnStored(cache: Pick<GatewayCache, 'noteDelivery' | 'invalidate'>, accounts: KnownAccounts): AfterStoredHook {
  /** Whose entries a delivery routed to no account may have changed: the environment's (null), else every stored account's. */
  async function unroutedAccounts(provider: ProviderName): Promise<(string | null)[]> {
    const known = await accounts.recent(provider);
    return known.some((a) => a.source === 'environment') ? [null] : known.map((a) => a.id);
  }

  return async ({ provider, events }) => {
    if (events.length === 0) return;
    cache.noteDelivery(provider);
    const account = events[0]?.account ?? null;
    const targets = account ? [account] : await unroutedAccounts(provider);
    const touched = touchedBy(provider, events);
    await Promise.all(targets.map((a) => cache.invalidate(provider, touched, 'webhook', a)));
  };
}

/**
 * The accounts service whose disconnection of an account drops that account's
 * cached entries (and so every response-cache answer built from them) before it
 * returns, on every instance sharing the cache: a removed account's data is no
 * longer served from the cache.
 */
export function dropCacheOnDisconnect(service: AccountsService, cache: Pick<GatewayCache, 'invalidate'>): AccountsService {
  const { registry } = service;
  return {
    ...service,
    registry: {
      ...registry,
      async disconnect(provider, id) {
        const removed = await registry.disconnect(provider, id);
        if (removed) await cache.invalidate(provider, { account: true }, 'disconnect', id);
        return removed;
      },
    },
  };
}
