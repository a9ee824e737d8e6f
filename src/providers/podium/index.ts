// Podium: its descriptor (what the gateway registers) and a stand-alone
// adapter built from its config alone (tests and tools).
import type { Provider, ProviderDeps } from '../provider.js';
import { standaloneProvider } from '../standalone.js';
import type { PodiumConfig } from './config.js';
import { podium } from './descriptor.js';

export { podium } from './descriptor.js';

/** The environment's account and the webhook receiver of a Podium config, without a gateway. */
export function createPodiumProvider(config: PodiumConfig, deps: ProviderDeps): Provider {
  return standaloneProvider(podium, config, deps);
}
