// Podium's send endpoint in the emulator, `POST /v4/messages` as the Messenger
// reference documents it: `body`, `channel {type: phone|email, identifier}` and
// `locationUid` required, `contactName`, `senderName`, `subject`, `setOpenInbox`
// optional. The message lands in the conversation of that channel identifier
// at that location (opened, closed unless setOpenInbox, when there is none, with
// its contact), the answer is `{data: <message>, metadata}`, and Podium's
// webhooks follow: `message.sent`, then `message.failed` with its
// `failureReason` ("landline" for a landline) when it does not reach the
// customer. Podium publishes no delivered event; a delivered message's item
// just reads `deliveryStatus: "delivered"` afterwards.
import { randomUUID } from 'node:crypto';
import type { PodiumContact, PodiumConversation, PodiumMessage } from '../../providers/podium/client.js';
import type { EmuRequest, EmuResponse, EmuRoute, RequestFilter } from '../kit.js';
import type { DeliveryOutcome, SendLifecycle } from '../sending.js';
import { LANDLINE_REASON } from './data.js';
import { deliverMessageEvent, type Signer } from './events.js';
import { error, okIn, type PodiumState } from './routes.js';

/** Podium's send requests, for counts and switches. */
export const PODIUM_SEND_REQUESTS: RequestFilter = { method: 'POST', pathPattern: /^\/v4\/messages\/?$/ };

export const LANDLINE_FAILURE = LANDLINE_REASON;

/**
 * Podium's send reference gives no maximum length for `body` (the channel's
 * carrier splits long texts), so the emulator refuses none by default;
 * `maxBodyLength` lets a test stand in for a provider refusal.
 */
export interface PodiumSendOptions {
  readonly maxBodyLength?: number;
}

interface SendInput {
  readonly body: string;
  readonly channel: { readonly type: 'phone' | 'email'; readonly identifier: string };
  readonly locationUid: string;
  readonly contactName: string | null;
  readonly setOpenInbox: boolean;
}

export function podiumSendRoute(st: PodiumState, deps: { readonly lifecycle: SendLifecycle; readonly signWebhook: Signer; readonly options: PodiumSendOptions }): EmuRoute {
  const ok = okIn(st);
  return {
    method: 'POST',
    path: '/v4/messages',
    handler(req: EmuRequest): EmuResponse {
      const input = sendInput(st, req.body, deps.options);
      if (typeof input === 'string') return error(400, 'invalid_request_values', input);
      const { conversation, contact } = openConversation(st, input);
      const createdAt = new Date().toISOString();
      const message = outboundMessage(st, conversation, input.body, createdAt);
      const thread = st.data.messages.get(conversation.uid) as PodiumMessage[];
      thread.push(message);
      st.touchConversation(conversation.uid, createdAt);
      const landline = input.channel.type === 'phone' && st.data.landlines.has(input.channel.identifier);
      const natural: DeliveryOutcome = landline ? { delivered: false, reason: LANDLINE_FAILURE } : { delivered: true };
      deps.lifecycle.start(
        {
          sent: () => deliverMessageEvent(st, deps.signWebhook, 'message.sent', current(thread, message), contact),
          settled: (outcome) => {
            const settledMessage = settle(thread, message, outcome);
            return outcome.delivered ? Promise.resolve() : deliverMessageEvent(st, deps.signWebhook, 'message.failed', settledMessage, contact);
          },
        },
        natural,
      );
      return ok(req, message);
    },
  };
}

function sendInput(st: PodiumState, raw: unknown, options: PodiumSendOptions): SendInput | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'the body must be a JSON object';
  const b = raw as Record<string, unknown>;
  const missing = ['body', 'channel', 'locationUid'].filter((k) => b[k] === undefined || b[k] === null);
  if (missing.length > 0) return `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required`;
  if (typeof b.body !== 'string' || b.body.trim() === '') return `body must be a non-empty string, got ${JSON.stringify(b.body)}`;
  if (options.maxBodyLength !== undefined && b.body.length > options.maxBodyLength) return `body must be at most ${options.maxBodyLength} characters, got ${b.body.length}`;
  const channel = b.channel as Record<string, unknown>;
  if (typeof channel !== 'object' || Array.isArray(channel)) return 'channel must be an object with type and identifier';
  if (channel.type !== 'phone' && channel.type !== 'email') return `channel.type must be one of phone, email, got ${JSON.stringify(channel.type)}`;
  const identifier = typeof channel.identifier === 'string' ? normalizeIdentifier(channel.type, channel.identifier) : null;
  if (identifier === null) return `channel.identifier must be a valid ${channel.type === 'phone' ? 'phone number' : 'email address'}, got ${JSON.stringify(channel.identifier)}`;
  if (typeof b.locationUid !== 'string' || !st.data.locations.some((l) => l.uid === b.locationUid)) {
    return `locationUid ${JSON.stringify(b.locationUid)} is not a location this token can access`;
  }
  for (const key of ['contactName', 'senderName', 'subject']) {
    if (b[key] !== undefined && typeof b[key] !== 'string') return `${key} must be a string, got ${JSON.stringify(b[key])}`;
  }
  if (b.setOpenInbox !== undefined && typeof b.setOpenInbox !== 'boolean') return `setOpenInbox must be a boolean, got ${JSON.stringify(b.setOpenInbox)}`;
  return {
    body: b.body,
    channel: { type: channel.type, identifier },
    locationUid: b.locationUid,
    contactName: typeof b.contactName === 'string' ? b.contactName : null,
    setOpenInbox: b.setOpenInbox === true,
  };
}

