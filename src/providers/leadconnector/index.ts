// HighLevel: its descriptor (what the gateway registers) and a stand-alone
// adapter built from its config alone (tests and tools).
import type { Provider, ProviderDeps } from '../provider.js';
import { standaloneProvider } from '../standalone.js';
import type { LeadConnectorConfig } from './config.js';
import { leadconnector } from './descriptor.js';

export { leadconnector } from './descriptor.js';

/** The environment's account and the webhook receiver of a HighLevel config, without a gateway. */
export function createLeadConnectorProvider(config: LeadConnectorConfig, deps: ProviderDeps): Provider {
  return standaloneProvider(leadconnector, config, deps);
}
