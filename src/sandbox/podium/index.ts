// Emulator of Podium API v4 for the sandbox, tests and benchmarks: OAuth
// refresh, contacts, conversations, messages, users, locations and webhook
// CRUD with Podium's envelopes, cursors and error bodies, and message webhooks
// signed the way Podium signs them.
import { createHmac, randomUUID } from 'node:crypto';
import type { PodiumConfig, PodiumOAuthConfig } from '../../providers/podium/config.js';
import type { MessageEventKind } from '../../model.js';
import type { PodiumContact, PodiumConversation, PodiumWebhook } from '../../providers/podium/client.js';
import { deliverWebhook, seededRandom, startEmulator, type Emulator, type EmuRequest, type EmuRoute } from '../kit.js';
import { createOAuthServer, type OAuthServer } from '../oauth.js';
import type { EmittedEvent, ProviderEmulator, WithApi } from '../types.js';
import { createPodiumData, podiumMessage, SANDBOX_BUSINESSES, type PodiumSandboxData } from './data.js';
import { codeForStatus, error, errorBody, podiumRoutes, VERSION, type PodiumState } from './routes.js';

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
}

const MESSAGE_EVENTS = ['message.sent', 'message.received', 'message.failed'];

type Signer = (rawBody: string, sign?: { readonly timestampMs?: number }, secret?: string) => Record<string, string>;

