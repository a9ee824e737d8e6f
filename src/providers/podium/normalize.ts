// Pure mapping of Podium's raw JSON (REST and webhook forms) into the unified
// model. No clock, no I/O: the seed payloads are their test table.
import type {
  Attachment,
  Channel,
  ContactRecord,
  ConversationRecord,
  MessageDirection,
  MessageRecord,
  MessageStatus,
  SenderRef,
  UserRecord,
  UserRole,
  WebhookRecord,
} from '../../model.js';
import { str, strArray } from '../guards.js';
import type { PodiumContact, PodiumConversation, PodiumMessage, PodiumMessageItem, PodiumUser, PodiumWebhook } from './client.js';

const channels: Readonly<Record<string, Channel>> = {
  phone: 'SMS',
  sms: 'SMS',
  text: 'SMS',
  email: 'EMAIL',
  fallback_email: 'EMAIL',
  facebook: 'FACEBOOK',
  instagram: 'INSTAGRAM',
  google: 'GOOGLE',
  google_brand: 'GOOGLE',
  whatsapp: 'WHATSAPP',
  apple: 'APPLE',
  iframe: 'WEBCHAT',
  secure: 'WEBCHAT',
  car_wars: 'CALL',
};

/** Podium's `channel.type` in the unified vocabulary (`phone` is Podium's SMS channel). */
export function podiumChannel(type: string | null | undefined): Channel {
  return (type && Object.hasOwn(channels, type) ? channels[type] : undefined) ?? 'OTHER';
}

const deliveryStatuses: Readonly<Record<string, MessageStatus>> = {
  queued: 'QUEUED',
  pending: 'QUEUED',
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'READ',
  failed: 'FAILED',
  undelivered: 'FAILED',
  received: 'RECEIVED',
};

const eventStatuses: ReadonlyMap<string, MessageStatus> = new Map<string, MessageStatus>([
  ['message.sent', 'SENT'],
  ['message.failed', 'FAILED'],
  ['message.received', 'RECEIVED'],
]);

export function normalizePodiumContact(raw: PodiumContact): ContactRecord {
  const emails = strArray(raw.emails);
  const phones = strArray(raw.phoneNumbers);
  const conversationUids = (raw.conversations ?? []).map((c) => str(c.uid)).filter((uid): uid is string => uid !== null);
  return {
    provider: 'PODIUM',
    id: raw.uid,
    name: str(raw.name),
    emails,
    phones,
    locationId: str(raw.locations?.[0]?.uid),
    createdAt: str(raw.createdAt),
    updatedAt: str(raw.updatedAt),
    // Podium looks contacts up by conversation uid, phone or email as well as by uid.
    aliases: [...new Set([...conversationUids, ...phones, ...emails])].filter((alias) => alias !== raw.uid),
  };
}

export function normalizePodiumConversation(raw: PodiumConversation): ConversationRecord {
  return {
    provider: 'PODIUM',
    id: raw.uid,
    locationId: str(raw.locationUid),
    // The conversation object names no contact uid, but Podium finds the contact by conversation uid.
    contactRef: raw.uid,
    contactName: str(raw.contactName),
    assignedUserId: str(raw.assignedUserUid),
    channel: podiumChannel(raw.channel?.type),
    channelIdentifier: str(raw.channel?.identifier),
    closed: typeof raw.closed === 'boolean' ? raw.closed : null,
    createdAt: str(raw.createdAt),
    updatedAt: str(raw.updatedAt),
    lastMessageAt: str(raw.lastItemAt),
  };
}

/**
 * `eventType` is the webhook's `message.sent|received|failed`; it decides
 * direction and status. Without it (REST) they come from `items[]`.
 */
