// Pure mappings from HighLevel's REST and webhook JSON to the unified model
// (HighLevel API v2 reference and webhook events). No clock, no I/O: the seed payloads are their tests.
import type {
  Attachment,
  Channel,
  ContactRecord,
  ConversationRecord,
  EmailDetails,
  MessageDirection,
  MessageRecord,
  MessageStatus,
  UserRecord,
  UserRole,
} from '../../model.js';
import { str, strArray } from '../guards.js';
import { htmlToText, looksLikeHtml } from '../html-text.js';
import type { RawContact, RawConversation, RawMessage, RawProviderOutboundMessage, RawUser } from './client.js';

/**
 * The channel of a message type in any of HighLevel's spellings: REST `TYPE_*`
 * (`TYPE_CUSTOM_PROVIDER_SMS`, `TYPE_CAMPAIGN_VOICEMAIL`, …) and webhook names
 * (`SMS`, `Email`, `CALL`, `VoiceMail`, `FB`, `IG`, `GMB`, `Live Chat`).
 */
export function leadConnectorChannel(messageType: string | null): Channel {
  if (messageType === null) return 'OTHER';
  const words = new Set(messageType.toUpperCase().replace(/^TYPE_/, '').split(/[\s_]+/));
  const has = (...w: string[]): boolean => w.some((x) => words.has(x));
  if (has('VOICEMAIL')) return 'VOICEMAIL';
  if (has('EMAIL')) return 'EMAIL';
  if (has('SMS', 'RCS')) return 'SMS';
  if (has('CALL')) return 'CALL';
  if (has('FACEBOOK', 'FB')) return 'FACEBOOK';
  if (has('INSTAGRAM', 'IG')) return 'INSTAGRAM';
  if (has('GMB')) return 'GOOGLE';
  if (has('WHATSAPP')) return 'WHATSAPP';
  if (has('WEBCHAT') || (words.has('LIVE') && words.has('CHAT'))) return 'WEBCHAT';
  return 'OTHER';
}

const OUTBOUND_STATUS: ReadonlyMap<string, MessageStatus> = new Map([
  ['pending', 'QUEUED'],
  ['queued', 'QUEUED'],
  ['scheduled', 'QUEUED'],
  ['sent', 'SENT'],
  ['delivered', 'DELIVERED'],
  ['read', 'READ'],
  ['opened', 'READ'],
  ['clicked', 'READ'],
  ['failed', 'FAILED'],
  ['undelivered', 'FAILED'],
]);

/**
 * HighLevel's message statuses onto the model's one vocabulary. Whatever the contact sent is RECEIVED; an outbound
 * status outside the table (a call's `completed` or `voicemail`, `connected`,
 * `opt_out`) means it left HighLevel: SENT.
 */
export function leadConnectorStatus(status: string | null, direction: MessageDirection): MessageStatus {
  if (direction === 'INBOUND') return 'RECEIVED';
  return (status !== null && OUTBOUND_STATUS.get(status.toLowerCase())) || 'SENT';
}

/** ISO-8601 UTC from epoch ms (a number or a string of digits, as conversation lists send) or an ISO string. */
export function toIsoDate(value: unknown): string | null {
  const ms = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null; // ±8.64e15: Date's range
}

export function normalizeLeadConnectorContact(raw: RawContact): ContactRecord {
  return {
    provider: 'LEADCONNECTOR',
    id: raw.id,
    name: str(raw.name) ?? str(raw.contactName) ?? fullName(raw.firstName, raw.lastName),
    emails: strArray(raw.email),
    phones: strArray(raw.phone),
    locationId: str(raw.locationId),
    createdAt: toIsoDate(raw.dateAdded),
    updatedAt: toIsoDate(raw.dateUpdated),
  };
}

/** Conversation `type`: TYPE_* in search results, a number in a single GET. */
const CONVERSATION_CHANNEL: ReadonlyMap<string | number, Channel> = new Map<string | number, Channel>([
  ['TYPE_PHONE', 'SMS'],
  [1, 'SMS'],
  ['TYPE_EMAIL', 'EMAIL'],
  [2, 'EMAIL'],
  ['TYPE_FB_MESSENGER', 'FACEBOOK'],
  [3, 'FACEBOOK'],
  ['TYPE_REVIEW', 'OTHER'],
  [4, 'OTHER'],
  ['TYPE_GROUP_SMS', 'SMS'],
  [5, 'SMS'],
]);

export function normalizeLeadConnectorConversation(raw: RawConversation): ConversationRecord {
  const channel = (raw.type !== undefined && CONVERSATION_CHANNEL.get(raw.type)) || 'OTHER';
  return {
    provider: 'LEADCONNECTOR',
    id: raw.id,
    locationId: str(raw.locationId),
    contactRef: str(raw.contactId),
    contactName: str(raw.fullName) ?? str(raw.contactName),
    assignedUserId: str(raw.assignedTo),
    channel,
    channelIdentifier: channel === 'EMAIL' ? str(raw.email) : channel === 'SMS' ? str(raw.phone) : null,
    closed: null, // HighLevel conversations have no closed state (no such field in conversations.json): unknown, not open
    createdAt: toIsoDate(raw.dateAdded),
    updatedAt: toIsoDate(raw.dateUpdated),
    lastMessageAt: toIsoDate(raw.lastMessageDate),
  };
}

