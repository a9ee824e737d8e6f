// What a Smooch account reaches (one app, at one API URL), and how its
// accounts are told apart and matched to webhook deliveries.
import type { AccountRules } from '../provider.js';

export interface SmoochScope {
  readonly provider: 'SMOOCH';
  readonly appId: string;
  readonly apiUrl: string;
}

export const smoochAccounts: AccountRules<SmoochScope> = {
  key: (scope) => `SMOOCH:app:${scope.appId}`,
  providerAccountId: (scope) => scope.appId,
  locationIds: () => [],
  matchKeys: (scope) => [`app:${scope.appId}`],
  describe: (scope) => `app ${scope.appId}`,
};
