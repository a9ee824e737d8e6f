// The HighLevel (LeadConnector API v2) emulator: the REST routes the adapter
// uses, with HighLevel's Bearer auth, per-family Version headers, envelopes,
// paging and `{statusCode, message, error}` errors, plus Marketplace-app
// webhook deliveries signed with both x-ghl-signature (Ed25519) and x-wh-signature (RSA).
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { LeadConnectorConfig, LeadConnectorOAuthConfig } from '../../providers/leadconnector/config.js';
import type { MessageEventKind } from '../../model.js';
import { deliverWebhook, startEmulator, type EmuRequest, type EmuResponse } from '../kit.js';
import { createOAuthServer, type OAuthServer } from '../oauth.js';
import type { EmitOptions, EmittedEvent, ProviderEmulator, WithApi } from '../types.js';
import { addMessage, createLeadConnectorData, type EmuContact, type EmuMessage } from './data.js';
import { errorBody, fail, leadConnectorRoutes } from './routes.js';

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
const FRONT_DESK = 'Front Desk <frontdesk@sandbox-location.example.com>';

export async function startLeadConnectorEmulator(options: LeadConnectorEmulatorOptions = {}): Promise<LeadConnectorEmulator> {
  const data = createLeadConnectorData(options.seed ?? 1);
  const [mainLocation = ''] = data.locationIds;
  const mainConversations = [...data.conversations.values()].filter((c) => c.locationId === mainLocation);
  const ed25519 = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const targets = new Set<string>(options.webhookUrl ? [options.webhookUrl] : []);
  let lastEmittedAt = 0;

  const oauth = createOAuthServer({
    client: OAUTH_CLIENT,
    subjects: data.locationIds,
    tokenPrefix: 'sandbox-lc',
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 86_399,
    answerFields: (locationId) => ({ scope: 'conversations.readonly contacts.readonly users.readonly locations.readonly', userType: 'Location', locationId, companyId: data.companyId, userId: data.users[0]?.id ?? null, isBulkInstallation: false }),
    error: (status, error, description) => ({ status, body: { error, error_description: description } }),
  });

  /** An OAuth token reaches its own location only, as HighLevel's location tokens do. */
  function authorize(req: EmuRequest): EmuResponse | null {
    if (req.headers.authorization === `Bearer ${SANDBOX_TOKEN}`) return null;
    const locationId = oauth.authorizeApiCall(req.headers.authorization);
    if (locationId === null) return fail(401, 'Invalid JWT');
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const asked = req.query.get('locationId') ?? (typeof body.locationId === 'string' ? body.locationId : null) ?? req.params.locationId ?? null;
    return asked !== null && asked !== locationId ? fail(403, 'The token does not have access to this location') : null;
  }

  const emulator = await startEmulator({
    name: 'leadconnector',
    port: options.port,
    publicPaths: ['/oauth/'],
    routes: [
      ...leadConnectorRoutes(data, options.flatMessages ?? false),
      ...oauth.routes({ authorize: '/oauth/chooselocation', token: '/oauth/token' }),
      {
        method: 'GET',
        path: '/locations/:locationId',
        handler(req) {
          if (req.headers.version !== LOCATIONS_VERSION) return fail(400, `Version header must be ${LOCATIONS_VERSION}`);
          const index = data.locationIds.indexOf(req.params.locationId ?? '');
          if (index < 0) return fail(404, 'Location not found');
          return { status: 200, body: { location: { id: data.locationIds[index], name: locationName(index), companyId: data.companyId, timezone: 'America/Denver' } } };
        },
      },
    ],
    authorize,
    errorBody: (status, message) => errorBody(status, message),
  });

  function signWebhook(rawBody: string): Record<string, string> {
    const bytes = Buffer.from(rawBody, 'utf8');
    return {
      'x-ghl-signature': sign(null, bytes, ed25519.privateKey).toString('base64'),
      'x-wh-signature': sign('sha256', bytes, rsa.privateKey).toString('base64'),
    };
  }

  async function emitMessageEvent(kind: MessageEventKind, emitOptions: EmitOptions = {}): Promise<EmittedEvent> {
    const locationId = emitOptions.providerAccountId ?? mainLocation;
    if (!data.locationIds.includes(locationId)) throw new Error(`HighLevel emulator has no location ${locationId}`);
    const ofLocation = [...data.conversations.values()].filter((c) => c.locationId === locationId);
    const conversation = emitOptions.conversationId
      ? data.conversations.get(emitOptions.conversationId)
      : ofLocation[Math.floor(data.random() * ofLocation.length)];
    if (!conversation) throw new Error(`HighLevel emulator has no conversation ${emitOptions.conversationId ?? ''}`);
    const direction = kind === 'RECEIVED' ? 'inbound' : 'outbound';
    const staff = data.users.filter((u) => u.roles.locationIds.includes(conversation.locationId));
    lastEmittedAt = Math.max(Date.now(), lastEmittedAt + 1, conversation.lastMessageDate + 1);
    const message = addMessage(data, conversation.id, {
      kind: conversation.type === 'TYPE_EMAIL' ? 'EMAIL' : 'SMS',
      direction,
      at: lastEmittedAt,
      status: kind === 'RECEIVED' ? 'delivered' : kind === 'FAILED' ? 'failed' : 'sent',
      userId: direction === 'outbound' ? staff[Math.floor(data.random() * staff.length)]?.id : undefined,
    });
    const rawBody = JSON.stringify(webhookBody(message, kind === 'RECEIVED' ? 'InboundMessage' : 'OutboundMessage', data.contacts.get(message.contactId)));
    const headers = signWebhook(rawBody);
    // HighLevel retries only a 429, and not at once: one attempt per target is what a caller observes.
    const deliveries = await Promise.all(
      [...targets].map(async (url) => {
        try {
          return { url, status: (await deliverWebhook(url, rawBody, headers)).status };
        } catch {
          return { url, status: 0 };
        }
      }),
    );
    return { messageId: message.id, conversationId: conversation.id, rawBody, headers, deliveries };
  }

  function oauthConfig(): LeadConnectorOAuthConfig {
    return {
      apiUrl: emulator.url,
      clientId: OAUTH_CLIENT.id,
      clientSecret: OAUTH_CLIENT.secret,
      authorizeUrl: `${emulator.url}/oauth/chooselocation`,
      tokenUrl: `${emulator.url}/oauth/token`,
      scopes: ['conversations.readonly', 'contacts.readonly', 'users.readonly', 'locations.readonly'],
      requestsPer10Seconds: 100,
    };
  }

  return Object.assign(emulator, {
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
      api: { apiUrl: emulator.url, token: SANDBOX_TOKEN, locationId: mainLocation, companyId: data.companyId, requestsPer10Seconds: 100 },
      webhookPublicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      webhookEd25519PublicKey: ed25519.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      webhookToleranceMs: 300_000, // 5 minutes
      oauth: oauthConfig(),
    }),
    oauth,
    oauthConfig,
    addWebhookTarget: async (url: string) => {
      targets.add(url);
    },
    emitMessageEvent,
    // HighLevel puts the timestamp in the signed body, so there is no timestamp header to add.
    signWebhook: (rawBody: string) => signWebhook(rawBody),
  });
}

