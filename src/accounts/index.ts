// Builds the accounts part of the gateway from the config and the provider
// registry (providers/index.ts): the sealer, the accounts store and refresh
// locks, each provider's OAuth flow, API factory and receiver, the
// environment's accounts (served by the same token source as stored ones), the
// registry, the OAuth connector, and the providers the rest of the gateway
// sees (per account, and each provider's default).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';
import { userInputError } from '../errors.js';
import type { ProviderName } from '../model.js';
import { configOf, descriptorOf, PROVIDER_DESCRIPTORS, type AnyDescriptor } from '../providers/index.js';
import type { Provider, ProviderDeps, WebhookReceiver } from '../providers/provider.js';
import { createApiKeys, type ApiKeys } from './api-keys.js';
import { createOAuthConnector, type OAuthConnector } from './connect.js';
import { createSealer } from './crypto.js';
import { environmentAuth, type EnvironmentPersistence } from './environment.js';
import { redisLocks, storeLocks, type RefreshLocks } from './locks.js';
import { createAccountRegistry, type AccountApiFactory, type AccountRegistry, type EnvAccount } from './registry.js';
import { createAccountProviders, type AccountProviders, type AccountProvidersOptions } from './routing.js';
import { createTokenSigner } from './signed-token.js';
import { createAccountStore, type AccountStore } from './store/index.js';
import { ENV_ACCOUNT_ID, type Account, type OAuthFlow } from './types.js';

export interface AccountsService {
  readonly registry: AccountRegistry;
  readonly connector: OAuthConnector;
  /** Keys created at run time, possibly scoped to accounts. */
  readonly keys: ApiKeys;
  /**
   * Checks an API key with its provider (BAD_USER_INPUT when refused), then
   * stores the account (the provider's keyConnect mutation).
   */
  connectWithKey(provider: ProviderName, input: Readonly<Record<string, unknown>>): Promise<Account>;
}

export interface Accounts {
  readonly service: AccountsService;
  /** The providers the gateway serves, each answering from its default account. */
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  /** The providers per account (what ids naming an account and `account:` arguments use). */
  readonly routes: AccountProviders;
  close(): Promise<void>;
}

export interface AccountsDeps {
  readonly logger: Logger;
  readonly providerDeps: ProviderDeps;
  /** Adapters that replace the environment's accounts' APIs and the receivers (tests). @default built from the config */
  readonly envProviders?: ReadonlyMap<ProviderName, Provider>;
  readonly store?: AccountStore;
  /** The gateway's shared clients (infra/shared.ts): the accounts store and the refresh locks use them. @default clients of their own */
  readonly clients?: { readonly db: Db | null; readonly redis: Redis | null };
  /** Puts the cross-request cache in front of each account's Provider. @default none */
  readonly wrap?: AccountProvidersOptions['wrap'];
}

/** What the accounts need of each provider, built once from its descriptor and config. */
interface Parts {
  readonly flows: Map<ProviderName, OAuthFlow>;
  readonly factories: Map<ProviderName, AccountApiFactory>;
  readonly envAccounts: Map<ProviderName, EnvAccount>;
  readonly receivers: Map<ProviderName, WebhookReceiver>;
}

interface PartsContext {
  readonly config: GatewayConfig;
  readonly deps: AccountsDeps;
  readonly locks: RefreshLocks;
  readonly owner: string;
  /** Where the environment's renewed tokens are kept; null: in this process. */
  readonly persistence: EnvironmentPersistence | null;
}

function providerParts(context: PartsContext): Parts {
  const parts: Parts = { flows: new Map(), factories: new Map(), envAccounts: new Map(), receivers: new Map() };
  for (const descriptor of PROVIDER_DESCRIPTORS as readonly AnyDescriptor[]) addProvider(parts, descriptor, context);
  return parts;
}

