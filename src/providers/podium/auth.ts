// Podium OAuth: the authorization-code flow that connects stored accounts
// (consent URL, code exchange, refresh, and which organization and locations
// the tokens reach). Every account's renewals, the environment's included, go
// through accounts/token-source.ts, which calls `refresh` here under a lock.
import { ProviderError } from '../../errors.js';
import { z } from 'zod';
import type { OAuthFlow } from '../../accounts/types.js';
import { createUpstreamClient, segment, type UpstreamAuth, type UpstreamClient } from '../http.js';
import { requestToken } from '../oauth-token.js';
import type { OAuthClientConfig, ProviderDeps } from '../provider.js';
import type { PodiumScope } from './scope.js';
import { readBody } from '../validate.js';

const PODIUM_VERSION = '2021.04.01';
const locationsPage = z.looseObject({
  data: z.array(z.looseObject({ uid: z.string().min(1), organizationUid: z.string().nullish(), name: z.string().nullish() })),
  metadata: z.looseObject({ nextCursor: z.string().nullish() }).nullish(),
});
const organization = z.looseObject({ data: z.looseObject({ uid: z.string().min(1), businessName: z.string().nullish() }) });
/** Pages of locations read to learn what a new token reaches (100 each). */
const MAX_LOCATION_PAGES = 10;

export function createPodiumOAuth(config: OAuthClientConfig, deps: Pick<ProviderDeps, 'upstream' | 'onCall'>): OAuthFlow {
  const token = (fields: Record<string, string>, purpose: 'exchange' | 'refresh') =>
    requestToken({ provider: 'PODIUM', url: config.tokenUrl, encoding: 'json', fields, purpose, timeoutMs: deps.upstream.timeoutMs, onCall: deps.onCall });
  const app = { client_id: config.clientId, client_secret: config.clientSecret };
  return {
    provider: 'PODIUM',
    authorizeUrl({ state, redirectUri }) {
      const url = new URL(config.authorizeUrl);
      url.search = new URLSearchParams({ client_id: config.clientId, redirect_uri: redirectUri, response_type: 'code', scope: config.scopes.join(' '), state }).toString();
      return url.toString();
    },
    async exchangeCode(code, redirectUri) {
      const answer = await token({ ...app, grant_type: 'authorization_code', code, redirect_uri: redirectUri }, 'exchange');
      return { ...answer, hints: {} };
    },
    refresh: (refreshToken) => token({ ...app, grant_type: 'refresh_token', refresh_token: refreshToken }, 'refresh'),
    async describe(tokens) {
      const api = createUpstreamClient({
        provider: 'PODIUM',
        baseUrl: config.apiUrl,
        auth: { headers: async () => ({ authorization: `Bearer ${tokens.accessToken}` }) },
        defaultHeaders: { 'podium-version': PODIUM_VERSION },
        timeoutMs: deps.upstream.timeoutMs,
        maxRetries: deps.upstream.maxRetries,
        onCall: deps.onCall,
      });
      return describePodium(api);
    },
  };
}

/** The organization of the token's locations (its name from /v4/organizations) and those locations. */
async function describePodium(api: UpstreamClient): Promise<{ name: string; scope: PodiumScope }> {
  const locations: Array<{ uid: string; organizationUid?: string | null }> = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_LOCATION_PAGES; page++) {
    const res: { body: unknown } = await api.request({ path: '/v4/locations', route: '/v4/locations', query: cursor ? { limit: 100, cursor } : { limit: 100 } });
    const body: z.output<typeof locationsPage> = readBody<z.output<typeof locationsPage>>('PODIUM', 'GET /v4/locations', locationsPage, res.body);
    locations.push(...body.data);
    cursor = body.metadata?.nextCursor || null;
    if (!cursor) break;
  }
  const organizationUid = locations.find((l) => l.organizationUid)?.organizationUid;
  if (!organizationUid) throw new ProviderError('PODIUM', 'BAD_RESPONSE', 'Podium listed no location with an organization for the new token, so there is no organization to connect');
  const res = await api.request({ path: `/v4/organizations/${segment(organizationUid)}`, route: '/v4/organizations/{uid}' });
  const org = readBody<z.output<typeof organization>>('PODIUM', 'GET /v4/organizations/{uid}', organization, res.body).data;
  return {
    name: org.businessName || `Podium organization ${organizationUid}`,
    scope: { provider: 'PODIUM', organizationUid, locationUids: locations.filter((l) => l.organizationUid === organizationUid).map((l) => l.uid) },
  };
}


/** The organization's name of an account, read with its token. */
export async function podiumAccountName(apiUrl: string, auth: UpstreamAuth, deps: Pick<ProviderDeps, 'upstream' | 'onCall'>): Promise<string> {
  const api = createUpstreamClient({
    provider: 'PODIUM',
    baseUrl: apiUrl,
    auth,
    defaultHeaders: { 'podium-version': PODIUM_VERSION },
    timeoutMs: deps.upstream.timeoutMs,
    maxRetries: deps.upstream.maxRetries,
    onCall: deps.onCall,
  });
  return (await describePodium(api)).name;
}
