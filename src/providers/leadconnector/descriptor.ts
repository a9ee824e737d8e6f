// HighLevel (LeadConnector API v2), whole: its variables, ids, webhook route
// and receiver, API, Marketplace OAuth app, accounts, cache rules, event types
// and rate limit (the contract is ProviderDescriptor in ../provider.ts).
import { ENV_ACCOUNT_ID } from '../../accounts/types.js';
import { bearerAuth } from '../http.js';
import type { ProviderDescriptor } from '../provider.js';
import type { RateLimit } from '../rate-budget.js';
import { createLeadConnectorApi } from './index.js';
import { createLeadConnectorOAuth } from './auth.js';
import { LEADCONNECTOR_DEFAULTS, leadConnectorEnv, parseLeadConnectorConfig, type LeadConnectorConfig } from './config.js';
import { LEADCONNECTOR_EVENT_TYPES } from './event-types.js';
import { LEADCONNECTOR_IDS } from './ids.js';
import { leadConnectorAccounts, type LeadConnectorScope } from './scope.js';
import { createLeadConnectorReceiver } from './webhooks.js';

/** HighLevel's burst limit (HighLevel API v2 reference, rate limits): per app and location, LEADCONNECTOR_REQUESTS_PER_10_SECONDS. */
const rateLimit = (config: LeadConnectorConfig | null): RateLimit => ({
  requests: config?.api?.requestsPer10Seconds ?? config?.oauth?.requestsPer10Seconds ?? LEADCONNECTOR_DEFAULTS.requestsPer10Seconds,
  perMs: 10_000,
});

/** The environment's token goes to LEADCONNECTOR_API_URL; connected accounts to their Marketplace app's API. */
function apiUrlOf(config: LeadConnectorConfig | null, environment: boolean): string {
  const url = environment ? config?.api?.apiUrl : (config?.oauth?.apiUrl ?? config?.api?.apiUrl);
  return url ?? LEADCONNECTOR_DEFAULTS.apiUrl;
}

export const leadconnector: ProviderDescriptor<LeadConnectorConfig, LeadConnectorScope, 'leadconnector'> = {
  name: 'LEADCONNECTOR',
  aliases: { names: ['HIGHLEVEL', 'HIGH_LEVEL', 'GOHIGHLEVEL', 'GHL'], why: "HighLevel's API, and this gateway, call it LeadConnector." },
  configKey: 'leadconnector',
  env: {
    variables: leadConnectorEnv,
    parse: (env, shared, problems) => parseLeadConnectorConfig(env, shared, problems),
    hasApi: (config) => Boolean(config.api ?? config.oauth),
  },
  apiVariables: 'LEADCONNECTOR_TOKEN and LEADCONNECTOR_LOCATION_ID',
  ids: LEADCONNECTOR_IDS,
  eventTypes: LEADCONNECTOR_EVENT_TYPES,
  rateLimit,
  touches: { contactEvent: /^Contact[A-Z]/, conversationEvent: null },
  webhook: {
    path: '/webhooks/leadconnector',
    receiver: (config, deps) => (config ? createLeadConnectorReceiver(config, deps) : null),
  },
  api(account, config, deps) {
    const endpoint = { apiUrl: apiUrlOf(config, account.id === ENV_ACCOUNT_ID), limit: rateLimit(config) };
    const reach = { locationId: account.scope?.locationId ?? null, companyId: account.scope?.companyId ?? null };
    return createLeadConnectorApi(endpoint, reach, { ...deps, account: { id: account.id, auth: account.auth ?? bearerAuth(null), budget: account.identity } });
  },
  environment(config) {
    const api = config?.api;
    if (!api) return null;
    const refreshToken = api.refreshToken ?? null;
    return {
      scope: { provider: 'LEADCONNECTOR', userType: 'Location', locationId: api.locationId || null, companyId: api.companyId },
      credentials: { kind: 'oauth', accessToken: api.token, refreshToken, expiresAt: null },
      fallbackName: `HighLevel location ${api.locationId} (environment)`,
      identity: `${api.apiUrl} ${api.locationId}`,
      tokenUrl: config.oauth?.tokenUrl ?? null,
      // Only with LEADCONNECTOR_REFRESH_TOKEN: a private integration token does not expire.
      oauthApp: refreshToken ? (config.oauth ?? null) : null,
    };
  },
  async displayName(account, config, deps) {
    const [location] = await leadconnector.api(account, config, deps).listLocations();
    return location?.name ?? null;
  },
  accounts: leadConnectorAccounts,
  oauth: {
    segment: 'leadconnector',
    variables: 'LEADCONNECTOR_CLIENT_ID and LEADCONNECTOR_CLIENT_SECRET',
    app: (config) => config?.oauth ?? null,
    flow: (app, deps) => createLeadConnectorOAuth(app, deps),
  },
};
