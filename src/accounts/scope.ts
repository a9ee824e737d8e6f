// What the gateway asks of an account's scope, answered by its provider's
// descriptor (providers/<name>/scope.ts): its unique key, the provider's own
// id, its locations, the keys deliveries match it by.
import { descriptorOf } from '../providers/index.js';
import type { AccountScope } from './types.js';

const rules = (scope: AccountScope) => descriptorOf(scope.provider).accounts;

/** One key per provider-side account: connecting the same organization, location or app again replaces its credentials. */
export function scopeKey(scope: AccountScope): string {
  return rules(scope).key(scope);
}

/** The provider's own id of what the account reaches, for display. */
export function providerAccountId(scope: AccountScope): string {
  return rules(scope).providerAccountId(scope);
}

export function scopeLocationIds(scope: AccountScope): readonly string[] {
  return rules(scope).locationIds(scope);
}

/** The keys a delivery's PayloadScope must share one of to be the account's. */
export function scopeMatchKeys(scope: AccountScope): readonly string[] {
  return rules(scope).matchKeys(scope);
}

/** What the account reaches, in a few words. */
export function describeScope(scope: AccountScope): string {
  return rules(scope).describe(scope);
}
