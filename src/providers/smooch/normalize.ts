// Pure functions from Sunshine Conversations JSON (v2 REST and webhooks, v1.1
// webhooks) to the unified model. No clock, no I/O: every input is a payload the
// provider sent, so every field is read defensively.
import type { Attachment, Channel, ContactRecord, ConversationRecord, MessageRecord, SenderRef, WebhookRecord } from '../../model.js';
import { str } from '../guards.js';
import type { RawConversation, RawMessage, RawParticipant, RawUser, RawV11Message, RawV11Payload, RawV2DeliveryPayload, RawWebhook } from './client.js';

const channels: Readonly<Record<string, Channel>> = {
  messenger: 'FACEBOOK',
  instagram: 'INSTAGRAM',
  whatsapp: 'WHATSAPP',
  twilio: 'SMS',
  messagebird: 'SMS',
  sms: 'SMS',
  web: 'WEBCHAT',
  ios: 'WEBCHAT',
  android: 'WEBCHAT',
  sdk: 'WEBCHAT', // v2's umbrella client type for web, ios, android and unity
  api: 'WEBCHAT',
  mailgun: 'EMAIL',
  email: 'EMAIL',
  apple: 'APPLE',
};

/** Channel of a `source.type` / `destination.type`; `api:conversations` counts as `api`. */
export function smoochChannel(type: unknown): Channel {
  const base = str(type)?.split(':')[0]?.toLowerCase();
  // Own keys only: payload text such as "constructor" must not reach Object.prototype.
  return (base && Object.hasOwn(channels, base) ? channels[base] : undefined) ?? 'OTHER';
}

/** v1.1 timestamps are unix seconds with a fraction (1444348338.704). */
export function unixSecondsToIso(value: unknown): string | null {
  return typeof value === 'number' && Number.isFinite(value) ? new Date(Math.round(value * 1000)).toISOString() : null;
}

/** The load key of a message: Smooch can only find a message within its conversation. */
export function smoochMessageKey(conversationId: string | null, messageId: string | null): string | null {
  return conversationId && messageId ? `${conversationId}/${messageId}` : null;
}

export function normalizeSmoochUser(raw: RawUser): ContactRecord {
  const name = userName(raw);
  const identityEmails = (Array.isArray(raw.identities) ? raw.identities : [])
    .filter((i) => i?.type === 'email')
    .map((i) => str(i.value));
  const emails = [...new Set([str(raw.profile?.email), ...identityEmails].filter((e): e is string => e !== null))];
  const externalId = str(raw.externalId);
  return {
    provider: 'SMOOCH',
    id: raw.id,
    name,
    emails,
    phones: [],
    locationId: null,
    createdAt: str(raw.signedUpAt),
    updatedAt: null,
    // GET users/{userIdOrExternalId} answers to either key.
    ...(externalId && externalId !== raw.id ? { aliases: [externalId] } : {}),
  };
}

/** What a conversation's own object does not say: who it is with, and over which client. */
export interface SmoochConversationContext {
  /** The list filter's user, or the participant of a personal conversation. */
  readonly contactRef: string | null;
  /** That user's profile, when it was read. */
  readonly user: RawUser | null;
  /** The conversation's participants, whose client associations name the channel. */
  readonly participants: readonly RawParticipant[] | null;
}

export function normalizeSmoochConversation(raw: RawConversation, context: SmoochConversationContext): ConversationRecord {
  const lastUpdatedAt = str(raw.lastUpdatedAt);
  const participant = context.participants?.find((p) => p.userId === context.contactRef) ?? context.participants?.[0];
  const client = participant?.clientAssociations?.[0];
  return {
    provider: 'SMOOCH',
    id: raw.id,
    locationId: null,
    contactRef: context.contactRef,
    contactName: (context.user && userName(context.user)) ?? str(raw.displayName),
    assignedUserId: null,
    // The client the user talks through (v2's `sdk` covers web, iOS and Android), as its messages' source says.
    channel: smoochChannel(client?.type),
    channelIdentifier: null,
    closed: null,
    createdAt: str(raw.createdAt),
    updatedAt: lastUpdatedAt,
    // Documented as the time of the last message (or creation when there is none).
    lastMessageAt: lastUpdatedAt,
  };
}

function userName(raw: RawUser): string | null {
  return [str(raw.profile?.givenName), str(raw.profile?.surname)].filter(Boolean).join(' ') || null;
}

