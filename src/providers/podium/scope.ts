// What a Podium account reaches (an organization and its locations), and how
// its accounts are told apart and matched to webhook deliveries.
import type { AccountRules } from '../provider.js';

export interface PodiumScope {
  readonly provider: 'PODIUM';
  readonly organizationUid: string;
  readonly locationUids: readonly string[];
}

export const podiumAccounts: AccountRules<PodiumScope> = {
  key: (scope) => `PODIUM:organization:${scope.organizationUid}`,
  providerAccountId: (scope) => scope.organizationUid,
  locationIds: (scope) => scope.locationUids,
  matchKeys: (scope) => [`organization:${scope.organizationUid}`, ...scope.locationUids.map((uid) => `location:${uid}`)],
  describe: (scope) => `organization ${scope.organizationUid} with ${scope.locationUids.length} location${scope.locationUids.length === 1 ? '' : 's'}`,
  // A Podium webhook names its organization or location, so one mirrored before accounts still finds its account.
  ownsLegacyWebhook: (scope, webhook) => webhook.organizationId === scope.organizationUid || (webhook.locationId !== null && scope.locationUids.includes(webhook.locationId)),
};
