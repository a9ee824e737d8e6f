// Stored webhook secrets as the ingest verifies against them: cached for a few
// seconds (every delivery would otherwise read the store), re-read once when a
// delivery fails verification against the cached set, and, while a webhook is
// being created on this instance, held until the creation has stored its
// secret: a Smooch delivery can arrive before the createWebhook mutation has
// saved the secret, and Smooch never retries a 401.
import type { ProviderName, WebhookRecord } from '../model.js';
import type { WebhookMirror } from './types.js';

/** Webhook creations in progress on this gateway: the resolvers begin them, the ingest waits for them. */
export interface WebhookCreations {
  /**
   * Marks a webhook creation for `provider` as in progress until the returned
   * function is called (after its secret is stored, or on failure).
   */
  begin(provider: ProviderName): () => void;
  /** The creations of `provider` in progress, each resolving when it ends. */
  pending(provider: ProviderName): readonly Promise<void>[];
}

export function createWebhookCreations(): WebhookCreations {
  const creations = new Map<ProviderName, Set<Promise<void>>>();
  return {
    begin(provider) {
      let set = creations.get(provider);
      if (!set) creations.set(provider, (set = new Set()));
      let end: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (end = resolve));
      set.add(done);
      return () => {
        set.delete(done);
        end();
      };
    },
    pending: (provider) => [...(creations.get(provider) ?? [])],
  };
}

export interface StoredSecrets {
  /** The secrets, from the cache when it is fresh. */
  get(provider: ProviderName, only?: WebhookOwner): Promise<readonly string[]>;
  /** Whether get() would answer from the cache. */
  cached(provider: ProviderName): boolean;
  /**
   * After a failed verification: waits (bounded) for creations in progress,
   * then re-reads the store unless it was read a moment ago. Resolves with the
   * fresh secrets, or null when nothing could have changed.
   */
  refresh(provider: ProviderName, usedCache: boolean, only?: WebhookOwner): Promise<readonly string[] | null>;
  invalidate(provider: ProviderName): void;
}

/**
 * Which mirrored webhooks count: those of the account a delivery was routed to
 * (when that account has any with a secret; else all of the provider's, as
 * before accounts, since its webhook may have been made outside the gateway).
 */
export type WebhookOwner = (webhook: WebhookRecord) => boolean;

function secretsOf(hooks: readonly WebhookRecord[], only: WebhookOwner | undefined): readonly string[] {
  const withSecret = hooks.filter((h): h is WebhookRecord & { secret: string } => typeof h.secret === 'string' && h.secret.length > 0);
  const owned = only ? withSecret.filter(only) : [];
  return (owned.length > 0 ? owned : withSecret).map((h) => h.secret);
}

export interface StoredSecretsOptions {
  /** Creations a failed verification waits for. @default none of this gateway's */
  readonly creations?: WebhookCreations;
  /** How long secrets are reused. @default 5_000 (ms) */
  readonly ttlMs?: number;
  /** How long a failed verification waits for a webhook creation in progress. @default 5_000 (ms) */
  readonly creationWaitMs?: number;
}

export function createStoredSecrets(mirror: WebhookMirror, options: StoredSecretsOptions = {}): StoredSecrets {
  const creations = options.creations ?? createWebhookCreations();
  const ttlMs = options.ttlMs ?? 5_000;
  const creationWaitMs = options.creationWaitMs ?? 5_000;
  const cache = new Map<ProviderName, { at: number; secrets: Promise<readonly WebhookRecord[]> }>();
  /** Re-reads in flight: concurrent failed verifications (a flood of bad keys) share one read. */
  const rereads = new Map<ProviderName, Promise<readonly WebhookRecord[]>>();

  const read = (provider: ProviderName): Promise<readonly WebhookRecord[]> => {
    const secrets = mirror.listWebhooks(provider);
    cache.set(provider, { at: Date.now(), secrets });
    secrets.catch(() => cache.delete(provider));
    return secrets;
  };

  return {
    async get(provider, only) {
      const cached = cache.get(provider);
      return secretsOf(await (cached && Date.now() - cached.at < ttlMs ? cached.secrets : read(provider)), only);
    },
    cached(provider) {
      const cached = cache.get(provider);
      return cached !== undefined && Date.now() - cached.at < ttlMs;
    },
    async refresh(provider, usedCache, only) {
      const pending = creations.pending(provider);
      if (pending.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, creationWaitMs)));
        await Promise.race([Promise.all(pending), bound]).finally(() => clearTimeout(timer));
      } else if (!usedCache) {
        return null;
      }
      let reread = rereads.get(provider);
      if (!reread) {
        reread = read(provider).finally(() => rereads.delete(provider));
        rereads.set(provider, reread);
      }
      return secretsOf(await reread, only);
    },
    invalidate(provider) {
      cache.delete(provider);
    },
  };
}
