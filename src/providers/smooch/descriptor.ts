// Smooch (Sunshine Conversations), whole: its variables, ids, webhook route and
// receiver, API, API-key accounts, cache rules and event types (the contract
// is ProviderDescriptor in ../provider.ts).
import { ProviderError } from '../../errors.js';
import type { ProviderDescriptor } from '../provider.js';
import { createSmoochApi } from './index.js';
import { parseSmoochConfig, smoochConnectApiUrl, smoochEnv, type SmoochConfig } from './config.js';
import { checkSmoochAccount } from './connect.js';
import { SMOOCH_EVENT_TYPES } from './event-types.js';
import { SMOOCH_IDS } from './ids.js';
import { smoochAccounts, type SmoochScope } from './scope.js';
import { createSmoochReceiver } from './webhooks.js';

export const smooch: ProviderDescriptor<SmoochConfig, SmoochScope, 'smooch'> = {
  name: 'SMOOCH',
  aliases: { names: ['SUNSHINE', 'SUNSHINE_CONVERSATIONS'], why: "Sunshine Conversations is Smooch's API; this gateway calls it SMOOCH." },
  configKey: 'smooch',
  env: {
    variables: smoochEnv,
    parse: (env, shared, problems) => parseSmoochConfig(env, shared, problems),
    hasApi: (config) => Boolean(config.api),
    connectApiUrl: (env) => smoochConnectApiUrl(env),
  },
  apiVariables: 'SMOOCH_APP_ID, SMOOCH_KEY_ID and SMOOCH_SECRET',
  ids: SMOOCH_IDS,
  eventTypes: SMOOCH_EVENT_TYPES,
  // Smooch publishes no client-side limit: its 429s are retried after Retry-After.
  rateLimit: () => null,
  touches: { contactEvent: /^(user:|client:)/, conversationEvent: /^conversation:(create|join|leave|remove|read|referral)/ },
  webhook: {
    path: '/webhooks/smooch',
    // Always received: apps can be connected at run time, and without a secret known every delivery is refused.
    receiver: (config, deps) => createSmoochReceiver(config ?? { webhookSecret: null }, deps),
  },
  api(account, _config, deps) {
    const { scope, credentials } = account;
    if (!scope || credentials.kind !== 'api-key') throw new ProviderError('SMOOCH', 'NOT_CONFIGURED', `The Smooch account ${account.id} has no API key`);
    // Each app lists from its own part of the directory: what was seen in this account only.
    const own = deps.directory ? { ...deps, directory: { ...deps.directory, account: account.id } } : deps;
    return createSmoochApi({ apiUrl: scope.apiUrl, appId: scope.appId, keyId: credentials.keyId, secret: credentials.secret }, own);
  },
  environment(config) {
    const api = config?.api;
    if (!api) return null;
    return {
      scope: { provider: 'SMOOCH', appId: api.appId, apiUrl: api.apiUrl },
      credentials: { kind: 'api-key', keyId: api.keyId, secret: api.secret },
      fallbackName: `Smooch app ${api.appId} (environment)`,
      identity: `${api.apiUrl} ${api.appId}`,
      tokenUrl: null,
      oauthApp: null,
    };
  },
  accounts: smoochAccounts,
  keyConnect: { mutation: 'connectSmoochAccount', check: checkSmoochAccount },
};
