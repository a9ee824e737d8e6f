// What every resolver receives. Built per HTTP request and per graphql-ws
// operation (whose loaders are renewed for every event it delivers).
import type { Logger } from 'pino';
import type { AccountsService } from './accounts/index.js';
import { scopedAccountProviders, type AccountProviders } from './accounts/routing.js';
import type { AccountSet, Principal } from './auth.js';
import type { Role } from './config.js';
import type { LiveEvents } from './events/live-events.js';
import type { ReplayFn } from './events/replay.js';
import type { EventStore, PubSub } from './events/types.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { ProviderName } from './model.js';
import type { Provider } from './providers/provider.js';
import type { GatewayMetrics } from './metrics.js';
import type { Outbound } from './outbound/index.js';

export interface GatewayContext {
  /** The key's role; null when no valid key was presented (and keys are required). */
  readonly role: Role | null;
  /** Who presented which key; null like `role`. */
  readonly principal: Principal | null;
  /** The accounts the key reaches; null: every account. Everything the caller reads is filtered by it. */
  readonly scope: AccountSet | null;
  /** Each provider as its default account serves it. */
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  /** Each provider as one account serves it (ids naming an account, `account:` arguments), as far as `scope` reaches. */
  readonly accountProviders: AccountProviders;
  loaders: Loaders;
  readonly store: EventStore;
  readonly pubsub: PubSub;
  /** The gateway's live-event dedupe and catch-up, shared by its subscriptions. */
  readonly liveEvents: LiveEvents;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Tells the ingest pipeline a provider's webhook secrets changed. */
  readonly onWebhooksChanged: (provider: ProviderName) => void;
  /** Marks a webhook creation in progress until the returned function is called (the ingest waits for its secret). */
  readonly beginWebhookCreation: (provider: ProviderName) => () => void;
  /** Re-runs a stored event through the ingest pipeline (`replayEvent`). */
  readonly replay: ReplayFn;
  /** Outside production, webhook URLs may be plain http on localhost (sandbox, tests). */
  readonly allowLocalHttpWebhooks: boolean;
  /** Stored and environment accounts, and connecting them. */
  readonly accounts: AccountsService;
  /** Sending (sendMessage, outbound messages). */
  readonly outbound: Outbound;
}

export type ContextDeps = Omit<GatewayContext, 'role' | 'principal' | 'scope' | 'loaders'>;

/** One context per HTTP request and per graphql-ws operation, with fresh loaders. */
export function createContextFactory(deps: ContextDeps): (principal: Principal | null) => GatewayContext {
  return (principal) => {
    const scope = principal?.accounts ?? null;
    const accountProviders = scope ? scopedAccountProviders(deps.accountProviders, scope) : deps.accountProviders;
    return {
      ...deps,
      role: principal?.role ?? null,
      principal,
      scope,
      accountProviders,
      loaders: createLoaders((name, account) => accountProviders.forAccount(name, account)),
    };
  };
}