function addProvider(parts: Parts, descriptor: AnyDescriptor, { config, deps, locks, owner, persistence }: PartsContext): void {
  const { name } = descriptor;
  const own = configOf(config, descriptor);
  const providerDeps = deps.providerDeps;
  const app = descriptor.oauth?.app(own) ?? null;
  if (descriptor.oauth && app) parts.flows.set(name, descriptor.oauth.flow(app, providerDeps));
  parts.factories.set(name, (account, auth) => descriptor.api({ ...account, auth, identity: `account:${account.id}` }, own, providerDeps));
  const given = deps.envProviders?.get(name);
  const receiver = given?.receiver ?? descriptor.webhook.receiver(own, providerDeps);
  if (receiver) parts.receivers.set(name, receiver);
  const env = descriptor.environment(own);
  if (!env) return;
  const auth = environmentAuth(descriptor, env, providerDeps, {
    locks,
    owner,
    persistence,
    refreshAheadMs: config.accounts.refreshAheadMs,
    onRefresh: () => deps.logger.info({ provider: name }, 'environment token renewed'),
  });
  const apiAccount = { id: ENV_ACCOUNT_ID, scope: env.scope, credentials: env.credentials, auth, identity: env.identity };
  const account: Account = { id: ENV_ACCOUNT_ID, provider: name, name: env.fallbackName, scope: env.scope, status: 'ACTIVE', lastError: null, source: 'environment', connectedAt: null };
  const displayName = descriptor.displayName;
  parts.envAccounts.set(name, {
    account,
    api: given ?? descriptor.api(apiAccount, own, providerDeps),
    ...(displayName ? { displayName: () => displayName(apiAccount, own, providerDeps) } : {}),
  });
}

export function createAccounts(config: GatewayConfig, deps: AccountsDeps): Accounts {
  const { logger } = deps;
  const production = config.env === 'production';
  const key = config.accounts.encryptionKey;
  const sealer = createSealer(key);
  const store = deps.store ?? createAccountStore(config, deps.clients?.db ?? null);
  const locks = config.redisUrl ? redisLocks(deps.clients?.redis ?? config.redisUrl, config.cache.prefix) : storeLocks(store);
  // Production without the encryption key keeps the environment's renewed tokens in process, as it stores no account.
  const persistence = production && key === null ? null : { store, sealer, logger };
  const { flows, factories, envAccounts, receivers } = providerParts({ config, deps, locks, owner: randomUUID(), persistence });

  const registry = createAccountRegistry({
    store,
    sealer,
    locks,
    factories,
    flows,
    envAccounts,
    requireKey: production && key === null,
    refreshAheadMs: config.accounts.refreshAheadMs,
    logger,
  });
  if (key === null && !production) logger.debug('GATEWAY_ENCRYPTION_KEY unset: stored account credentials use the development key');

  const connector = createOAuthConnector({
    flows,
    registry,
    signer: createTokenSigner(sealer.derive('oauth')),
    publicUrl: config.publicUrl,
    requireGrant: config.apiKeys.size > 0,
    logger,
  });

  // The environment's own adapter answers where there is one; a provider with none answers from its stored accounts.
  const served = new Map<ProviderName, { env: Provider | null; receiver: WebhookReceiver; eventTypes: readonly string[] }>();
  for (const [name, receiver] of receivers) {
    const env = envAccounts.get(name);
    served.set(name, { env: env ? { ...env.api, receiver } : null, receiver, eventTypes: descriptorOf(name).eventTypes });
  }
  const routes = createAccountProviders({ registry, served, wrap: deps.wrap });

  async function connectWithKey(provider: ProviderName, input: Readonly<Record<string, unknown>>): Promise<Account> {
    const descriptor = descriptorOf(provider);
    if (!descriptor.keyConnect) throw userInputError(`${provider} accounts are not connected with an API key`);
    const apiUrl = config.accounts.connectApiUrls[provider] ?? '';
    const account = await descriptor.keyConnect.check(input, { config: configOf(config, descriptor), production, apiUrl, deps: deps.providerDeps });
    return registry.connect(account);
  }

  return {
    service: {
      registry,
      connector,
      keys: createApiKeys(store, { onError: (err, keyId) => logger.warn({ err, keyId }, 'API key use not recorded: accounts store unreachable') }),
      connectWithKey,
    },
    providers: routes.defaults,
    routes,
    close: () => registry.close(),
  };
}