export async function startPodiumEmulator(options: PodiumEmulatorOptions = {}): Promise<PodiumEmulator> {
  const seed = options.seed ?? 1;
  const data = createPodiumData(seed);
  const rand = seededRandom(seed + 1);
  const sandboxSecret = options.webhookSecret ?? 'sandbox-podium-secret';
  const newToken = (): string => `sandbox-podium-access-${randomUUID()}`;
  let emu: Emulator | null = null;
  const legacy = {
    client: { id: 'sandbox-podium-client', secret: 'sandbox-podium-client-secret', refreshToken: 'sandbox-podium-refresh-token' },
    accessToken: newToken(),
    newToken,
  };
  const makeState = (orgData: PodiumSandboxData): PodiumState & { conversationIndex: Map<string, number> } => {
    const conversationIndex = new Map(orgData.conversations.map((c, i) => [c.uid, i]));
    const contactIndex = new Map<string, PodiumContact>();
    for (const contact of orgData.contacts) {
      for (const key of [contact.uid, ...(contact.conversations ?? []).map((c) => c.uid), ...(contact.phoneNumbers ?? []), ...(contact.emails ?? [])]) {
        contactIndex.set(key.toLowerCase(), contact);
      }
    }
    return {
      data: orgData,
      webhooks: new Map(),
      contactIndex,
      conversationIndex,
      conversation(uid) {
        const i = conversationIndex.get(uid);
        return i === undefined ? undefined : orgData.conversations[i];
      },
      baseUrl: () => emu?.url ?? '',
      oauth: legacy,
    };
  };
  const state = makeState(data);
  // A second organization for OAuth: its tokens see its own data only.
  const other = makeState(createPodiumData(seed + 100, SANDBOX_BUSINESSES[1]));
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
  const stateOf = (req: EmuRequest): PodiumState => states.get(oauth.subjectOf(req.headers.authorization) ?? '') ?? state;
  const [consent, oauthToken] = oauth.routes({ authorize: '/oauth/authorize', token: '/oauth/token' }) as [EmuRoute, EmuRoute];
  const routesOf = (st: PodiumState): EmuRoute[] => [
    ...podiumRoutes(st),
    {
      method: 'GET',
      path: '/v4/organizations/:uid',
      handler: (req) =>
        req.params.uid === st.data.organization.uid
          ? { status: 200, body: { data: { ...st.data.organization, archived: false, createdAt: '2019-03-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' }, metadata: { url: `${st.baseUrl()}/v4/organizations/${st.data.organization.uid}` } } }
          : error(404, 'not_found', `No organization ${req.params.uid ?? ''} for this token`),
    },
  ];
  const [mainRoutes, otherRoutes] = [routesOf(state), routesOf(other)];
  const routes: EmuRoute[] = [
    consent,
    {
      method: 'POST',
      path: '/oauth/token',
      handler(req) {
        const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
        // The environment's refresh token keeps its old, non-rotating behaviour.
        const legacyRoute = mainRoutes.find((r) => r.method === 'POST' && r.path === '/oauth/token') as EmuRoute;
        return body.refresh_token === legacy.client.refreshToken ? legacyRoute.handler(req) : oauthToken.handler(req);
      },
    },
    ...mainRoutes
      .map((route, i) => ({ route, twin: otherRoutes[i] as EmuRoute }))
      .filter(({ route }) => route.path !== '/oauth/token')
      .map(({ route, twin }) => ({ ...route, handler: (req: EmuRequest) => (stateOf(req) === other ? twin.handler(req) : route.handler(req)) })),
  ];

  const base = await startEmulator({
    name: 'podium',
    port: options.port ?? 0,
    publicPaths: ['/oauth/'],
    errorBody: (status, message) => errorBody(codeForStatus(status), message),
    authorize(req) {
      const version = req.headers['podium-version'];
      if (version !== undefined && version !== VERSION) {
        return error(400, 'invalid_header_version', `podium-version must be ${VERSION}, got "${String(version)}"`);
      }
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${state.oauth.accessToken}` && oauth.authorizeApiCall(auth) === null) {
        return error(401, 'unauthenticated', auth ? 'The access token is invalid or has expired' : 'An Authorization: Bearer <access token> header is required');
      }
      return null;
    },
    routes,
  });
  emu = base;

  const signWebhook: Signer = (rawBody, sign = {}, secret = sandboxSecret) => {
    const timestamp = String(sign.timestampMs ?? Date.now());
    return {
      'podium-timestamp': timestamp,
      'podium-signature': createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex'),
    };
  };

  const oauthConfig = (): PodiumOAuthConfig => ({
    apiUrl: base.url,
    clientId: legacy.client.id,
    clientSecret: legacy.client.secret,
    authorizeUrl: `${base.url}/oauth/authorize`,
    tokenUrl: `${base.url}/oauth/token`,
    scopes: ['read_messages', 'read_contacts', 'read_users', 'read_locations', 'read_organizations'],
    requestsPerMinute: 300,
  });

  const extras: Omit<PodiumEmulator, keyof Emulator> = {
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
        apiUrl: base.url,
        accessToken: state.oauth.accessToken,
        refreshToken: state.oauth.client.refreshToken,
        clientId: state.oauth.client.id,
        clientSecret: state.oauth.client.secret,
        tokenUrl: `${base.url}/oauth/token`,
        requestsPerMinute: 300,
      },
      oauth: oauthConfig(),
      webhookSecret: sandboxSecret,
      webhookToleranceMs: 300_000,
    }),
    async addWebhookTarget(url) {
      const now = new Date().toISOString();
      // A Podium webhook belongs to one organization: one per organization, as an app connected to each would create.
      for (const st of states.values()) {
        const webhook: PodiumWebhook = {
          uid: randomUUID(),
          url,
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
    emitMessageEvent(kind, emit = {}) {
      const st = emit.providerAccountId === undefined ? state : states.get(emit.providerAccountId);
      if (!st) return Promise.reject(new Error(`The Podium emulator has no organization ${emit.providerAccountId ?? ''}`));
      return emitMessageEvent(st, { rand, conversationIndex: st.conversationIndex, signWebhook }, kind, emit.conversationId);
    },
    signWebhook: (rawBody, sign) => signWebhook(rawBody, sign),
    expireAccessToken() {
      state.oauth.accessToken = newToken();
    },
  };
  return Object.assign(base, extras);
}

/**
 * Stores a new message like the API would and delivers Podium's webhook for it
 * to every webhook subscribed to the event, signed with that webhook's secret.
 */
async function emitMessageEvent(
  state: PodiumState,
  tools: { readonly rand: () => number; readonly conversationIndex: ReadonlyMap<string, number>; readonly signWebhook: Signer },
  kind: MessageEventKind,
  conversationId: string | undefined,
): Promise<EmittedEvent> {
  const { data } = state;
  const { rand, signWebhook } = tools;
  const uid = conversationId ?? (data.conversations[Math.floor(rand() * data.conversations.length)] as PodiumConversation).uid;
  const conv = state.conversation(uid);
  const contact = state.contactIndex.get(uid);
  const thread = data.messages.get(uid);
  if (!conv || !contact || !thread) throw new Error(`The Podium emulator has no conversation ${uid}`);
  const createdAt = new Date().toISOString();
  const message = podiumMessage({
    rand,
    conversation: conv,
    contact,
    locations: data.locations,
    users: data.users,
    organizationUid: data.organization.uid,
    business: data.business,
    direction: kind === 'RECEIVED' ? 'inbound' : 'outbound',
    failed: kind === 'FAILED',
    createdAt,
    uid: randomUUID,
  });
  thread.push(message);
  data.conversations[tools.conversationIndex.get(uid) as number] = { ...conv, lastItemAt: createdAt, updatedAt: createdAt };

  const assignee = data.users.find((u) => u.uid === conv.assignedUserUid);
  const eventType = `message.${kind.toLowerCase()}`;
  // Webhooks carry the deprecated contact, sender and conversation.assignedUser objects.
  const rawBody = JSON.stringify({
    data: {
      ...message,
      contact: { externalIdentifier: null, name: contact.name ?? null, uid: contact.uid },
      conversation: { ...message.conversation, assignedUser: { name: assignee ? `${assignee.firstName} ${assignee.lastName}` : null, uid: assignee?.uid ?? null } },
      sender: { uid: message.senderUid ?? null },
    },
    metadata: { eventType, eventUid: randomUUID(), version: VERSION },
  });
  const timestampMs = Date.now();
  const deliveries = await Promise.all(
    webhookTargets(state, eventType, conv.locationUid ?? null).map(async (w) => {
      const url = w.url as string;
      const headers = w.secret ? signWebhook(rawBody, { timestampMs }, w.secret) : {};
      try {
        return { url, status: (await deliverWebhook(url, rawBody, headers)).status };
      } catch {
        return { url, status: 0 };
      }
    }),
  );
  return { messageId: `${uid}/${message.uid}`, conversationId: uid, rawBody, headers: signWebhook(rawBody, { timestampMs }), deliveries };
}

function webhookTargets(state: PodiumState, eventType: string, locationUid: string | null): PodiumWebhook[] {
  return [...state.webhooks.values()].filter(
    (w) =>
      !w.disabled &&
      w.url &&
      w.eventTypes.includes(eventType) &&
      (w.organizationUid === state.data.organization.uid || (w.locationUid !== null && w.locationUid === locationUid)),
  );
}
