// One provider from its config alone, without a gateway: the environment's
// account (its token renewed by the one token source, in this process) and its
// webhook receiver. Tests and tools use it; the gateway serves the same parts
// through src/accounts/.
import { environmentAuth } from '../accounts/environment.js';
import { memoryLocks } from '../accounts/locks.js';
import { ENV_ACCOUNT_ID } from '../accounts/types.js';
import type { Provider, ProviderDeps, ProviderDescriptor, ScopeBase } from './provider.js';
import { receiveOnly } from './receive-only.js';

export function standaloneProvider<C, S extends ScopeBase>(descriptor: ProviderDescriptor<C, S>, config: C, deps: ProviderDeps): Provider {
  const receiver = descriptor.webhook.receiver(config, deps);
  if (!receiver) throw new Error(`${descriptor.name} receives no webhooks with this config`);
  const env = descriptor.environment(config);
  if (!env) return receiveOnly(descriptor.name, receiver, descriptor.eventTypes, descriptor.apiVariables);
  const auth = environmentAuth(descriptor, env, deps, { locks: memoryLocks(), owner: 'standalone' });
  const api = descriptor.api({ id: ENV_ACCOUNT_ID, scope: env.scope, credentials: env.credentials, auth, identity: env.identity }, config, deps);
  return { ...api, receiver };
}