/** An E.164 phone (US/Canada numbers may omit +1) or a lower-cased email; null when it is neither. */
function normalizeIdentifier(type: 'phone' | 'email', raw: string): string | null {
  if (type === 'email') return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw.trim()) ? raw.trim().toLowerCase() : null;
  const digits = raw.replace(/[\s().-]/g, '');
  if (/^\+\d{8,15}$/.test(digits)) return digits;
  if (/^\d{10}$/.test(digits)) return `+1${digits}`;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  return null;
}

/** The conversation of this channel identifier at this location, opened (with its contact) when there is none. */
function openConversation(st: PodiumState, input: SendInput): { conversation: PodiumConversation; contact: PodiumContact } {
  const { channel, locationUid } = input;
  const existing = st.data.conversations.find((c) => c.channel?.type === channel.type && c.channel.identifier === channel.identifier && c.locationUid === locationUid);
  const known = st.contactIndex.get(channel.identifier) ?? (existing ? st.contactIndex.get(existing.uid) : undefined);
  // "If a contact already exists for the channel then their name will be updated."
  const named = known && input.contactName !== null && input.contactName !== known.name ? { ...known, name: input.contactName } : known;
  if (existing && named) {
    if (named !== known) st.replaceContact(named);
    return { conversation: existing, contact: named };
  }
  const now = new Date().toISOString();
  const name = input.contactName ?? known?.name ?? channel.identifier;
  const conversation: PodiumConversation = {
    uid: randomUUID(),
    channel: { type: channel.type, identifier: channel.identifier },
    closed: !input.setOpenInbox,
    contactName: name,
    locationUid,
    assignedUserUid: null,
    assigneeUids: [],
    createdAt: now,
    updatedAt: now,
    lastItemAt: now,
  };
  const base: PodiumContact = named ?? {
    uid: randomUUID(),
    name,
    emails: channel.type === 'email' ? [channel.identifier] : [],
    phoneNumbers: channel.type === 'phone' ? [channel.identifier] : [],
    channels: [{ type: channel.type, identifier: channel.identifier, label: null, createdAt: now, updatedAt: now }],
    conversations: [],
    locations: [],
    organization: { uid: st.data.organization.uid },
    createdAt: now,
    updatedAt: now,
  };
  const contact: PodiumContact = {
    ...base,
    conversations: [...(base.conversations ?? []), { uid: conversation.uid }],
    locations: (base.locations ?? []).some((l) => l.uid === locationUid) ? base.locations : [...(base.locations ?? []), { uid: locationUid }],
  };
  st.addConversation(conversation, contact);
  return { conversation, contact };
}

function outboundMessage(st: PodiumState, conversation: PodiumConversation, body: string, createdAt: string): PodiumMessage {
  return {
    uid: randomUUID(),
    body,
    createdAt,
    failureReason: null,
    conversation: { uid: conversation.uid, startedAt: conversation.createdAt ?? null, assignedUserUid: conversation.assignedUserUid ?? null, channel: conversation.channel ?? null },
    location: { uid: conversation.locationUid ?? null, organizationUid: st.data.organization.uid },
    items: [
      { uid: randomUUID(), type: 'text', body, sendBody: null, createdAt, attachmentUrl: null, attachmentContentType: null, deliveryStatus: 'sent', sourceType: 'outbound', encryptedAt: null },
    ],
    webchatUrl: null,
    attachmentUrl: null,
    // Sent by the integration, not by a Podium user.
    senderUid: null,
    contactName: conversation.contactName ?? null,
  };
}

/** The stored version of `message` (a later status replaces it in the thread). */
function current(thread: readonly PodiumMessage[], message: PodiumMessage): PodiumMessage {
  return thread.find((m) => m.uid === message.uid) ?? message;
}

/** Stores the outcome on the message and its item, as the message then reads. */
function settle(thread: PodiumMessage[], message: PodiumMessage, outcome: DeliveryOutcome): PodiumMessage {
  const at = thread.findIndex((m) => m.uid === message.uid);
  const stored = thread[at] ?? message;
  const settled: PodiumMessage = {
    ...stored,
    failureReason: outcome.delivered ? null : outcome.reason,
    items: (stored.items ?? []).map((item) => ({ ...item, deliveryStatus: outcome.delivered ? 'delivered' : 'failed' })),
  };
  if (at >= 0) thread[at] = settled;
  return settled;
}
