// The HighLevel (LeadConnector API v2) emulator: the REST routes the adapter
// uses (reads and the send endpoint), with HighLevel's Bearer auth, per-family
// Version headers, envelopes, paging and `{statusCode, message, error}`
// errors, plus Marketplace-app webhook deliveries signed with both
// x-ghl-signature (Ed25519) and x-wh-signature (RSA).
import type { LeadConnectorConfig, LeadConnectorOAuthConfig } from '../../providers/leadconnector/config.js';
import type { MessageEventKind } from '../../model.js';
import { startEmulator, type Emulator, type EmuRequest, type EmuResponse, type EmuRoute } from '../kit.js';
import { createOAuthServer, type OAuthServer } from '../oauth.js';
import { createSendLifecycle, type SendControls } from '../sending.js';
import type { EmitOptions, ProviderEmulator, WithApi } from '../types.js';
import { createLeadConnectorData, type LeadConnectorData } from './data.js';
import { createLeadConnectorWebhooks, emitMessageEvent, messageClock, type LeadConnectorWebhooks } from './events.js';
import { errorBody, fail, leadConnectorRoutes } from './routes.js';
import { LEADCONNECTOR_SEND_REQUESTS, leadConnectorSendRoute } from './send.js';

export { LEADCONNECTOR_SEND_REQUESTS } from './send.js';

export interface LeadConnectorEmulatorOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Seed of the generated data; the same seed gives the same data. @default 1 */
  readonly seed?: number;
  /** The Marketplace app's webhook URL: message events are delivered there from the start. */
  readonly webhookUrl?: string;
  /**
   * Answer GET /conversations/{id}/messages in the spec's flat shape
   * `{lastMessageId, nextPage, messages}` instead of the nested
   * `{messages: {lastMessageId, nextPage, messages}}` live integrations report.
   * @default false
   */
  readonly flatMessages?: boolean;
  /** Lifetime of OAuth access tokens. @default 86_399 (seconds, HighLevel's) */
  readonly accessTokenTtlSeconds?: number;
  /** Refuse sends whose message is longer (HighLevel documents no limit). @default none */
  readonly maxBodyLength?: number;
}

export interface LeadConnectorEmulator extends ProviderEmulator<WithApi<LeadConnectorConfig>> {
  /** The Marketplace app's authorization server: consent as a location, codes, rotating refresh tokens. */
  readonly oauth: OAuthServer;
  /** The gateway's OAuth app settings for this emulator (LEADCONNECTOR_CLIENT_ID and the rest). */
  oauthConfig(): LeadConnectorOAuthConfig;
}

const SANDBOX_TOKEN = 'pit-0f5a6c1e-sandbox-leadconnector';
const OAUTH_CLIENT = { id: 'sandbox-leadconnector-client', secret: 'sandbox-leadconnector-client-secret' };
const LOCATION_NAMES = ['Sandbox Smiles Downtown', 'Sandbox Smiles Uptown'];
const LOCATIONS_VERSION = '2021-07-28';

export async function startLeadConnectorEmulator(options: LeadConnectorEmulatorOptions = {}): Promise<LeadConnectorEmulator> {
  const data = createLeadConnectorData(options.seed ?? 1);
  const [mainLocation = ''] = data.locationIds;
  const webhooks = createLeadConnectorWebhooks(data, options.webhookUrl ? [options.webhookUrl] : []);
  const nextAt = messageClock();
  const lifecycle = createSendLifecycle();
  const oauth = createOAuthServer({
    client: OAUTH_CLIENT,
    subjects: data.locationIds,
    tokenPrefix: 'sandbox-lc',
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 86_399,
    answerFields: (locationId) => ({ scope: 'conversations.readonly contacts.readonly users.readonly locations.readonly', userType: 'Location', locationId, companyId: data.companyId, userId: data.users[0]?.id ?? null, isBulkInstallation: false }),
    error: (status, error, description) => ({ status, body: { error, error_description: description } }),
  });
  /** The location a token acts for: the sandbox's private integration token is the first location's. */
  const locationOf = (authorization: string | undefined): string | null => (authorization === `Bearer ${SANDBOX_TOKEN}` ? mainLocation : oauth.subjectOf(authorization));

  const emulator = await startEmulator({
    name: 'leadconnector',
    port: options.port,
    publicPaths: ['/oauth/'],
    routes: [
      ...leadConnectorRoutes(data, options.flatMessages ?? false),
      ...oauth.routes({ authorize: '/oauth/chooselocation', token: '/oauth/token' }),
      locationRoute(data),
      leadConnectorSendRoute(data, { lifecycle, webhooks, nextAt, locationOf: (req) => locationOf(req.headers.authorization), options }),
    ],
    authorize: (req) => authorize(req, oauth),
    errorBody: (status, message) => errorBody(status, message),
    // HighLevel's burst limit (its OAuth documentation): 100 requests per 10 seconds per Marketplace app and location.
    rateLimit: { max: 100, windowMs: 10_000 },
    accountOf: (headers) => locationOf(headers.authorization) ?? '',
  });
  const closeServer = emulator.close;

  return Object.assign(emulator, lifecycle.controls(emulator, LEADCONNECTOR_SEND_REQUESTS, 'failed'), {
    ...leadConnectorExtras(emulator.url, data, webhooks, oauth),
    emitMessageEvent: (kind: MessageEventKind, emitOptions?: EmitOptions) => emitMessageEvent(data, { webhooks, nextAt, mainLocation }, kind, emitOptions),
    async close() {
      lifecycle.stop();
      await closeServer();
    },
  });
}

