// Emulator of Podium API v4 for the sandbox, tests and benchmarks: OAuth
// refresh, contacts, conversations, messages, users, locations and webhook
// CRUD with Podium's envelopes, cursors and error bodies, and message webhooks
// signed the way Podium signs them.
import { createHmac, randomUUID } from 'node:crypto';
import type { PodiumConfig } from '../../config.js';
import type { MessageEventKind } from '../../model.js';
import type { PodiumContact, PodiumConversation, PodiumWebhook } from '../../providers/podium/client.js';
import { deliverWebhook, seededRandom, startEmulator, type Emulator } from '../kit.js';
import type { EmittedEvent, ProviderEmulator, WithApi } from '../types.js';
import { createPodiumData, podiumMessage } from './data.js';
import { codeForStatus, error, errorBody, podiumRoutes, VERSION, type PodiumState } from './routes.js';

export interface PodiumEmulator extends ProviderEmulator<WithApi<PodiumConfig>> {
  /** Replaces the access token as if it had expired: the adapter's next call gets 401 and has to refresh. */
  expireAccessToken(): void;
}

export interface PodiumEmulatorOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Seed of the sandbox data. @default 1 */
  readonly seed?: number;
  /** Secret of webhooks made by addWebhookTarget and of signWebhook. @default 'sandbox-podium-secret' */
  readonly webhookSecret?: string;
}

const MESSAGE_EVENTS = ['message.sent', 'message.received', 'message.failed'];

type Signer = (rawBody: string, sign?: { readonly timestampMs?: number }, secret?: string) => Record<string, string>;

export async function startPodiumEmulator(options: PodiumEmulatorOptions = {}): Promise<PodiumEmulator> {
  const seed = options.seed ?? 1;
  const data = createPodiumData(seed);
  const rand = seededRandom(seed + 1);
  const sandboxSecret = options.webhookSecret ?? 'sandbox-podium-secret';
  const newToken = (): string => `sandbox-podium-access-${randomUUID()}`;
  const conversationIndex = new Map(data.conversations.map((c, i) => [c.uid, i]));
  const contactIndex = new Map<string, PodiumContact>();
  for (const contact of data.contacts) {
    for (const key of [contact.uid, ...(contact.conversations ?? []).map((c) => c.uid), ...(contact.phoneNumbers ?? []), ...(contact.emails ?? [])]) {
      contactIndex.set(key.toLowerCase(), contact);
    }
  }
  let emu: Emulator | null = null;
  const state: PodiumState = {
    data,
    webhooks: new Map(),
    contactIndex,
    conversation(uid) {
      const i = conversationIndex.get(uid);
      return i === undefined ? undefined : data.conversations[i];
    },
    baseUrl: () => emu?.url ?? '',
    oauth: {
      client: { id: 'sandbox-podium-client', secret: 'sandbox-podium-client-secret', refreshToken: 'sandbox-podium-refresh-token' },
      accessToken: newToken(),
      newToken,
    },
  };

  const base = await startEmulator({
    name: 'podium',
    port: options.port ?? 0,
    publicPaths: ['/oauth/token'],
    errorBody: (status, message) => errorBody(codeForStatus(status), message),
    authorize(req) {
      const version = req.headers['podium-version'];
      if (version !== undefined && version !== VERSION) {
        return error(400, 'invalid_header_version', `podium-version must be ${VERSION}, got "${String(version)}"`);
      }
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${state.oauth.accessToken}`) {
        return error(401, 'unauthenticated', auth ? 'The access token is invalid or has expired' : 'An Authorization: Bearer <access token> header is required');
      }
      return null;
    },
    routes: podiumRoutes(state),
  });
  emu = base;

  const signWebhook: Signer = (rawBody, sign = {}, secret = sandboxSecret) => {
    const timestamp = String(sign.timestampMs ?? Date.now());
    return {
      'podium-timestamp': timestamp,
      'podium-signature': createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex'),
    };
  };

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
      webhookSecret: sandboxSecret,
      webhookToleranceMs: 300_000,
    }),
    async addWebhookTarget(url) {
      const now = new Date().toISOString();
      const webhook: PodiumWebhook = {
        uid: randomUUID(),
        url,
        secret: sandboxSecret,
        disabled: false,
        eventTypes: MESSAGE_EVENTS,
        locationUid: null,
        organizationUid: data.organization.uid,
        createdAt: now,
        updatedAt: now,
      };
      state.webhooks.set(webhook.uid, webhook);
    },
    emitMessageEvent: (kind, emit = {}) => emitMessageEvent(state, { rand, conversationIndex, signWebhook }, kind, emit.conversationId),
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
