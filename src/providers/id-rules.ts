// What a provider's own ids look like, per kind of thing, so an id that the
// provider could never have issued is refused as bad input before it reaches
// an upstream path (`.`, `..`, a 650 KB string…).
import { userInputError } from '../errors.js';
import type { ProviderName } from '../model.js';
import { PROVIDER_LABELS } from './labels.js';

/** The kinds of provider ids a client can send: node ids and the location filters. */
export type IdKind = 'Contact' | 'Conversation' | 'Message' | 'User' | 'Webhook' | 'Location';

export interface IdRule {
  readonly pattern: RegExp;
  /** How the rule reads in an error: "a UUID", "20 letters and digits". */
  readonly expected: string;
}

export type IdRules = Readonly<Record<IdKind, IdRule>>;

export const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** A rule for the whole id, from a pattern source (anchored here). */
export function rule(source: string, expected: string): IdRule {
  return { pattern: new RegExp(`^(?:${source})$`), expected };
}

/** Throws BAD_USER_INPUT naming the argument when `value` is not an id of this kind for this provider. */
export function checkProviderId(rules: IdRules, provider: ProviderName, kind: IdKind, value: string, argumentName: string): void {
  const { pattern, expected } = rules[kind];
  if (pattern.test(value)) return;
  const shown = value.length > 80 ? `${value.slice(0, 80)}… (${value.length} characters)` : value;
  throw userInputError(`${argumentName} must be a ${PROVIDER_LABELS[provider]} ${kind.toLowerCase()} id (${expected}), got "${shown}"`, {
    argumentName,
  });
}