/**
 * A REST message, or the body of an InboundMessage / OutboundMessage webhook.
 * Webhooks pass the direction their event type implies, because the documented
 * examples contradict their own `direction` field.
 */
export function normalizeLeadConnectorMessage(
  raw: RawMessage,
  direction: MessageDirection = raw.direction === 'inbound' ? 'INBOUND' : 'OUTBOUND',
): MessageRecord {
  const status = str(raw.status);
  const callStatus = str(raw.callStatus) ?? str(raw.meta?.callStatus);
  let channel = leadConnectorChannel(str(raw.messageType));
  if (channel === 'CALL' && (status === 'voicemail' || callStatus === 'voicemail')) channel = 'VOICEMAIL';
  const contactId = str(raw.contactId);
  const userId = str(raw.userId);
  const mapped = leadConnectorStatus(status, direction);
  const contentType = str(raw.contentType);
  const rawBody = str(raw.body);
  // Email bodies are HTML (webhooks send no contentType for them); the text is what every provider's `body` carries.
  const html = rawBody !== null && (contentType?.includes('html') === true || (contentType === null && looksLikeHtml(rawBody))) ? rawBody : null;
  return {
    provider: 'LEADCONNECTOR',
    id: str(raw.id) ?? str(raw.messageId),
    conversationId: str(raw.conversationId),
    contactRef: contactId,
    locationId: str(raw.locationId),
    direction,
    status: mapped,
    channel,
    body: html !== null ? htmlToText(html) || null : rawBody,
    attachments: attachments(raw.attachments),
    email:
      channel === 'EMAIL'
        ? email({ subject: raw.subject, from: raw.from, to: raw.to, cc: raw.cc, bcc: raw.bcc, html, threadId: raw.threadId })
        : null,
    sender:
      direction === 'INBOUND' && contactId !== null
        ? { kind: 'CONTACT', contactRef: contactId, name: null }
        : userId !== null
          ? { kind: 'USER', userId }
          : null,
    failureReason: mapped === 'FAILED' ? status : null,
    callDurationSeconds: channel === 'CALL' || channel === 'VOICEMAIL' ? seconds(raw.callDuration ?? raw.meta?.callDuration) : null,
    createdAt: toIsoDate(raw.dateAdded),
  };
}

/** A ProviderOutboundMessage: HighLevel asks the custom provider to deliver it, so it is still QUEUED. */
export function normalizeLeadConnectorProviderOutbound(raw: RawProviderOutboundMessage): MessageRecord {
  const channel = leadConnectorChannel(str(raw.type));
  const userId = str(raw.userId);
  return {
    provider: 'LEADCONNECTOR',
    id: str(raw.messageId),
    conversationId: null,
    contactRef: str(raw.contactId),
    locationId: str(raw.locationId),
    direction: 'OUTBOUND',
    status: 'QUEUED',
    channel,
    body: str(raw.message) ?? textOf(str(raw.html)),
    attachments: attachments(raw.attachments),
    email:
      channel === 'EMAIL'
        ? email({ subject: raw.subject, from: raw.emailFrom, to: raw.emailTo, cc: raw.emailCc, bcc: raw.emailBcc, html: raw.html, threadId: null })
        : null,
    sender: userId !== null ? { kind: 'USER', userId } : null,
    failureReason: null,
    callDurationSeconds: null,
    createdAt: null,
  };
}

export function normalizeLeadConnectorUser(raw: RawUser): UserRecord {
  return {
    provider: 'LEADCONNECTOR',
    id: raw.id,
    name: str(raw.name) ?? fullName(raw.firstName, raw.lastName),
    firstName: str(raw.firstName),
    lastName: str(raw.lastName),
    email: str(raw.email),
    phone: str(raw.phone),
    role: leadConnectorRole(str(raw.roles?.role)),
    roleLabel: str(raw.roles?.role),
    // The user object has no creation date (UserSchema in users.json); dateAdded is read should one appear.
    createdAt: toIsoDate(raw.dateAdded),
  };
}

/** HighLevel's `roles.role` is `admin` or `user` (users.json CreateUserDto). */
export function leadConnectorRole(role: string | null): UserRole | null {
  if (role === null) return null;
  return role.toLowerCase() === 'admin' ? 'ADMIN' : 'MEMBER';
}

function textOf(html: string | null): string | null {
  return html === null ? null : htmlToText(html) || null;
}

function fullName(first: unknown, last: unknown): string | null {
  const name = [str(first), str(last)].filter((p) => p !== null).join(' ');
  return name.length > 0 ? name : null;
}

/** HighLevel attachments are URLs (call recordings and voicemails included). */
function attachments(value: unknown): Attachment[] {
  return strArray(value).map((url) => ({ url, contentType: null }));
}

function email(fields: { subject: unknown; from: unknown; to: unknown; cc: unknown; bcc: unknown; html: unknown; threadId: unknown }): EmailDetails {
  return {
    subject: str(fields.subject),
    from: str(fields.from),
    to: strArray(fields.to),
    cc: strArray(fields.cc),
    bcc: strArray(fields.bcc),
    html: str(fields.html),
    threadId: str(fields.threadId),
  };
}

/** Webhooks send a number, REST `meta.callDuration` a string of seconds. */
function seconds(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}
