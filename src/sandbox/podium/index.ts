// Emulator of Podium API v4 for the sandbox, tests and benchmarks: OAuth
// refresh, contacts, conversations, messages (listing and sending), users,
// locations and webhook CRUD with Podium's envelopes, cursors and error
// bodies, message webhooks signed the way Podium signs them, and Podium's
// rate limit when switched on. Two organizations, told apart by the token.
import { randomUUID } from 'node:crypto';
import type { PodiumConfig, PodiumOAuthConfig } from '../../providers/podium/config.js';
import type { PodiumWebhook } from '../../providers/podium/client.js';
import { seededRandom, startEmulator, type Emulator, type EmuRequest, type EmuResponse, type EmuRoute } from '../kit.js';
import { createOAuthServer, type OAuthServer } from '../oauth.js';
import { createSendLifecycle, type SendControls } from '../sending.js';
import type { ProviderEmulator, WithApi } from '../types.js';
import { createPodiumData, SANDBOX_BUSINESSES } from './data.js';
import { emitMessageEvent, podiumSigner } from './events.js';
import { codeForStatus, error, errorBody, podiumRoutes, VERSION, type PodiumState } from './routes.js';
import { PODIUM_SEND_REQUESTS, podiumSendRoute } from './send.js';
import { createPodiumState, type LegacyOAuth } from './state.js';

export { LANA_LANDLINE } from './data.js';
export { LANDLINE_FAILURE, PODIUM_SEND_REQUESTS } from './send.js';

export interface PodiumEmulator extends ProviderEmulator<WithApi<PodiumConfig>> {
  /** Replaces the access token as if it had expired: the adapter's next call gets 401 and has to refresh. */
  expireAccessToken(): void;
  /** The OAuth app's authorization server: consent as an organization, codes, rotating refresh tokens. */
  readonly oauth: OAuthServer;
  /** The gateway's OAuth app settings for this emulator (PODIUM_CLIENT_ID and the rest). */
  oauthConfig(): PodiumOAuthConfig;
  /** The seeded organizations an OAuth consent can approve as; the first one's data is what `fixtures` describes. */
  readonly organizations: ReadonlyArray<{ readonly uid: string; readonly name: string; readonly locationUids: readonly string[] }>;
}

export interface PodiumEmulatorOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Seed of the sandbox data. @default 1 */
  readonly seed?: number;
  /** Secret of webhooks made by addWebhookTarget and of signWebhook. @default 'sandbox-podium-secret' */
  readonly webhookSecret?: string;
  /** Lifetime of OAuth access tokens. @default 36_000 (seconds: Podium's 10 hours) */
  readonly accessTokenTtlSeconds?: number;
  /** Refuse sends whose body is longer (Podium documents no limit). @default none */
  readonly maxBodyLength?: number;
}

const MESSAGE_EVENTS = ['message.sent', 'message.received', 'message.failed'];

export async function startPodiumEmulator(options: PodiumEmulatorOptions = {}): Promise<PodiumEmulator> {
  const seed = options.seed ?? 1;
  const rand = seededRandom(seed + 1);
  const sandboxSecret = options.webhookSecret ?? 'sandbox-podium-secret';
  const signWebhook = podiumSigner(sandboxSecret);
  const lifecycle = createSendLifecycle();
  const newToken = (): string => `sandbox-podium-access-${randomUUID()}`;
  const legacy: LegacyOAuth = {
    client: { id: 'sandbox-podium-client', secret: 'sandbox-podium-client-secret', refreshToken: 'sandbox-podium-refresh-token' },
    accessToken: newToken(),
    newToken,
  };
  let url = '';
  const state = createPodiumState(createPodiumData(seed), () => url, legacy);
  // A second organization for OAuth: its tokens see its own data only.
  const other = createPodiumState(createPodiumData(seed + 100, SANDBOX_BUSINESSES[1]), () => url, legacy);
  const states = new Map([state, other].map((st) => [st.data.organization.uid, st]));
  const oauth = createOAuthServer({
    client: { id: legacy.client.id, secret: legacy.client.secret },
    subjects: [...states.keys()],
    tokenPrefix: 'sandbox-podium',
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 36_000,
    answerFields: () => ({}),
    error: (status, code, description) => ({ status, body: { error: code, error_description: description } }),
  });
  /** The organization a request acts for: the environment's token is the first one's. */
  const stateOf = (authorization: string | undefined): PodiumState => states.get(oauth.subjectOf(authorization) ?? '') ?? state;
  const routesOf = (st: PodiumState): EmuRoute[] => [...podiumRoutes(st), organizationRoute(st), podiumSendRoute(st, { lifecycle, signWebhook, options })];

  const base = await startEmulator({
    name: 'podium',
    port: options.port ?? 0,
    publicPaths: ['/oauth/'],
    errorBody: (status, message) => errorBody(codeForStatus(status), message),
    authorize: (req) => authorize(req, legacy, oauth),
    routes: organizationRoutes({ main: routesOf(state), other: routesOf(other), isOther: (req) => stateOf(req.headers.authorization) === other, oauth, legacy }),
    // "Most endpoints are rate limited to 300 requests per minute" (Podium's HTTP status reference), per organization.
    rateLimit: { max: 300, windowMs: 60_000 },
    accountOf: (headers) => stateOf(headers.authorization).data.organization.uid,
  });
  url = base.url;
  const closeServer = base.close;
  const extras: Omit<PodiumEmulator, keyof Emulator> = {
    ...podiumExtras({ url, state, other, states, oauth, legacy, sandboxSecret }),
    ...lifecycle.controls(base, PODIUM_SEND_REQUESTS, 'The message could not be delivered to the customer.'),
    emitMessageEvent(kind, emit = {}) {
      const st = emit.providerAccountId === undefined ? state : states.get(emit.providerAccountId);
      if (!st) return Promise.reject(new Error(`The Podium emulator has no organization ${emit.providerAccountId ?? ''}`));
      return emitMessageEvent(st, { rand, signWebhook }, kind, emit.conversationId);
    },
    signWebhook: (rawBody, sign) => signWebhook(rawBody, sign),
  };
  return Object.assign(base, extras, {
    async close() {
      lifecycle.stop();
      await closeServer();
    },
  });
}

