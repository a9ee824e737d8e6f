// Helpers the domain resolvers share: provider lookup, id checks, priming.
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../context.js';
import { ErrorCode, userInputError } from '../errors.js';
import { decodeId, encodeId, type NodeType } from '../ids.js';
import type { ProviderName } from '../model.js';
import type { Provider, ProviderPage } from '../providers/provider.js';

export function providerFor(ctx: GatewayContext, name: ProviderName): Provider {
  const provider = ctx.providers.get(name);
  if (!provider) {
    throw new GraphQLError(`Provider ${name} is not configured on this gateway`, {
      extensions: { code: ErrorCode.ProviderNotConfigured, provider: name },
    });
  }
  return provider;
}

/** Decodes an id argument that must name a `type` of `provider`. */
export function providerIdOf(id: string, type: NodeType, provider: ProviderName): string {
  const decoded = decodeId(id, type);
  if (decoded.provider !== provider) {
    throw userInputError(`Expected a ${provider} ${type} id, got one of ${decoded.provider}`);
  }
  return decoded.providerId;
}

/** Resolver for `id` on a type whose parent carries `provider` and `id`. */
export function globalId(type: NodeType) {
  return (parent: { provider: ProviderName; id: string }): string => encodeId(parent.provider, type, parent.id);
}

/** Primes the request's loaders with everything an upstream page carried. */
export function primeFrom(ctx: GatewayContext, provider: ProviderName, page: ProviderPage<unknown>): void {
  if (page.included) ctx.loaders.prime(provider, page.included);
}
