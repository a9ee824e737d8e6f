// Podium, whole: its variables, ids, webhook route and receiver, API, OAuth
// app, accounts, cache rules, event types and rate limit (the contract is
// ProviderDescriptor in ../provider.ts). The API factory is index.ts.
import { ENV_ACCOUNT_ID } from '../../accounts/types.js';
import { bearerAuth } from '../http.js';
import type { ProviderDescriptor } from '../provider.js';
import type { RateLimit } from '../rate-budget.js';
import { createPodiumApi } from './index.js';
import { createPodiumOAuth, podiumAccountName } from './auth.js';
import { parsePodiumConfig, PODIUM_DEFAULTS, podiumEnv, type PodiumConfig } from './config.js';
import { PODIUM_EVENT_TYPES } from './event-types.js';
import { PODIUM_IDS } from './ids.js';
import { podiumAccounts, type PodiumScope } from './scope.js';
import { createPodiumReceiver } from './webhooks.js';

/** Podium's documented limit per token, in requests a minute (PODIUM_REQUESTS_PER_MINUTE). */
const rateLimit = (config: PodiumConfig | null): RateLimit => ({
  requests: config?.api?.requestsPerMinute ?? config?.oauth?.requestsPerMinute ?? PODIUM_DEFAULTS.requestsPerMinute,
  perMs: 60_000,
});

/** The environment's token goes to PODIUM_API_URL; connected accounts to their OAuth app's API. */
function apiUrlOf(config: PodiumConfig | null, environment: boolean): string {
  const url = environment ? config?.api?.apiUrl : (config?.oauth?.apiUrl ?? config?.api?.apiUrl);
  return url ?? PODIUM_DEFAULTS.apiUrl;
}

export const podium: ProviderDescriptor<PodiumConfig, PodiumScope, 'podium'> = {
  name: 'PODIUM',
  configKey: 'podium',
  env: {
    variables: podiumEnv,
    parse: (env, shared, problems) => parsePodiumConfig(env, shared, problems),
    hasApi: (config) => Boolean(config.api ?? config.oauth),
  },
  apiVariables: 'PODIUM_ACCESS_TOKEN or PODIUM_REFRESH_TOKEN',
  ids: PODIUM_IDS,
  eventTypes: PODIUM_EVENT_TYPES,
  rateLimit,
  touches: { contactEvent: /^contact\./, conversationEvent: null },
  webhook: {
    path: '/webhooks/podium',
    receiver: (config, deps) => (config ? createPodiumReceiver(config, deps) : null),
  },
  api(account, config, deps) {
    const endpoint = { apiUrl: apiUrlOf(config, account.id === ENV_ACCOUNT_ID), limit: rateLimit(config) };
    return createPodiumApi(endpoint, { ...deps, account: { id: account.id, auth: account.auth ?? bearerAuth(null), budget: account.identity } });
  },
  environment(config) {
    const api = config?.api;
    if (!api) return null;
    const app = api.clientId && api.clientSecret ? { clientId: api.clientId, clientSecret: api.clientSecret } : null;
    return {
      scope: null,
      credentials: { kind: 'oauth', accessToken: api.accessToken, refreshToken: api.refreshToken, expiresAt: null },
      fallbackName: 'Podium (environment)',
      identity: `${api.apiUrl} ${api.clientId ?? api.accessToken}`,
      tokenUrl: api.tokenUrl,
      oauthApp: app && { ...app, apiUrl: api.apiUrl, tokenUrl: api.tokenUrl, authorizeUrl: PODIUM_DEFAULTS.authorizeUrl, scopes: PODIUM_DEFAULTS.scopes },
    };
  },
  displayName: (account, config, deps) => podiumAccountName(apiUrlOf(config, account.id === ENV_ACCOUNT_ID), account.auth ?? bearerAuth(null), deps),
  accounts: podiumAccounts,
  oauth: {
    segment: 'podium',
    variables: 'PODIUM_CLIENT_ID and PODIUM_CLIENT_SECRET',
    app: (config) => config?.oauth ?? null,
    flow: (app, deps) => createPodiumOAuth(app, deps),
  },
};
