// What every resolver receives. Built per HTTP request and per graphql-ws
// operation (whose loaders are renewed for every event it delivers).
import type { Logger } from 'pino';
import type { AccountsService } from './accounts/index.js';
import type { AccountProviders } from './accounts/routing.js';
import type { Role } from './config.js';
import type { ReplayFn } from './events/replay.js';
import type { EventStore, PubSub } from './events/types.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { ProviderName } from './model.js';
import type { Provider } from './providers/provider.js';
import type { GatewayMetrics } from './metrics.js';

export interface GatewayContext {
  /** null when no valid key was presented (and keys are required). */
  readonly role: Role | null;
  /** Each provider as its default account serves it. */
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  /** Each provider as one account serves it (ids naming an account, `account:` arguments). */
  readonly accountProviders: AccountProviders;
  loaders: Loaders;
  readonly store: EventStore;
  readonly pubsub: PubSub;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Tells the ingest pipeline a provider's webhook secrets changed. */
  readonly onWebhooksChanged: (provider: ProviderName) => void;
  /** Re-runs a stored event through the ingest pipeline (`replayEvent`). */
  readonly replay: ReplayFn;
  /** Outside production, webhook URLs may be plain http on localhost (sandbox, tests). */
  readonly allowLocalHttpWebhooks: boolean;
  /** Stored and environment accounts, and connecting them. */
  readonly accounts: AccountsService;
}

export type ContextDeps = Omit<GatewayContext, 'role' | 'loaders'>;

/** One context per HTTP request and per graphql-ws operation, with fresh loaders. */
export function createContextFactory(deps: ContextDeps): (role: Role | null) => GatewayContext {
  return (role) => ({ ...deps, role, loaders: createLoaders((name, account) => deps.accountProviders.forAccount(name, account)) });
}
