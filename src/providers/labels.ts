// How each provider is named in messages people read.
import type { ProviderName } from '../model.js';

export const PROVIDER_LABELS: Readonly<Record<ProviderName, string>> = {
  PODIUM: 'Podium',
  LEADCONNECTOR: 'HighLevel',
  SMOOCH: 'Smooch',
};
