// Connecting accounts by OAuth, independent of HTTP: the start URL an admin
// gets from GraphQL (carrying a short-lived signed grant, so only admins can
// start a connection), the redirect to the provider's consent page with a
// signed, expiring `state` bound to the browser by a nonce cookie, and the
// callback that checks all of it, exchanges the code, learns what the tokens
// reach and stores the account. Outcomes are values for http/oauth.ts to show.
import type { Logger } from 'pino';
import { ProviderError } from '../errors.js';
import type { ProviderName } from '../model.js';
import { PROVIDER_DESCRIPTORS, type AnyDescriptor } from '../providers/index.js';
import { PROVIDER_LABELS } from '../providers/labels.js';
import type { AccountRegistry } from './registry.js';
import { EncryptionKeyRequiredError } from './registry.js';
import { describeScope } from './scope.js';
import type { TokenSigner } from './signed-token.js';
import type { Account, OAuthFlow } from './types.js';

const DESCRIPTORS = PROVIDER_DESCRIPTORS as readonly AnyDescriptor[];
/** `/oauth/<segment>/…` of each provider with an OAuth flow. */
const OAUTH_PATHS: ReadonlyMap<string, AnyDescriptor> = new Map(DESCRIPTORS.flatMap((d) => (d.oauth ? [[d.oauth.segment, d] as const] : [])));
const SEGMENTS: ReadonlyMap<ProviderName, string> = new Map(DESCRIPTORS.flatMap((d) => (d.oauth ? [[d.name, d.oauth.segment] as const] : [])));

/** Why a provider without an OAuth flow cannot be connected through one. */
function noOAuthReason(descriptor: AnyDescriptor | undefined): string {
  const label = descriptor ? PROVIDER_LABELS[descriptor.name] : 'These';
  const mutation = descriptor?.keyConnect?.mutation;
  return mutation ? `${label} accounts are connected with their API key: use the ${mutation} mutation` : `${label} accounts are not connected by OAuth`;
}

/** How long an admin's start link and a consent round trip may take. */
const START_TTL_MS = 600_000; // 10 minutes
const STATE_TTL_MS = 600_000; // 10 minutes

export type OAuthFailure = { readonly ok: false; readonly status: number; readonly title: string; readonly reason: string };
export type StartOutcome = { readonly ok: true; readonly location: string; readonly nonce: string; readonly maxAgeSeconds: number } | OAuthFailure;
export type CallbackOutcome = { readonly ok: true; readonly account: Account; readonly detail: string } | OAuthFailure;

export interface OAuthConnector {
  /** For `oauthStartUrl`; throws PROVIDER_NOT_CONFIGURED-style ProviderError when the app is not configured. */
  startUrl(provider: ProviderName): string;
  start(segment: string, query: Readonly<Record<string, unknown>>): StartOutcome;
  callback(segment: string, query: Readonly<Record<string, unknown>>, cookieNonce: string | null): Promise<CallbackOutcome>;
  redirectUri(provider: ProviderName): string;
}

export interface OAuthConnectorOptions {
  readonly flows: ReadonlyMap<ProviderName, OAuthFlow>;
  readonly registry: AccountRegistry;
  readonly signer: TokenSigner;
  readonly publicUrl: string;
  /** With API keys configured, /start needs the signed grant of oauthStartUrl. */
  readonly requireGrant: boolean;
  readonly logger: Logger;
}

