// The enabled providers: one adapter per provider whose credentials are set.
import type { GatewayConfig } from '../config.js';
import type { ProviderName } from '../model.js';
import { createLeadConnectorProvider } from './leadconnector/index.js';
import { createPodiumProvider } from './podium/index.js';
import type { Provider, ProviderDeps } from './provider.js';
import { createSmoochProvider } from './smooch/index.js';

export function createProviders(
  config: Pick<GatewayConfig, 'podium' | 'leadconnector' | 'smooch'>,
  deps: ProviderDeps,
): ReadonlyMap<ProviderName, Provider> {
  const providers = new Map<ProviderName, Provider>();
  if (config.podium) providers.set('PODIUM', createPodiumProvider(config.podium, deps));
  if (config.leadconnector) providers.set('LEADCONNECTOR', createLeadConnectorProvider(config.leadconnector, deps));
  if (config.smooch) providers.set('SMOOCH', createSmoochProvider(config.smooch, deps));
  return providers;
}
