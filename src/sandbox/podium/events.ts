// Podium's message webhooks from the emulator: the body as Podium delivers it
// (the message object plus the deprecated contact, sender and
// conversation.assignedUser that only webhooks carry), signed per webhook with
// its secret, to every webhook of the organization or location subscribed to
// the event type; and live demo events built on it.
import { createHmac, randomUUID } from 'node:crypto';
import type { MessageEventKind } from '../../model.js';
import type { PodiumContact, PodiumConversation, PodiumMessage, PodiumWebhook } from '../../providers/podium/client.js';
import { deliverWebhook } from '../kit.js';
import type { EmittedEvent } from '../types.js';
import { podiumMessage } from './data.js';
import { VERSION, type PodiumState } from './routes.js';

export type Signer = (rawBody: string, sign?: { readonly timestampMs?: number }, secret?: string) => Record<string, string>;

/** Podium's signature: HMAC-SHA256 over `<podium-timestamp>.<raw body>` with the webhook's secret, hex. */
export function podiumSigner(defaultSecret: string): Signer {
  return (rawBody, sign = {}, secret = defaultSecret) => {
    const timestamp = String(sign.timestampMs ?? Date.now());
    return {
      'podium-timestamp': timestamp,
      'podium-signature': createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex'),
    };
  };
}

export interface PodiumDelivery {
  readonly rawBody: string;
  readonly timestampMs: number;
  readonly deliveries: ReadonlyArray<{ readonly url: string; readonly status: number }>;
}

/** Delivers `message` as a `message.sent|received|failed` webhook to every subscribed webhook. */
export async function deliverMessageEvent(
  state: PodiumState,
  signWebhook: Signer,
  eventType: string,
  message: PodiumMessage,
  contact: PodiumContact | undefined,
): Promise<PodiumDelivery> {
  const { data } = state;
  const assignee = data.users.find((u) => u.uid === message.conversation?.assignedUserUid);
  // Webhooks carry the deprecated contact, sender and conversation.assignedUser objects.
  const rawBody = JSON.stringify({
    data: {
      ...message,
      contact: { externalIdentifier: null, name: contact?.name ?? message.contactName ?? null, uid: contact?.uid ?? null },
      conversation: { ...message.conversation, assignedUser: { name: assignee ? `${assignee.firstName} ${assignee.lastName}` : null, uid: assignee?.uid ?? null } },
      sender: { uid: message.senderUid ?? null },
    },
    metadata: { eventType, eventUid: randomUUID(), version: VERSION },
  });
  const timestampMs = Date.now();
  const deliveries = await Promise.all(
    webhookTargets(state, eventType, message.location?.uid ?? null).map(async (w) => {
      const url = w.url as string;
      const headers = w.secret ? signWebhook(rawBody, { timestampMs }, w.secret) : {};
      try {
        return { url, status: (await deliverWebhook(url, rawBody, headers)).status };
      } catch {
        return { url, status: 0 };
      }
    }),
  );
  return { rawBody, timestampMs, deliveries };
}

/**
 * Stores a new message like the API would and delivers Podium's webhook for it
 * to every webhook subscribed to the event, signed with that webhook's secret.
 */
export async function emitMessageEvent(
  state: PodiumState,
  tools: { readonly rand: () => number; readonly signWebhook: Signer },
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
  state.touchConversation(uid, createdAt);
  const { rawBody, timestampMs, deliveries } = await deliverMessageEvent(state, signWebhook, `message.${kind.toLowerCase()}`, message, contact);
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
