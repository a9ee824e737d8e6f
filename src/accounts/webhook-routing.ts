// Which account a webhook delivery belongs to, by the ids the payload names
// itself by (Podium location or organization uid, HighLevel locationId or
// companyId, Smooch app id), and which mirrored webhooks are that account's, so
// the delivery is verified with that account's secrets. Deliveries naming no
// known account keep the behaviour from before accounts.
import type { ProviderName, WebhookRecord } from '../model.js';
import type { PayloadScope } from '../providers/provider.js';
import type { AccountRegistry } from './registry.js';
import type { Account, AccountId } from './types.js';

export interface WebhookRoute {
  readonly account: AccountId;
  /** Whether a mirrored webhook subscription is this account's (its secrets verify the delivery). */
  owns(webhook: WebhookRecord): boolean;
}

export type WebhookRouter = (provider: ProviderName, scope: PayloadScope) => Promise<WebhookRoute | null>;

/** Whether the account's scope reaches what the payload names. */
function matches(account: Account, scope: PayloadScope): boolean {
  const s = account.scope;
  if (!s) return false;
  switch (s.provider) {
    case 'PODIUM':
      return scope.organizationIds.includes(s.organizationUid) || scope.locationIds.some((l) => s.locationUids.includes(l));
    case 'LEADCONNECTOR':
      return s.locationId !== null ? scope.locationIds.includes(s.locationId) : s.companyId !== null && scope.locationIds.length === 0 && scope.organizationIds.includes(s.companyId);
    case 'SMOOCH':
      return scope.appIds.includes(s.appId);
  }
}

function owner(account: Account): (webhook: WebhookRecord) => boolean {
  const s = account.scope;
  return (webhook) => {
    if (webhook.account !== undefined) return webhook.account === account.id;
    if (s?.provider === 'PODIUM') return webhook.organizationId === s.organizationUid || (webhook.locationId !== null && s.locationUids.includes(webhook.locationId));
    // A mirror without an account was made through the environment's credentials (or before accounts).
    return account.source === 'environment';
  };
}

export function createWebhookRouter(registry: AccountRegistry): WebhookRouter {
  return async (provider, scope) => {
    if (scope.locationIds.length + scope.organizationIds.length + scope.appIds.length === 0) return null;
    const found = (await registry.recent(provider)).find((a) => matches(a, scope));
    return found ? { account: found.id, owns: owner(found) } : null;
  };
}
