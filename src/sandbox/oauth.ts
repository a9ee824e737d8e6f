// The authorization server half of an emulator (Podium, HighLevel): the consent
// page, which approves at once as the signed-in subject (an organization, a
// location) and redirects to `redirect_uri` with `code` and `state`; the code
// exchange; refresh with single-use rotation (every refresh answers a new
// refresh token and the one spent stops working); and switches tests use:
// expire access tokens, revoke a subject's grants, hold refreshes until released.
import { randomBytes } from 'node:crypto';
import type { EmuRequest, EmuResponse, EmuRoute } from './kit.js';

export interface OAuthServerOptions {
  readonly client: { readonly id: string; readonly secret: string };
  /** Subjects a user can approve as, the first signed in by default. */
  readonly subjects: readonly string[];
  readonly tokenPrefix: string;
  /** Lifetime of issued access tokens. */
  readonly accessTokenTtlSeconds: number;
  /** Provider fields of the token answer (HighLevel's locationId, userType …). */
  readonly answerFields: (subject: string) => Record<string, unknown>;
  /** The provider's error body. */
  readonly error: (status: number, error: string, description: string) => EmuResponse;
  readonly now?: () => number;
}

export interface OAuthStats {
  readonly exchanges: number;
  /** Refreshes answered with new tokens. */
  readonly refreshes: number;
  /** Refreshes refused (a spent, revoked or unknown refresh token). */
  readonly refusedRefreshes: number;
}

export interface OAuthServer {
  /** The subject the next consent approves as (the user's choice on the consent page). */
  signInAs(subject: string): void;
  /** Consent page and token endpoint routes at the provider's paths. */
  routes(paths: { readonly authorize: string; readonly token: string }): EmuRoute[];
  /** The subject an unexpired access token acts for; null for anything else. */
  subjectOf(authorization: string | undefined): string | null;
  /** subjectOf for an API request, counted for its subject (see apiCalls). */
  authorizeApiCall(authorization: string | undefined): string | null;
  /** API requests authorized with the subject's access tokens since start, so tests can tell which account's token was used. */
  apiCalls(subject: string): number;
  expireAccessTokens(subject?: string): void;
  /** Revokes every grant of the subject: its access and refresh tokens stop working. */
  revoke(subject: string): void;
  /** Refresh answers wait until the returned function is called (to make instances race). */
  holdRefreshes(): () => void;
  readonly stats: OAuthStats;
}

/** The authorization server's live state: codes, tokens, counters and switches. */
interface Grants {
  readonly options: OAuthServerOptions;
  readonly now: () => number;
  readonly codes: Map<string, { subject: string; redirectUri: string; expiresAt: number }>;
  readonly access: Map<string, { subject: string; expiresAt: number }>;
  readonly refresh: Map<string, { subject: string }>;
  readonly stats: { exchanges: number; refreshes: number; refusedRefreshes: number };
  readonly calls: Map<string, number>;
  signedIn: string;
  hold: Promise<void> | null;
}

export function createOAuthServer(options: OAuthServerOptions): OAuthServer {
  const g: Grants = {
    options,
    now: options.now ?? Date.now,
    codes: new Map(),
    access: new Map(),
    refresh: new Map(),
    stats: { exchanges: 0, refreshes: 0, refusedRefreshes: 0 },
    calls: new Map(),
    signedIn: options.subjects[0] ?? '',
    hold: null,
  };
  return {
    signInAs(subject) {
      if (!options.subjects.includes(subject)) throw new Error(`No such subject to sign in as: ${subject}`);
      g.signedIn = subject;
    },
    routes: (paths) => [
      { method: 'GET', path: paths.authorize, handler: (req) => consent(g, req) },
      { method: 'POST', path: paths.token, handler: (req) => tokenEndpoint(g, req) },
    ],
    subjectOf: (authorization) => subjectOf(g, authorization),
    authorizeApiCall(authorization) {
      const subject = subjectOf(g, authorization);
      if (subject !== null) g.calls.set(subject, (g.calls.get(subject) ?? 0) + 1);
      return subject;
    },
    apiCalls: (subject) => g.calls.get(subject) ?? 0,
    expireAccessTokens(subject) {
      for (const [key, value] of g.access) if (!subject || value.subject === subject) g.access.set(key, { ...value, expiresAt: 0 });
    },
    revoke(subject) {
      for (const [key, value] of g.access) if (value.subject === subject) g.access.delete(key);
      for (const [key, value] of g.refresh) if (value.subject === subject) g.refresh.delete(key);
    },
    holdRefreshes() {
      let release: () => void = () => undefined;
      g.hold = new Promise<void>((resolve) => {
        release = () => {
          g.hold = null;
          resolve();
        };
      });
      return release;
    },
    get stats() {
      return { ...g.stats };
    },
  };
}

