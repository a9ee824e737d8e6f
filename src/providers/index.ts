// The registry: one line per provider. Everything that serves providers (the
// config, ids, webhook routes, accounts, routing, cache rules, the sandbox)
// reads them from here; nothing outside `providers/<name>/` names one.
import type { ProviderName } from '../model.js';
import { leadconnector } from './leadconnector/index.js';
import { podium } from './podium/index.js';
import type { Provider, ProviderDeps, ProviderDescriptor } from './provider.js';
import { smooch } from './smooch/index.js';
import { standaloneProvider } from './standalone.js';

export const PROVIDER_DESCRIPTORS = [
  podium,
  leadconnector,
  smooch,
] as const;

type Descriptors = (typeof PROVIDER_DESCRIPTORS)[number];
type ConfigOf<D> = D extends ProviderDescriptor<infer C, infer _S, infer _K> ? C : never;
type ScopeOf<D> = D extends ProviderDescriptor<infer _C, infer S, infer _K> ? S : never;

/** Each provider's config under its configKey (`config.podium`), null when it is not configured. */
export type ProviderConfigs = { readonly [D in Descriptors as D['configKey']]: ConfigOf<D> | null };

/** Where at the provider an account's credentials reach: one shape per provider. */
export type AccountScope = ScopeOf<Descriptors>;

/** A descriptor whatever its config and scope, as the gateway's generic parts hold it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each provider's own config and scope types meet only here
export type AnyDescriptor = ProviderDescriptor<any, any>;

const BY_NAME: ReadonlyMap<ProviderName, AnyDescriptor> = new Map(PROVIDER_DESCRIPTORS.map((d) => [d.name, d as AnyDescriptor]));

export function descriptorOf(name: ProviderName): AnyDescriptor {
  const found = BY_NAME.get(name);
  if (!found) throw new Error(`no provider descriptor for ${name}`);
  return found;
}

/** The provider's config out of the gateway's. */
export function configOf(config: Partial<ProviderConfigs>, descriptor: AnyDescriptor): unknown {
  return (config as Readonly<Record<string, unknown>>)[descriptor.configKey] ?? null;
}

/** One stand-alone adapter per configured provider (tests and tools; the gateway builds its own through accounts/). */
export function createProviders(config: Partial<ProviderConfigs>, deps: ProviderDeps): ReadonlyMap<ProviderName, Provider> {
  const providers = new Map<ProviderName, Provider>();
  for (const descriptor of PROVIDER_DESCRIPTORS as readonly AnyDescriptor[]) {
    const own = configOf(config, descriptor);
    if (own) providers.set(descriptor.name, standaloneProvider(descriptor, own, deps));
  }
  return providers;
}
