// Names people reach for that are not the provider's value here: the product
// name HighLevel where the schema says LEADCONNECTOR (its API's name), Sunshine
// Conversations where it says SMOOCH. Used to add a did-you-mean to errors
// about a provider value (GraphQL's Provider enum, environment variables).
import type { ProviderName } from '../model.js';

const ALIASES: Readonly<Record<string, ProviderName>> = {
  HIGHLEVEL: 'LEADCONNECTOR',
  HIGH_LEVEL: 'LEADCONNECTOR',
  GOHIGHLEVEL: 'LEADCONNECTOR',
  GHL: 'LEADCONNECTOR',
  SUNSHINE: 'SMOOCH',
  SUNSHINE_CONVERSATIONS: 'SMOOCH',
};

/** The provider value a misnamed one means, or null (case and `-`/space insensitive). */
export function providerAlias(value: string): ProviderName | null {
  return ALIASES[value.trim().toUpperCase().replace(/[-\s]+/g, '_')] ?? null;
}

/** ` Did you mean "LEADCONNECTOR"? (HighLevel's API, and this gateway, call it LeadConnector.)` for an alias, else ''. */
export function providerHint(value: string): string {
  const meant = providerAlias(value);
  if (!meant) return '';
  const why = meant === 'LEADCONNECTOR' ? " (HighLevel's API, and this gateway, call it LeadConnector.)" : " (Sunshine Conversations is Smooch's API; this gateway calls it SMOOCH.)";
  return ` Did you mean "${meant}"?${why}`;
}

/** A GraphQL message about a value outside the Provider enum, with the hint appended when the value is an alias. */
export function withProviderEnumHint(message: string): string {
  const value = /Value "([^"]+)" does not exist in "Provider" enum/.exec(message)?.[1];
  return value ? `${message}${providerHint(value)}` : message;
}