/** An OAuth token reaches its own location only, as HighLevel's location tokens do. */
function authorize(req: EmuRequest, oauth: OAuthServer): EmuResponse | null {
  if (req.headers.authorization === `Bearer ${SANDBOX_TOKEN}`) return null;
  const locationId = oauth.authorizeApiCall(req.headers.authorization);
  if (locationId === null) return fail(401, 'Invalid JWT');
  const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const asked = req.query.get('locationId') ?? (typeof body.locationId === 'string' ? body.locationId : null) ?? req.params.locationId ?? null;
  return asked !== null && asked !== locationId ? fail(403, 'The token does not have access to this location') : null;
}

function locationRoute(data: LeadConnectorData): EmuRoute {
  return {
    method: 'GET',
    path: '/locations/:locationId',
    handler(req) {
      if (req.headers.version !== LOCATIONS_VERSION) return fail(400, `Version header must be ${LOCATIONS_VERSION}`);
      const index = data.locationIds.indexOf(req.params.locationId ?? '');
      if (index < 0) return fail(404, 'Location not found');
      return { status: 200, body: { location: { id: data.locationIds[index], name: locationName(index), companyId: data.companyId, timezone: 'America/Denver' } } };
    },
  };
}

/** The ProviderEmulator parts that describe the locations and configure the gateway. */
function leadConnectorExtras(
  url: string,
  data: LeadConnectorData,
  webhooks: LeadConnectorWebhooks,
  oauth: OAuthServer,
): Omit<LeadConnectorEmulator, keyof Emulator | keyof SendControls | 'emitMessageEvent'> {
  const [mainLocation = ''] = data.locationIds;
  const mainConversations = [...data.conversations.values()].filter((c) => c.locationId === mainLocation);
  const oauthConfig = (): LeadConnectorOAuthConfig => ({
    apiUrl: url,
    clientId: OAUTH_CLIENT.id,
    clientSecret: OAUTH_CLIENT.secret,
    authorizeUrl: `${url}/oauth/chooselocation`,
    tokenUrl: `${url}/oauth/token`,
    scopes: ['conversations.readonly', 'contacts.readonly', 'users.readonly', 'locations.readonly'],
    requestsPer10Seconds: 100,
  });
  return {
    provider: 'LEADCONNECTOR' as const,
    accounts: data.locationIds.map((id, index) => ({ providerAccountId: id, name: locationName(index) })),
    fixtures: {
      locationIds: data.locationIds,
      userIds: data.users.map((u) => u.id),
      contactIds: [...data.contacts.values()].filter((c) => c.locationId === mainLocation).map((c) => c.id),
      conversationIds: mainConversations.map((c) => c.id),
      messageCount: mainConversations.reduce((n, c) => n + (data.conversationMessages.get(c.id)?.length ?? 0), 0),
    },
    providerConfig: () => ({
      api: { apiUrl: url, token: SANDBOX_TOKEN, locationId: mainLocation, companyId: data.companyId, requestsPer10Seconds: 100 },
      webhookPublicKey: webhooks.rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      webhookEd25519PublicKey: webhooks.ed25519.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      webhookToleranceMs: 300_000, // 5 minutes
      oauth: oauthConfig(),
    }),
    oauth,
    oauthConfig,
    addWebhookTarget: async (target: string) => {
      webhooks.targets.add(target);
    },
    // HighLevel puts the timestamp in the signed body, so there is no timestamp header to add.
    signWebhook: (rawBody: string) => webhooks.sign(rawBody),
  };
}

function locationName(index: number): string {
  return LOCATION_NAMES[index] ?? `Location ${index + 1}`;
}
