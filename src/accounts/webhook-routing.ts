// Which account a webhook delivery belongs to, by the account-matching keys the
// payload names itself by (each provider's receiver reads them: a location, an
// organization, an app…), and which mirrored webhooks are that account's, so
// the delivery is verified with that account's secrets. Deliveries naming no
// known account keep the behaviour from before accounts.
import type { ProviderName, WebhookRecord } from '../model.js';
import { descriptorOf } from '../providers/index.js';
import type { PayloadScope } from '../providers/provider.js';
import type { AccountRegistry } from './registry.js';
import { scopeMatchKeys } from './scope.js';
import type { Account, AccountId } from './types.js';

export interface WebhookRoute {
  readonly account: AccountId;
  /** Whether a mirrored webhook subscription is this account's (its secrets verify the delivery). */
  owns(webhook: WebhookRecord): boolean;
}

export type WebhookRouter = (provider: ProviderName, scope: PayloadScope) => Promise<WebhookRoute | null>;

/** Whether the account's scope reaches what the payload names. */
function matches(account: Account, keys: ReadonlySet<string>): boolean {
  return account.scope !== null && scopeMatchKeys(account.scope).some((key) => keys.has(key));
}

function owner(account: Account): (webhook: WebhookRecord) => boolean {
  const { scope } = account;
  const legacy = scope ? descriptorOf(scope.provider).accounts.ownsLegacyWebhook : undefined;
  return (webhook) => {
    if (webhook.account !== undefined) return webhook.account === account.id;
    if (scope && legacy) return legacy(scope, webhook);
    // A mirror without an account was made through the environment's credentials (or before accounts).
    return account.source === 'environment';
  };
}

export function createWebhookRouter(registry: AccountRegistry): WebhookRouter {
  return async (provider, scope) => {
    if (scope.length === 0) return null;
    const keys = new Set(scope);
    const found = (await registry.recent(provider)).find((a) => matches(a, keys));
    return found ? { account: found.id, owns: owner(found) } : null;
  };
}