export function normalizePodiumMessage(raw: PodiumMessage, eventType: string | null = null): MessageRecord {
  const items = raw.items ?? [];
  const conversationUid = str(raw.conversation?.uid);
  const uid = str(raw.uid);
  const direction = messageDirection(items, eventType);
  const contactRef = str(raw.contact?.uid) ?? conversationUid;
  const status: MessageStatus =
    (eventType !== null ? eventStatuses.get(eventType) : undefined) ??
    itemsStatus(items) ??
    (direction === 'INBOUND' ? 'RECEIVED' : str(raw.failureReason) ? 'FAILED' : 'SENT');

  // Loops, not map/find/flatMap: every message listed passes here (388 per inbox query).
  const attachments: Attachment[] = [];
  for (const item of items) {
    const url = str(item.attachmentUrl);
    if (url) attachments.push({ url, contentType: str(item.attachmentContentType) });
  }
  const legacyUrl = str(raw.attachmentUrl);
  if (legacyUrl && !attachments.some((a) => a.url === legacyUrl)) attachments.push({ url: legacyUrl, contentType: null });

  const userUid = str(raw.senderUid) ?? str(raw.sender?.uid);
  let sender: SenderRef | null;
  if (userUid) sender = { kind: 'USER', userId: userUid };
  else if (direction === 'OUTBOUND') sender = { kind: 'BUSINESS', name: null, avatarUrl: null };
  else sender = contactRef ? { kind: 'CONTACT', contactRef, name: str(raw.contact?.name) ?? str(raw.contactName) } : null;

  return {
    provider: 'PODIUM',
    // getMessages needs the conversation to find a message.
    id: uid && conversationUid ? `${conversationUid}/${uid}` : null,
    conversationId: conversationUid,
    contactRef,
    locationId: str(raw.location?.uid),
    direction,
    status,
    channel: podiumChannel(raw.conversation?.channel?.type),
    body: typeof raw.body === 'string' ? raw.body : null,
    attachments,
    email: null,
    sender,
    failureReason: str(raw.failureReason),
    callDurationSeconds: null,
    createdAt: str(raw.createdAt),
  };
}

/** The first item's delivery status Podium documents, in the unified vocabulary. */
function itemsStatus(items: readonly PodiumMessageItem[]): MessageStatus | undefined {
  for (const item of items) {
    const s = item.deliveryStatus;
    if (typeof s === 'string' && Object.hasOwn(deliveryStatuses, s)) return deliveryStatuses[s];
  }
  return undefined;
}

function messageDirection(items: readonly PodiumMessageItem[], eventType: string | null): MessageDirection {
  if (eventType !== null) return eventType === 'message.received' ? 'INBOUND' : 'OUTBOUND';
  return items.some((item) => item.sourceType === 'outbound') ? 'OUTBOUND' : 'INBOUND';
}

export function normalizePodiumUser(raw: PodiumUser): UserRecord {
  const firstName = str(raw.firstName);
  const lastName = str(raw.lastName);
  return {
    provider: 'PODIUM',
    id: raw.uid,
    name: [firstName, lastName].filter(Boolean).join(' ') || null,
    firstName,
    lastName,
    email: str(raw.email),
    phone: str(raw.phone),
    role: podiumRole(str(raw.role)),
    roleLabel: str(raw.role),
    createdAt: str(raw.createdAt),
  };
}

/** Podium's `role` is free text ("Account Owner", "Admin", "Manager", "Technician"…; no enum in the spec). */
export function podiumRole(role: string | null): UserRole | null {
  if (role === null) return null;
  const normalized = role.trim().toLowerCase();
  if (normalized === 'account owner' || normalized === 'owner') return 'OWNER';
  if (normalized === 'admin' || normalized === 'administrator') return 'ADMIN';
  return 'MEMBER';
}

/** `knownSecret` stands in when the answer omits the secret (it was sent with the request). */
export function normalizePodiumWebhook(raw: PodiumWebhook, knownSecret: string | null = null): WebhookRecord {
  return {
    provider: 'PODIUM',
    id: raw.uid,
    url: raw.url ?? '',
    eventTypes: strArray(raw.eventTypes),
    locationId: str(raw.locationUid),
    organizationId: str(raw.organizationUid),
    disabled: raw.disabled === true,
    secret: str(raw.secret) ?? knownSecret,
    editable: true,
    createdAt: str(raw.createdAt),
    updatedAt: str(raw.updatedAt),
  };
}
