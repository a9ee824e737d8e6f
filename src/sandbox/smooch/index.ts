// Emulator of the Sunshine Conversations v2 API for the routes the Smooch adapter
// uses: users, conversations, participants, messages (fixed pages of 100, newest
// page first), custom integrations and their webhooks. Basic auth with the app
// key; errors as `{ errors: [{ code, title }] }`. Message events are delivered
// as v2 webhooks carrying the webhook's secret in `X-API-Key`.
import type { SmoochConfig } from '../../providers/smooch/config.js';
import type { MessageEventKind } from '../../model.js';
import { seededRandom, startEmulator } from '../kit.js';
import { createSendLifecycle } from '../sending.js';
import type { EmitOptions, EmittedEvent, ProviderEmulator, WithApi } from '../types.js';
import { deliverSmoochHistory } from './history.js';
import { createSmoochData, SANDBOX_BUSINESS, type SmoochMessage, type SmoochSandboxData, type SmoochUser } from './data.js';
import { createCustomIntegration, error, smoochRoutes } from './routes.js';
import { SMOOCH_SEND_REQUESTS, smoochSendRoute } from './send.js';
import { deliverSmoochEvent } from './webhooks.js';

export { SEND_LIFECYCLE_TRIGGERS, SMOOCH_SEND_REQUESTS } from './send.js';

export interface SmoochEmulatorOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Seed of the generated data. @default 1 */
  readonly seed?: number;
  /** Secret of the webhooks `addWebhookTarget` creates. @default 'sandbox-smooch-secret' */
  readonly webhookSecret?: string;
}

export interface SmoochEmulator extends ProviderEmulator<WithApi<SmoochConfig>> {
  /** The live data behind the API, for tests that need to know more than the fixture ids. */
  readonly data: SmoochSandboxData;
}

/** The triggers `addWebhookTarget` subscribes: every message event the emulator emits. */
export const SANDBOX_TRIGGERS = ['conversation:message', 'conversation:message:delivery:failure'];

const ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_requests',
};

export async function startSmoochEmulator(options: SmoochEmulatorOptions = {}): Promise<SmoochEmulator> {
  const data = createSmoochData(options.seed ?? 1);
  const webhookSecret = options.webhookSecret ?? 'sandbox-smooch-secret';
  const rand = seededRandom((options.seed ?? 1) + 1);
  const expectedAuth = `Basic ${Buffer.from(`${data.keyId}:${data.secret}`).toString('base64')}`;
  let baseUrl = '';

  const lifecycle = createSendLifecycle();
  const emulator = await startEmulator({
    name: 'smooch',
    routes: [...smoochRoutes({ data, baseUrl: () => baseUrl }), smoochSendRoute(data, { lifecycle, webhookSecret })],
    port: options.port,
    authorize: (req) => (req.headers.authorization === expectedAuth ? null : error(401, 'unauthorized', 'Authorization is required')),
    errorBody: (status, message) => ({ errors: [{ code: ERROR_CODES[status] ?? 'internal_server_error', title: message }] }),
  });
  baseUrl = emulator.url;
  const closeServer = emulator.close;

  return Object.assign(emulator, lifecycle.controls(emulator, SMOOCH_SEND_REQUESTS, 'The channel rejected the message'), {
    async close() {
      lifecycle.stop();
      await closeServer();
    },
    provider: 'SMOOCH' as const,
    data,
    fixtures: {
      locationIds: [], // Smooch has no locations
      userIds: [], // nor staff users
      contactIds: data.users.map((u) => u.id),
      conversationIds: data.conversations.map((c) => c.id),
      messageCount: [...data.messages.values()].reduce((n, list) => n + list.length, 0),
    },
    providerConfig: () => ({ api: { apiUrl: emulator.url, appId: data.appId, keyId: data.keyId, secret: data.secret }, webhookSecret }),
    async addWebhookTarget(url: string) {
      createCustomIntegration(data, 'Sandbox webhook', { target: url, triggers: SANDBOX_TRIGGERS }, webhookSecret);
    },
    deliverHistory: (url: string) => deliverSmoochHistory(data, url),
    accounts: [{ providerAccountId: data.appId, name: SANDBOX_BUSINESS.displayName }],
    emitMessageEvent: (kind: MessageEventKind, opts?: EmitOptions) => emitMessageEvent(data, rand, webhookSecret, kind, opts),
    signWebhook: () => ({ 'x-api-key': webhookSecret }),
  });
}

/** Stores a new message and delivers the v2 webhook for it to every webhook subscribed to its event type. */
async function emitMessageEvent(
  data: SmoochSandboxData,
  rand: () => number,
  webhookSecret: string,
  kind: MessageEventKind,
  opts: EmitOptions = {},
): Promise<EmittedEvent> {
  if (opts.providerAccountId !== undefined && opts.providerAccountId !== data.appId) throw new Error(`Smooch sandbox has no app ${opts.providerAccountId}`);
  const conversation = opts.conversationId
    ? data.conversations.find((c) => c.id === opts.conversationId)
    : data.conversations[Math.floor(rand() * data.conversations.length)];
  if (!conversation) throw new Error(`Smooch sandbox has no conversation ${JSON.stringify(opts.conversationId)}`);
  const user = data.users.find((u) => u.id === conversation.userId) as SmoochUser;
  const now = Date.now();
  const received = new Date(now).toISOString();
  const fromUser = kind === 'RECEIVED';
  const message: SmoochMessage = {
    id: data.newId(now),
    received,
    author: fromUser
      ? { type: 'user', userId: user.id, displayName: `${user.profile.givenName} ${user.profile.surname}` }
      : { type: 'business', ...SANDBOX_BUSINESS },
    content: { type: 'text', text: fromUser ? 'Hi, is anyone there?' : 'Thanks for reaching out, we are on it.' },
    source: fromUser ? { type: conversation.channel, integrationId: conversation.integrationId } : { type: 'api:conversations' },
  };
  data.messages.get(conversation.id)?.push(message);
  conversation.lastUpdatedAt = received;

  const userRef = { id: user.id, ...(user.externalId ? { externalId: user.externalId } : {}), authenticated: false };
  const conversationRef = { id: conversation.id, type: conversation.type };
  const event =
    kind === 'FAILED'
      ? {
          id: data.newId(now),
          type: 'conversation:message:delivery:failure',
          createdAt: received,
          payload: {
            conversation: conversationRef,
            user: userRef,
            destination: { type: conversation.channel, integrationId: conversation.integrationId },
            message: { id: message.id },
            isFinalEvent: true,
            error: { code: 'uncategorized_error', message: `The ${conversation.channel} channel rejected the message` },
          },
        }
      : {
          id: data.newId(now),
          type: 'conversation:message',
          createdAt: received,
          payload: {
            conversation: conversationRef,
            message: fromUser ? { ...message, author: { ...message.author, user: userRef } } : message,
          },
        };

  return { messageId: message.id, conversationId: conversation.id, ...(await deliverSmoochEvent(data, event, webhookSecret)) };
}

