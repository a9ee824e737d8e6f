// Helpers the domain resolvers share: provider lookup, id checks, priming.
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../context.js';
import { ErrorCode, userInputError } from '../errors.js';
import { decodeId, encodeId, type NodeType } from '../ids.js';
import type { ProviderName } from '../model.js';
import type { Provider, ProviderPage } from '../providers/provider.js';

/** The provider as `account` serves it (null or omitted: the default account). */
export function providerFor(ctx: GatewayContext, name: ProviderName, account: string | null = null): Provider {
  if (!ctx.providers.has(name)) {
    throw new GraphQLError(`Provider ${name} is not configured on this gateway`, {
      extensions: { code: ErrorCode.ProviderNotConfigured, provider: name },
    });
  }
  return ctx.accountProviders.forAccount(name, account);
}

/**
 * The account an `account: ID` argument names (an Account id of `provider`), or
 * null when it was omitted: the default account, whose calls answer
 * BAD_USER_INPUT naming `account` when several stored accounts could be meant.
 */
export function accountArg(account: string | null | undefined, provider: ProviderName, argumentName = 'account'): string | null {
  if (account == null) return null;
  const decoded = decodeId(account, 'Account');
  if (decoded.provider !== provider) {
    throw userInputError(`The argument "${argumentName}" must be a ${provider} account id, got one of ${decoded.provider}`, { argumentName });
  }
  return decoded.providerId;
}

/**
 * Decodes an id argument that must name a `type` of `provider`; with `account`
 * (a list's account), an id issued for another account is refused.
 */
export function providerIdOf(id: string, type: NodeType, provider: ProviderName, account: string | null = null): string {
  const decoded = decodeId(id, type);
  if (decoded.provider !== provider) {
    throw userInputError(`Expected a ${provider} ${type} id, got one of ${decoded.provider}`);
  }
  if (account !== null && account !== 'env' && decoded.account !== null && decoded.account !== account) {
    throw userInputError(`Expected a ${type} id of account ${encodeId(provider, 'Account', account)}, got one of account ${encodeId(provider, 'Account', decoded.account)}`);
  }
  return decoded.providerId;
}

/** Resolver for `id` on a type whose parent carries `provider`, `id` and (for a stored account's records) `account`. */
export function globalId(type: NodeType) {
  return (parent: { provider: ProviderName; id: string; account?: string }): string => encodeId(parent.provider, type, parent.id, parent.account);
}

/** Whether the caller's key reaches the account (null or undefined: the environment's). */
export function inScope(ctx: GatewayContext, provider: ProviderName, account: string | null | undefined): boolean {
  return ctx.scope === null || ctx.scope.has(provider, account);
}

/** Primes the request's loaders with everything an upstream page carried. */
export function primeFrom(ctx: GatewayContext, provider: ProviderName, page: ProviderPage<unknown>): void {
  if (page.included) ctx.loaders.prime(page.included);
}
