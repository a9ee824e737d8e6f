// Smooch: its descriptor (what the gateway registers) and a stand-alone
// adapter built from its config alone (tests and tools).
import type { Provider, ProviderDeps } from '../provider.js';
import { standaloneProvider } from '../standalone.js';
import type { SmoochConfig } from './config.js';
import { smooch } from './descriptor.js';

export { smooch } from './descriptor.js';

/** The environment's app and the webhook receiver of a Smooch config, without a gateway. */
export function createSmoochProvider(config: SmoochConfig, deps: ProviderDeps): Provider {
  return standaloneProvider(smooch, config, deps);
}
