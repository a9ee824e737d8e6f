// HighLevel OAuth (Marketplace app, HighLevel's OAuth 2.0 guide): the chooselocation
// consent URL, the code exchange and the refresh at POST /oauth/token (a form,
// `user_type` Location or Company), and the location the tokens reach. Every
// refresh returns a new refresh token and the old one stops working, which is
// why every account (the environment's too) renews through
// accounts/token-source.ts under a lock.
import { z } from 'zod';
import type { AccountScope, OAuthFlow } from '../../accounts/types.js';
import { ProviderError } from '../../errors.js';
import { isRecord, str } from '../guards.js';
import { createUpstreamClient, segment } from '../http.js';
import { requestToken } from '../oauth-token.js';
import type { OAuthClientConfig, ProviderDeps } from '../provider.js';
import { readBody } from '../validate.js';
import { LEADCONNECTOR_VERSIONS } from './client.js';

const location = z.looseObject({ location: z.looseObject({ id: z.string().min(1), name: z.string().nullish(), companyId: z.string().nullish() }) });

export function createLeadConnectorOAuth(config: OAuthClientConfig, deps: Pick<ProviderDeps, 'upstream' | 'onCall'>): OAuthFlow {
  const token = (fields: Record<string, string>, purpose: 'exchange' | 'refresh') =>
    requestToken({ provider: 'LEADCONNECTOR', url: config.tokenUrl, encoding: 'form', fields, purpose, timeoutMs: deps.upstream.timeoutMs, onCall: deps.onCall });
  const app = { client_id: config.clientId, client_secret: config.clientSecret };
  return {
    provider: 'LEADCONNECTOR',
    authorizeUrl({ state, redirectUri }) {
      const url = new URL(config.authorizeUrl);
      url.search = new URLSearchParams({ response_type: 'code', redirect_uri: redirectUri, client_id: config.clientId, scope: config.scopes.join(' '), state }).toString();
      return url.toString();
    },
    async exchangeCode(code, redirectUri) {
      const answer = await token({ ...app, grant_type: 'authorization_code', code, redirect_uri: redirectUri, user_type: 'Location' }, 'exchange');
      const raw = answer.raw;
      return { ...answer, hints: { userType: str(raw.userType), locationId: str(raw.locationId), companyId: str(raw.companyId) } };
    },
    refresh(refreshToken, scope: AccountScope | null) {
      const userType = scope?.provider === 'LEADCONNECTOR' ? scope.userType : 'Location';
      return token({ ...app, grant_type: 'refresh_token', refresh_token: refreshToken, user_type: userType }, 'refresh');
    },
    async describe(tokens, hints) {
      const userType = hints.userType === 'Company' ? 'Company' : 'Location';
      const locationId = hints.locationId ?? null;
      const companyId = hints.companyId ?? null;
      if (userType === 'Company' || !locationId) {
        if (!companyId) throw new ProviderError('LEADCONNECTOR', 'BAD_RESPONSE', 'HighLevel answered the code exchange with neither a locationId nor a companyId');
        return { name: `HighLevel agency ${companyId}`, scope: { provider: 'LEADCONNECTOR', userType: 'Company', locationId: null, companyId } };
      }
      const api = createUpstreamClient({
        provider: 'LEADCONNECTOR',
        baseUrl: config.apiUrl,
        auth: { headers: async () => ({ authorization: `Bearer ${tokens.accessToken}` }) },
        timeoutMs: deps.upstream.timeoutMs,
        maxRetries: deps.upstream.maxRetries,
        onCall: deps.onCall,
      });
      const res = await api.request({ path: `/locations/${segment(locationId)}`, route: '/locations/{locationId}', headers: { Version: LEADCONNECTOR_VERSIONS.contacts } });
      const found = readBody<z.output<typeof location>>('LEADCONNECTOR', 'GET /locations/{locationId}', location, isRecord(res.body) ? res.body : null).location;
      return {
        name: found.name || `HighLevel location ${locationId}`,
        scope: { provider: 'LEADCONNECTOR', userType: 'Location', locationId, companyId: companyId ?? found.companyId ?? null },
      };
    },
  };
}