function fail(status: number, title: string, reason: string): OAuthFailure {
  return { ok: false, status, title, reason };
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

export function createOAuthConnector(options: OAuthConnectorOptions): OAuthConnector {
  const base = options.publicUrl.replace(/\/+$/, '');
  const redirectUri = (provider: ProviderName): string => `${base}/oauth/${SEGMENTS.get(provider) ?? ''}/callback`;

  function flowOf(segment: string): { provider: ProviderName; flow: OAuthFlow } | OAuthFailure {
    const descriptor = OAUTH_PATHS.get(segment);
    if (!descriptor?.oauth) {
      const other = DESCRIPTORS.find((d) => d.configKey === segment);
      return other
        ? fail(404, 'Not an OAuth provider', noOAuthReason(other))
        : fail(404, 'Unknown provider', `There is no OAuth flow for "${segment.slice(0, 40)}": expected ${[...OAUTH_PATHS.keys()].join(' or ')}`);
    }
    const provider = descriptor.name;
    const flow = options.flows.get(provider);
    if (!flow) {
      return fail(404, `${PROVIDER_LABELS[provider]} OAuth is not configured`, `This gateway has no ${PROVIDER_LABELS[provider]} OAuth app: set ${descriptor.oauth.variables}`);
    }
    return { provider, flow };
  }

  return {
    redirectUri,
    startUrl(provider) {
      const segment = SEGMENTS.get(provider);
      const found = segment ? flowOf(segment) : null;
      if (!segment || !found || 'ok' in found) {
        const reason = found && 'ok' in found ? found.reason : noOAuthReason(DESCRIPTORS.find((d) => d.name === provider));
        throw new ProviderError(provider, segment ? 'NOT_CONFIGURED' : 'BAD_REQUEST', reason);
      }
      const { token } = options.signer.issue('oauth-start', segment, START_TTL_MS);
      return `${base}/oauth/${segment}/start?grant=${encodeURIComponent(token)}`;
    },
    start(segment, query) {
      const found = flowOf(segment);
      if ('ok' in found) return found;
      if (options.requireGrant) {
        const grant = text(query.grant);
        if (!grant) return fail(401, 'Start link required', 'Open the link from the oauthStartUrl query (admin key): this gateway does not let anyone connect accounts');
        const checked = options.signer.verify('oauth-start', grant);
        if (!checked.ok) {
          return checked.reason === 'expired'
            ? fail(400, 'Start link expired', 'The start link is older than 10 minutes: ask oauthStartUrl for a new one')
            : fail(403, 'Start link refused', 'The start link was not issued by this gateway');
        }
        if (checked.claims.p !== segment) return fail(403, 'Start link refused', `The start link was issued for another provider (${checked.claims.p})`);
      }
      const { token, claims } = options.signer.issue('oauth-state', segment, STATE_TTL_MS);
      return { ok: true, location: found.flow.authorizeUrl({ state: token, redirectUri: redirectUri(found.provider) }), nonce: claims.n, maxAgeSeconds: STATE_TTL_MS / 1000 };
    },
    async callback(segment, query, cookieNonce) {
      const found = flowOf(segment);
      if ('ok' in found) return found;
      const label = PROVIDER_LABELS[found.provider];
      const providerError = text(query.error);
      if (providerError) {
        const description = text(query.error_description) ?? providerError;
        return fail(400, `${label} did not connect`, `${label} answered: ${description.slice(0, 300)}`);
      }
      const state = text(query.state);
      const code = text(query.code);
      if (!state || !code) return fail(400, 'Incomplete callback', `Expected code and state from ${label}, got ${[code ? null : 'no code', state ? null : 'no state'].filter(Boolean).join(' and ')}`);
      const checked = options.signer.verify('oauth-state', state);
      if (!checked.ok) {
        if (checked.reason === 'expired') return fail(400, 'Connection expired', 'More than 10 minutes passed since the connection started: start again');
        return fail(403, 'State refused', 'The state of this callback was not issued by this gateway; nothing was connected');
      }
      if (checked.claims.p !== segment) return fail(403, 'State refused', `The state was issued for another provider (${checked.claims.p})`);
      if (cookieNonce !== checked.claims.n) {
        return fail(403, 'Started in another browser', 'This callback does not belong to the browser session that started it (its cookie is missing or different); start again');
      }
      try {
        const tokens = await found.flow.exchangeCode(code, redirectUri(found.provider));
        const { name, scope } = await found.flow.describe(tokens, tokens.hints);
        const account = await options.registry.connect({
          provider: found.provider,
          name,
          scope,
          credentials: { kind: 'oauth', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt },
        });
        return { ok: true, account, detail: describeScope(scope) };
      } catch (err) {
        if (err instanceof EncryptionKeyRequiredError) return fail(503, 'Cannot store accounts', err.message);
        if (err instanceof ProviderError) {
          options.logger.warn({ err, provider: err.provider, detail: err.detail }, 'OAuth connection failed');
          return err.failure === 'BAD_REQUEST' || err.failure === 'UNAUTHORIZED' ? fail(400, `${label} did not connect`, err.message) : fail(502, `${label} did not answer`, err.message);
        }
        options.logger.error({ err }, 'OAuth connection failed');
        return fail(500, 'Not connected', 'The account could not be stored; see the gateway logs');
      }
    },
  };
}