function locationName(index: number): string {
  return LOCATION_NAMES[index] ?? `Location ${index + 1}`;
}

/** An InboundMessage / OutboundMessage body shaped like HighLevel's examples, plus `webhookId` and `timestamp`. */
function webhookBody(m: EmuMessage, type: 'InboundMessage' | 'OutboundMessage', contact: EmuContact | undefined): Record<string, unknown> {
  const isEmail = m.messageType === 'TYPE_EMAIL';
  const contactAddress = `${contact?.firstName ?? ''} ${contact?.lastName ?? ''} <${contact?.email ?? `${m.contactId}@example.net`}>`.trim();
  return {
    type,
    locationId: m.locationId,
    attachments: m.attachments,
    body: m.body,
    contactId: m.contactId,
    ...(isEmail ? {} : { contentType: m.contentType }),
    conversationId: m.conversationId,
    dateAdded: m.dateAdded,
    direction: m.direction,
    messageType: isEmail ? 'Email' : 'SMS',
    status: m.status,
    messageId: m.id,
    ...(m.userId ? { userId: m.userId } : {}),
    ...(type === 'OutboundMessage' ? { source: m.source ?? 'app' } : {}),
    ...(isEmail
      ? {
          emailMessageId: m.id,
          threadId: m.id,
          from: m.direction === 'inbound' ? contactAddress : FRONT_DESK,
          to: [m.direction === 'inbound' ? FRONT_DESK : contactAddress],
          subject: m.direction === 'inbound' ? 'Appointment request' : 'Re: Appointment request',
        }
      : {}),
    webhookId: randomUUID(),
    timestamp: new Date().toISOString(),
  };
}

