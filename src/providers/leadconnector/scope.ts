// What a HighLevel account reaches (a location, or a company as an agency),
// and how its accounts are told apart and matched to webhook deliveries.
import type { AccountRules } from '../provider.js';

export interface LeadConnectorScope {
  readonly provider: 'LEADCONNECTOR';
  /** HighLevel's `userType` of the token. */
  readonly userType: 'Location' | 'Company';
  readonly locationId: string | null;
  readonly companyId: string | null;
}

export const leadConnectorAccounts: AccountRules<LeadConnectorScope> = {
  key: (scope) => (scope.locationId ? `LEADCONNECTOR:location:${scope.locationId}` : `LEADCONNECTOR:company:${scope.companyId ?? ''}`),
  providerAccountId: (scope) => scope.locationId ?? scope.companyId ?? '',
  locationIds: (scope) => (scope.locationId ? [scope.locationId] : []),
  // A location's account takes what names its location; a company's only what names no location (leadConnectorAccountKeys).
  matchKeys: (scope) => (scope.locationId !== null ? [`location:${scope.locationId}`] : scope.companyId !== null ? [`organization:${scope.companyId}`] : []),
  describe: (scope) => (scope.locationId ? `location ${scope.locationId}` : `company ${scope.companyId ?? ''}`),
};