function authorize(req: EmuRequest, legacy: LegacyOAuth, oauth: OAuthServer): EmuResponse | null {
  const version = req.headers['podium-version'];
  if (version !== undefined && version !== VERSION) {
    return error(400, 'invalid_header_version', `podium-version must be ${VERSION}, got "${String(version)}"`);
  }
  const auth = req.headers.authorization ?? '';
  if (auth !== `Bearer ${legacy.accessToken}` && oauth.authorizeApiCall(auth) === null) {
    return error(401, 'unauthenticated', auth ? 'The access token is invalid or has expired' : 'An Authorization: Bearer <access token> header is required');
  }
  return null;
}

function organizationRoute(st: PodiumState): EmuRoute {
  return {
    method: 'GET',
    path: '/v4/organizations/:uid',
    handler: (req) =>
      req.params.uid === st.data.organization.uid
        ? { status: 200, body: { data: { ...st.data.organization, archived: false, createdAt: '2019-03-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' }, metadata: { url: `${st.baseUrl()}/v4/organizations/${st.data.organization.uid}` } } }
        : error(404, 'not_found', `No organization ${req.params.uid ?? ''} for this token`),
  };
}

/** One route table over both organizations: each API route answers from the organization the token belongs to. */
function organizationRoutes(r: { main: readonly EmuRoute[]; other: readonly EmuRoute[]; isOther: (req: EmuRequest) => boolean; oauth: OAuthServer; legacy: LegacyOAuth }): EmuRoute[] {
  const [consent, oauthToken] = r.oauth.routes({ authorize: '/oauth/authorize', token: '/oauth/token' }) as [EmuRoute, EmuRoute];
  // The environment's refresh token keeps its old, non-rotating behaviour.
  const legacyRoute = r.main.find((route) => route.method === 'POST' && route.path === '/oauth/token') as EmuRoute;
  return [
    consent,
    {
      method: 'POST',
      path: '/oauth/token',
      handler(req) {
        const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
        return body.refresh_token === r.legacy.client.refreshToken ? legacyRoute.handler(req) : oauthToken.handler(req);
      },
    },
    ...r.main
      .map((route, i) => ({ route, twin: r.other[i] as EmuRoute }))
      .filter(({ route }) => route.path !== '/oauth/token')
      .map(({ route, twin }) => ({ ...route, handler: (req: EmuRequest) => (r.isOther(req) ? twin.handler(req) : route.handler(req)) })),
  ];
}

/** The ProviderEmulator parts that describe the organizations and configure the gateway. */
function podiumExtras(c: {
  url: string;
  state: PodiumState;
  other: PodiumState;
  states: ReadonlyMap<string, PodiumState>;
  oauth: OAuthServer;
  legacy: LegacyOAuth;
  sandboxSecret: string;
}): Omit<PodiumEmulator, keyof Emulator | keyof SendControls | 'emitMessageEvent' | 'signWebhook'> {
  const { url, state, other, states, oauth, legacy, sandboxSecret } = c;
  const { data } = state;
  const oauthConfig = (): PodiumOAuthConfig => ({
    apiUrl: url,
    clientId: legacy.client.id,
    clientSecret: legacy.client.secret,
    authorizeUrl: `${url}/oauth/authorize`,
    tokenUrl: `${url}/oauth/token`,
    scopes: ['read_messages', 'read_contacts', 'read_users', 'read_locations', 'read_organizations'],
    requestsPerMinute: 300,
  });
  return {
    provider: 'PODIUM',
    fixtures: {
      locationIds: data.locations.map((l) => l.uid),
      userIds: data.users.map((u) => u.uid),
      contactIds: data.contacts.map((c) => c.uid),
      conversationIds: data.conversations.map((c) => c.uid),
      messageCount: data.messageCount,
    },
    providerConfig: () => ({
      api: {
        apiUrl: url,
        accessToken: legacy.accessToken,
        refreshToken: legacy.client.refreshToken,
        clientId: legacy.client.id,
        clientSecret: legacy.client.secret,
        tokenUrl: `${url}/oauth/token`,
        requestsPerMinute: 300,
      },
      oauth: oauthConfig(),
      webhookSecret: sandboxSecret,
      webhookToleranceMs: 300_000,
    }),
    async addWebhookTarget(target) {
      const now = new Date().toISOString();
      // A Podium webhook belongs to one organization: one per organization, as an app connected to each would create.
      for (const st of states.values()) {
        const webhook: PodiumWebhook = {
          uid: randomUUID(),
          url: target,
          secret: sandboxSecret,
          disabled: false,
          eventTypes: MESSAGE_EVENTS,
          locationUid: null,
          organizationUid: st.data.organization.uid,
          createdAt: now,
          updatedAt: now,
        };
        st.webhooks.set(webhook.uid, webhook);
      }
    },
    oauth,
    oauthConfig,
    organizations: [state, other].map((st) => ({ uid: st.data.organization.uid, name: st.data.organization.businessName, locationUids: st.data.locations.map((l) => l.uid) })),
    accounts: [state, other].map((st) => ({ providerAccountId: st.data.organization.uid, name: st.data.organization.businessName })),
    expireAccessToken() {
      legacy.accessToken = legacy.newToken();
    },
  };
}
