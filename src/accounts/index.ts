// Builds the accounts part of the gateway from the config: the sealer, the
// accounts store and refresh locks, the OAuth flows, one adapter factory per
// provider, the environment's accounts, the registry, the OAuth connector, and
// the providers the rest of the gateway sees (per account, and each provider's default).
import type { Logger } from 'pino';
import { defaults, type GatewayConfig } from '../config.js';
import { ProviderError, userInputError } from '../errors.js';
import type { ProviderName } from '../model.js';
import { createLeadConnectorOAuth } from '../providers/leadconnector/auth.js';
import { createLeadConnectorProvider } from '../providers/leadconnector/index.js';
import { LEADCONNECTOR_EVENT_TYPES } from '../providers/leadconnector/event-types.js';
import { createPodiumOAuth } from '../providers/podium/auth.js';
import { createPodiumProvider } from '../providers/podium/index.js';
import { PODIUM_EVENT_TYPES } from '../providers/podium/event-types.js';
import type { Provider, ProviderDeps } from '../providers/provider.js';
import { createSmoochProvider } from '../providers/smooch/index.js';
import { SMOOCH_EVENT_TYPES } from '../providers/smooch/event-types.js';
import { createApiKeys, type ApiKeys } from './api-keys.js';
import { createOAuthConnector, type OAuthConnector } from './connect.js';
import { createSealer } from './crypto.js';
import { redisLocks, storeLocks } from './locks.js';
import { createAccountRegistry, type AccountApi, type AccountApiFactory, type AccountRegistry, type EnvAccount } from './registry.js';
import { createAccountProviders, type AccountProviders, type AccountProvidersOptions } from './routing.js';
import { createTokenSigner } from './signed-token.js';
import { createAccountStore, type AccountStore } from './store/index.js';
import { ENV_ACCOUNT_ID, type Account, type OAuthFlow, type StoredAccount } from './types.js';
import { httpsUrlProblem } from '../urls.js';

export interface ConnectSmoochInput {
  readonly appId: string;
  readonly keyId: string;
  readonly secret: string;
  readonly name?: string | null;
  readonly apiUrl?: string | null;
}

export interface AccountsService {
  readonly registry: AccountRegistry;
  readonly connector: OAuthConnector;
  /** Keys created at run time, possibly scoped to accounts. */
  readonly keys: ApiKeys;
  /** Checks the key with Smooch (BAD_USER_INPUT when refused), then stores the app as an account. */
  connectSmooch(input: ConnectSmoochInput): Promise<Account>;
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
  /** The environment's providers (createProviders): their receivers, and their APIs as the environment's accounts. */
  readonly envProviders: ReadonlyMap<ProviderName, Provider>;
  readonly store?: AccountStore;
  /** Puts the cross-request cache in front of each account's Provider. @default none */
  readonly wrap?: AccountProvidersOptions['wrap'];
}