/** A v2 message, from `GET …/messages` or a `conversation:message` event. */
export function normalizeSmoochMessage(raw: RawMessage, conversationId: string): MessageRecord {
  const fromUser = raw.author?.type === 'user';
  const userId = str(raw.author?.userId);
  const sender: SenderRef | null = fromUser
    ? userId
      ? { kind: 'CONTACT', contactRef: userId, name: str(raw.author?.displayName) }
      : null
    : { kind: 'BUSINESS', name: str(raw.author?.displayName), avatarUrl: str(raw.author?.avatarUrl) };
  return {
    ...blankMessage,
    id: smoochMessageKey(conversationId, str(raw.id)),
    conversationId,
    contactRef: fromUser ? userId : null,
    direction: fromUser ? 'INBOUND' : 'OUTBOUND',
    status: fromUser ? 'RECEIVED' : 'SENT',
    channel: smoochChannel(raw.source?.type),
    body: str(raw.content?.text),
    attachments: attachment(raw.content?.mediaUrl, raw.content?.mediaType),
    sender,
    createdAt: str(raw.received),
  };
}

/** One message of a v1.1 `message:appUser` (from the user) or `message:appMaker` (from the business) delivery. */
export function normalizeSmoochV11Message(payload: RawV11Payload, raw: RawV11Message, fromUser: boolean): MessageRecord {
  const conversationId = str(payload.conversation?._id);
  // v1.1 has one conversation per appUser, who is the contact whichever side wrote.
  const appUserId = str(payload.appUser?._id);
  const authorId = str(raw.authorId) ?? appUserId;
  return {
    ...blankMessage,
    id: smoochMessageKey(conversationId, str(raw._id)),
    conversationId,
    contactRef: appUserId,
    direction: fromUser ? 'INBOUND' : 'OUTBOUND',
    status: fromUser ? 'RECEIVED' : 'SENT',
    channel: smoochChannel(raw.source?.type),
    body: str(raw.text),
    attachments: attachment(raw.mediaUrl, raw.mediaType),
    sender: fromUser
      ? authorId
        ? { kind: 'CONTACT', contactRef: authorId, name: str(raw.name) }
        : null
      : { kind: 'BUSINESS', name: str(raw.name), avatarUrl: str(raw.avatarUrl) },
    createdAt: unixSecondsToIso(raw.received),
  };
}

/**
 * A v1.1 `message:delivery:failure` for one message: `message{_id}` in v1.1,
 * a full message of `messages[]` in v1. Failures concern business messages.
 */
export function normalizeSmoochV11DeliveryFailure(payload: RawV11Payload, messageId: string, text: string | null): MessageRecord {
  const conversationId = str(payload.conversation?._id);
  const underlying = str(payload.error?.underlyingError?.message);
  const code = str(payload.error?.code);
  return {
    ...blankMessage,
    id: smoochMessageKey(conversationId, messageId),
    conversationId,
    contactRef: str(payload.appUser?._id),
    direction: 'OUTBOUND',
    status: 'FAILED',
    channel: smoochChannel(payload.destination?.type),
    body: text,
    failureReason: [code, underlying].filter(Boolean).join(': ') || null,
    createdAt: unixSecondsToIso(payload.timestamp),
  };
}

/** A v2 `conversation:message:delivery:failure` payload; `createdAt` is the event's. */
export function normalizeSmoochV2DeliveryFailure(payload: RawV2DeliveryPayload, createdAt: string | null): MessageRecord {
  const conversationId = str(payload.conversation?.id);
  const code = str(payload.error?.code);
  const message = str(payload.error?.message);
  return {
    ...blankMessage,
    id: smoochMessageKey(conversationId, str(payload.message?.id)),
    conversationId,
    contactRef: str(payload.user?.id),
    direction: 'OUTBOUND',
    status: 'FAILED',
    channel: smoochChannel(payload.destination?.type),
    failureReason: [code, message].filter(Boolean).join(': ') || null,
    createdAt,
  };
}

/**
 * A v2 webhook lives in a custom integration and is addressed through it, so
 * its gateway id is `<integrationId>/<webhookId>`. Smooch webhooks cannot be
 * disabled and have no timestamps.
 */
export function normalizeSmoochWebhook(integrationId: string, raw: RawWebhook): WebhookRecord {
  return {
    provider: 'SMOOCH',
    id: `${integrationId}/${raw.id}`,
    url: raw.target,
    eventTypes: Array.isArray(raw.triggers) ? raw.triggers : [],
    locationId: null,
    organizationId: null,
    disabled: false,
    secret: str(raw.secret),
    editable: true,
    createdAt: null,
    updatedAt: null,
  };
}

const blankMessage = {
  provider: 'SMOOCH',
  locationId: null,
  body: null,
  attachments: [],
  email: null,
  sender: null,
  failureReason: null,
  callDurationSeconds: null,
} as const;

function attachment(url: unknown, contentType: unknown): Attachment[] {
  const u = str(url);
  return u ? [{ url: u, contentType: str(contentType) }] : [];
}