function subjectOf(g: Grants, authorization: string | undefined): string | null {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  const found = match ? g.access.get(match[1] as string) : undefined;
  return found && found.expiresAt > g.now() ? found.subject : null;
}

function token(g: Grants, kind: string): string {
  return `${g.options.tokenPrefix}-${kind}-${randomBytes(12).toString('hex')}`;
}

function issue(g: Grants, subject: string): EmuResponse {
  const { accessTokenTtlSeconds } = g.options;
  const accessToken = token(g, 'access');
  const refreshToken = token(g, 'refresh');
  g.access.set(accessToken, { subject, expiresAt: g.now() + accessTokenTtlSeconds * 1000 });
  g.refresh.set(refreshToken, { subject });
  return {
    status: 200,
    body: { access_token: accessToken, token_type: 'Bearer', expires_in: accessTokenTtlSeconds, refresh_token: refreshToken, ...g.options.answerFields(subject) },
  };
}

function field(req: EmuRequest, name: string): string | null {
  const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
  return typeof body[name] === 'string' ? (body[name] as string) : null;
}

async function tokenEndpoint(g: Grants, req: EmuRequest): Promise<EmuResponse> {
  const { options } = g;
  if (field(req, 'client_id') !== options.client.id || field(req, 'client_secret') !== options.client.secret) {
    return options.error(401, 'invalid_client', 'client_id or client_secret is not valid');
  }
  const grant = field(req, 'grant_type');
  if (grant === 'authorization_code') {
    const code = g.codes.get(field(req, 'code') ?? '');
    // A code is single-use, short-lived and bound to its redirect_uri.
    g.codes.delete(field(req, 'code') ?? '');
    if (!code || code.expiresAt < g.now()) return options.error(400, 'invalid_grant', 'The authorization code is invalid or has expired');
    if (code.redirectUri !== field(req, 'redirect_uri')) return options.error(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    g.stats.exchanges++;
    return issue(g, code.subject);
  }
  if (grant === 'refresh_token') {
    if (g.hold) await g.hold;
    const presented = field(req, 'refresh_token') ?? '';
    const found = g.refresh.get(presented);
    if (!found) {
      g.stats.refusedRefreshes++;
      return options.error(400, 'invalid_grant', 'The refresh token is invalid, expired or already used');
    }
    g.refresh.delete(presented);
    g.stats.refreshes++;
    return issue(g, found.subject);
  }
  return options.error(400, 'unsupported_grant_type', `grant_type must be authorization_code or refresh_token, got ${JSON.stringify(grant)}`);
}

function consent(g: Grants, req: EmuRequest): EmuResponse {
  const { options } = g;
  const redirectUri = req.query.get('redirect_uri');
  if (req.query.get('client_id') !== options.client.id) return options.error(400, 'invalid_client', 'client_id is not a registered app');
  if (req.query.get('response_type') !== 'code') return options.error(400, 'unsupported_response_type', 'response_type must be code');
  if (!redirectUri || !/^https?:\/\//.test(redirectUri)) return options.error(400, 'invalid_request', 'redirect_uri must be an absolute URL');
  const code = randomBytes(16).toString('hex');
  g.codes.set(code, { subject: g.signedIn, redirectUri, expiresAt: g.now() + 600_000 });
  const target = new URL(redirectUri);
  target.searchParams.set('code', code);
  const state = req.query.get('state');
  if (state !== null) target.searchParams.set('state', state);
  return { status: 302, headers: { location: target.toString() } };
}