const SMOOCH_APP_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function createAccounts(config: GatewayConfig, deps: AccountsDeps): Accounts {
  const { logger, providerDeps } = deps;
  const production = config.env === 'production';
  const key = config.accounts.encryptionKey;
  const sealer = createSealer(key);
  const store = deps.store ?? createAccountStore(config);
  const locks = config.redisUrl ? redisLocks(config.redisUrl, config.cache.prefix) : storeLocks(store);

  const flows = new Map<ProviderName, OAuthFlow>();
  const podiumOAuth = config.podium?.oauth ?? null;
  const leadconnectorOAuth = config.leadconnector?.oauth ?? null;
  if (podiumOAuth) flows.set('PODIUM', createPodiumOAuth(podiumOAuth, providerDeps));
  if (leadconnectorOAuth) flows.set('LEADCONNECTOR', createLeadConnectorOAuth(leadconnectorOAuth, providerDeps));

  const apiOnly = (provider: Provider): AccountApi => {
    const { receiver: _receiver, ...api } = provider;
    return api;
  };
  const withAccount = (account: StoredAccount, auth: Parameters<AccountApiFactory>[1]): ProviderDeps => ({ ...providerDeps, ...(auth ? { account: { id: account.id, auth } } : {}) });
  const factories = new Map<ProviderName, AccountApiFactory>([
    [
      'PODIUM',
      (account, auth) =>
        apiOnly(
          createPodiumProvider(
            {
              api: {
                apiUrl: podiumOAuth?.apiUrl ?? config.podium?.api?.apiUrl ?? defaults.podiumApiUrl,
                accessToken: '',
                refreshToken: null,
                clientId: null,
                clientSecret: null,
                tokenUrl: podiumOAuth?.tokenUrl ?? defaults.podiumTokenUrl,
                requestsPerMinute: podiumOAuth?.requestsPerMinute ?? defaults.podiumRequestsPerMinute,
              },
              webhookSecret: null,
              webhookToleranceMs: defaults.webhookToleranceMs,
            },
            withAccount(account, auth),
          ),
        ),
    ],
    [
      'LEADCONNECTOR',
      (account, auth) => {
        const scope = account.scope.provider === 'LEADCONNECTOR' ? account.scope : null;
        return apiOnly(
          createLeadConnectorProvider(
            {
              api: {
                apiUrl: leadconnectorOAuth?.apiUrl ?? config.leadconnector?.api?.apiUrl ?? defaults.leadconnectorApiUrl,
                token: '',
                locationId: scope?.locationId ?? '',
                companyId: scope?.companyId ?? null,
                requestsPer10Seconds: leadconnectorOAuth?.requestsPer10Seconds ?? defaults.leadconnectorRequestsPer10Seconds,
              },
              webhookPublicKey: config.leadconnector?.webhookPublicKey ?? '',
              webhookEd25519PublicKey: config.leadconnector?.webhookEd25519PublicKey ?? '',
              webhookToleranceMs: defaults.webhookToleranceMs,
            },
            withAccount(account, auth),
          ),
        );
      },
    ],
    [
      'SMOOCH',
      (account) => {
        const scope = account.scope.provider === 'SMOOCH' ? account.scope : null;
        const credentials = account.credentials.kind === 'api-key' ? account.credentials : null;
        if (!scope || !credentials) throw new ProviderError('SMOOCH', 'NOT_CONFIGURED', `The stored Smooch account ${account.id} has no API key`);
        // Its directory is its own: what was seen in this app only.
        const deps = providerDeps.directory ? { ...providerDeps, directory: { ...providerDeps.directory, account: account.id } } : providerDeps;
        return apiOnly(createSmoochProvider({ api: { apiUrl: scope.apiUrl, appId: scope.appId, keyId: credentials.keyId, secret: credentials.secret }, webhookSecret: null }, deps));
      },
    ],
  ]);

  const envAccounts = new Map<ProviderName, EnvAccount>();
  const env = (provider: ProviderName, name: string, scope: Account['scope']): void => {
    const envProvider = deps.envProviders.get(provider);
    if (!envProvider) return;
    envAccounts.set(provider, {
      account: { id: ENV_ACCOUNT_ID, provider, name, scope, status: 'ACTIVE', lastError: null, source: 'environment', connectedAt: null },
      api: apiOnly(envProvider),
    });
  };
  if (config.podium?.api) env('PODIUM', 'Podium (environment)', null);
  const lc = config.leadconnector?.api;
  if (lc) env('LEADCONNECTOR', `HighLevel location ${lc.locationId} (environment)`, { provider: 'LEADCONNECTOR', userType: 'Location', locationId: lc.locationId, companyId: lc.companyId });
  const sm = config.smooch?.api;
  if (sm) env('SMOOCH', `Smooch app ${sm.appId} (environment)`, { provider: 'SMOOCH', appId: sm.appId, apiUrl: sm.apiUrl });

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

  // Smooch is always served: its accounts can be connected at run time, and
  // without a secret known its receiver refuses every delivery.
  const eventTypes: Record<ProviderName, readonly string[]> = { PODIUM: PODIUM_EVENT_TYPES, LEADCONNECTOR: LEADCONNECTOR_EVENT_TYPES, SMOOCH: SMOOCH_EVENT_TYPES };
  const served = new Map<ProviderName, { env: Provider | null; receiver: Provider['receiver']; eventTypes: readonly string[] }>();
  for (const name of ['PODIUM', 'LEADCONNECTOR', 'SMOOCH'] as const) {
    const envProvider = deps.envProviders.get(name) ?? (name === 'SMOOCH' ? createSmoochProvider({ api: null, webhookSecret: null }, providerDeps) : null);
    if (!envProvider) continue;
    // The environment's own adapter answers when configured (as before accounts), so nothing changes for it.
    served.set(name, { env: envAccounts.has(name) ? envProvider : null, receiver: envProvider.receiver, eventTypes: eventTypes[name] });
  }
  const routes = createAccountProviders({ registry, served, wrap: deps.wrap });

  async function connectSmooch(input: ConnectSmoochInput): Promise<Account> {
    const problems: string[] = [];
    if (!SMOOCH_APP_ID.test(input.appId)) problems.push(`appId must be a Smooch app id (letters, digits, _ or -), got "${input.appId.slice(0, 80)}"`);
    if (!input.keyId.trim()) problems.push('keyId must not be empty');
    if (!input.secret.trim()) problems.push('secret must not be empty');
    const apiUrl = (input.apiUrl ?? config.accounts.smoochApiUrl).replace(/\/+$/, '');
    const urlProblem = httpsUrlProblem('apiUrl', apiUrl, !production);
    if (urlProblem) problems.push(urlProblem);
    if (problems.length > 0) throw userInputError(`Invalid Smooch account input: ${problems.join('; ')}`, { problems });
    const candidate: StoredAccount = {
      id: ENV_ACCOUNT_ID,
      provider: 'SMOOCH',
      name: input.name?.trim() || `Smooch app ${input.appId}`,
      scope: { provider: 'SMOOCH', appId: input.appId, apiUrl },
      status: 'ACTIVE',
      lastError: null,
      source: 'stored',
      connectedAt: null,
      credentials: { kind: 'api-key', keyId: input.keyId, secret: input.secret },
      version: 0,
    };
    try {
      // Any authenticated read proves the key and the app: listing its integrations is the cheapest.
      await (factories.get('SMOOCH') as AccountApiFactory)(candidate, null).webhooks.list();
    } catch (err) {
      if (err instanceof ProviderError && (err.failure === 'UNAUTHORIZED' || err.failure === 'NOT_FOUND' || err.failure === 'BAD_REQUEST')) {
        throw userInputError(`Smooch refused the key ${input.keyId.slice(0, 40)} for app ${input.appId} (${err.status ?? err.failure}): check appId, keyId and secret`);
      }
      throw err;
    }
    return registry.connect({ provider: 'SMOOCH', name: candidate.name, scope: candidate.scope, credentials: candidate.credentials });
  }

  return {
    service: { registry, connector, keys: createApiKeys(store, { onError: (err, keyId) => logger.warn({ err, keyId }, 'API key use not recorded: accounts store unreachable') }), connectSmooch },
    providers: routes.defaults,
    routes,
    close: () => registry.close(),
  };
}
