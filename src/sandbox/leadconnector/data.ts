// Seeded sandbox data for the HighLevel emulator, stored in the shapes the API
// serves. One agency (company) with two locations; the first, which the sandbox
// config points at, has 100 contacts with one conversation each and 1,000
// messages across SMS, email, calls, voicemail, Facebook, Instagram, GMB, live
// chat and WhatsApp. Every timestamp is distinct, so cursors never tie.
import { seededRandom } from '../kit.js';

export interface EmuUser {
  readonly id: string;
  readonly name: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly phone: string;
  readonly extension: string;
  readonly roles: { readonly type: 'account'; readonly role: 'admin' | 'user'; readonly locationIds: readonly string[] };
  readonly deleted: false;
}

export interface EmuContact {
  readonly id: string;
  readonly locationId: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email?: string;
  readonly phone: string;
  readonly companyName?: string;
  readonly dnd: false;
  readonly type: 'lead' | 'customer';
  readonly source: string;
  readonly assignedTo?: string;
  readonly tags: readonly string[];
  readonly country: 'US';
  readonly dateAdded: string;
  readonly dateUpdated: string;
}

export type ConversationType = 'TYPE_PHONE' | 'TYPE_EMAIL' | 'TYPE_FB_MESSENGER';

export interface EmuConversation {
  readonly id: string;
  readonly locationId: string;
  readonly contactId: string;
  readonly assignedTo: string | null;
  readonly type: ConversationType;
  readonly inbox: boolean;
  readonly starred: boolean;
  readonly deleted: false;
  readonly dateAdded: number;
  unreadCount: number;
  dateUpdated: number;
  lastMessageDate: number;
  lastMessageBody: string;
  lastMessageType: string;
  lastMessageDirection: 'inbound' | 'outbound';
}

/** GET /conversations/messages/{id} as the spec documents it. */
export interface EmuMessage {
  readonly id: string;
  readonly type: number;
  readonly messageType: string;
  readonly locationId: string;
  readonly contactId: string;
  readonly conversationId: string;
  readonly dateAdded: string;
  readonly body?: string;
  readonly direction: 'inbound' | 'outbound';
  readonly status: string;
  readonly contentType: string;
  readonly attachments: readonly string[];
  readonly meta?: {
    readonly callDuration?: string;
    readonly callStatus?: string;
    readonly email?: { readonly messageIds: readonly string[] };
  };
  readonly source?: 'app' | 'workflow' | 'api';
  readonly userId?: string;
}

export type MessageKind = 'SMS' | 'EMAIL' | 'CALL' | 'VOICEMAIL' | 'FB' | 'IG' | 'GMB' | 'LIVE_CHAT' | 'WHATSAPP';

export interface LeadConnectorData {
  readonly companyId: string;
  /** The sandbox config's location first. */
  readonly locationIds: readonly string[];
  readonly users: readonly EmuUser[];
  readonly contacts: Map<string, EmuContact>;
  readonly conversations: Map<string, EmuConversation>;
  readonly messages: Map<string, EmuMessage>;
  /** Message ids of each conversation, newest first. */
  readonly conversationMessages: Map<string, string[]>;
  readonly random: () => number;
}

const BASE_MS = Date.UTC(2025, 0, 1); // seeded history ends before this
const DAY_MS = 86_400_000;

const FIRST_NAMES = ['Ava', 'Liam', 'Noah', 'Emma', 'Mia', 'Lucas', 'Zoe', 'Ethan', 'Ivy', 'Mason', 'Aria', 'Leo', 'Nora', 'Owen', 'Ruby', 'Kai'];
const LAST_NAMES = ['Patel', 'Garcia', 'Nguyen', 'Smith', 'Okafor', 'Kim', 'Rossi', 'Haddad', 'Silva', 'Brown', 'Novak', 'Cohen', 'Ito', 'Moreau'];
const COMPANIES = ['Acme Dental', 'Brightside Realty', 'Summit Auto', 'Harbor Fitness', 'Maple Legal'];
const SOURCES = ['website form', 'facebook lead ad', 'referral', 'public api', 'google ads'];
const INBOUND_TEXTS = ['Hi, is there availability this week?', 'Can I reschedule my appointment?', 'Thanks, see you then!', 'What are your hours on Saturday?', 'Got it, thank you.', 'How much does the consultation cost?'];
const OUTBOUND_TEXTS = ['Thanks for reaching out! We have openings Thursday.', 'Your appointment is confirmed for 3pm.', 'Reminder: your visit is tomorrow at 10am.', 'Happy to help, here is the link to book.', 'We received your message and will reply shortly.'];

const KINDS: Record<MessageKind, { readonly messageType: string; readonly type: number }> = {
  SMS: { messageType: 'TYPE_SMS', type: 2 },
  EMAIL: { messageType: 'TYPE_EMAIL', type: 3 },
  CALL: { messageType: 'TYPE_CALL', type: 1 },
  VOICEMAIL: { messageType: 'TYPE_CALL', type: 1 }, // an unanswered inbound call; outbound drops are TYPE_CAMPAIGN_VOICEMAIL
  FB: { messageType: 'TYPE_FACEBOOK', type: 11 },
  IG: { messageType: 'TYPE_INSTAGRAM', type: 18 },
  GMB: { messageType: 'TYPE_GMB', type: 15 },
  LIVE_CHAT: { messageType: 'TYPE_LIVE_CHAT', type: 29 },
  WHATSAPP: { messageType: 'TYPE_WHATSAPP', type: 19 },
};

const PHONE_KIND_WEIGHTS: ReadonlyArray<readonly [MessageKind, number]> = [
  ['SMS', 45],
  ['CALL', 14],
  ['VOICEMAIL', 6],
  ['FB', 8],
  ['IG', 8],
  ['GMB', 6],
  ['LIVE_CHAT', 7],
  ['WHATSAPP', 6],
];

export function createLeadConnectorData(seed: number): LeadConnectorData {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const newId = (): string => leadConnectorId(random);

  const companyId = newId();
  const locationIds = [newId(), newId()];
  const [main = '', other = ''] = locationIds;

  const users: EmuUser[] = Array.from({ length: 10 }, (_, i) => {
    const firstName = FIRST_NAMES[i % FIRST_NAMES.length] ?? 'Sam';
    const lastName = LAST_NAMES[(i * 5) % LAST_NAMES.length] ?? 'Lee';
    return {
      id: newId(),
      name: `${firstName} ${lastName}`,
      firstName,
      lastName,
      email: `${firstName}.${lastName}@example.com`.toLowerCase(),
      phone: `+1555010${String(i).padStart(4, '0')}`,
      extension: '',
      // 8 staff work the main location (two of them also the second); 2 only the second.
      roles: { type: 'account', role: i === 0 ? 'admin' : 'user', locationIds: i < 6 ? [main] : i < 8 ? [main, other] : [other] },
      deleted: false,
    };
  });
  const staffOf = (locationId: string): EmuUser[] => users.filter((u) => u.roles.locationIds.includes(locationId));

  const data: LeadConnectorData = {
    companyId,
    locationIds,
    users,
    contacts: new Map(),
    conversations: new Map(),
    messages: new Map(),
    conversationMessages: new Map(),
    random,
  };

  const seeded: Array<{ conversation: EmuConversation; messages: number }> = [];
  const locations = [
    { locationId: main, contacts: 100, messages: 1_000 },
    { locationId: other, contacts: 20, messages: 100 },
  ];
  let contactIndex = 0;
  for (const location of locations) {
    const staff = staffOf(location.locationId);
    const mine: Array<{ conversation: EmuConversation; messages: number }> = [];
    for (let i = 0; i < location.contacts; i++, contactIndex++) mine.push({ conversation: seedContact(data, location.locationId, staff, contactIndex), messages: 1 });
    for (let i = location.contacts; i < location.messages; i++) (pick(mine) as { messages: number }).messages++;
    seeded.push(...mine);
  }
  seedMessages(data, seeded, staffOf);
  return data;
}

/** One contact of the location and its conversation (no messages yet). */
function seedContact(data: LeadConnectorData, locationId: string, staff: readonly EmuUser[], contactIndex: number): EmuConversation {
  const { random } = data;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const firstName = pick(FIRST_NAMES);
  const lastName = pick(LAST_NAMES);
  const added = BASE_MS - 200 * DAY_MS + contactIndex * 3_600_000 + Math.floor(random() * 3_000_000);
  const assignedTo = random() < 0.8 ? pick(staff).id : undefined;
  const contact: EmuContact = {
    id: leadConnectorId(random),
    locationId,
    firstName,
    lastName,
    ...(random() < 0.9 ? { email: `${firstName}.${lastName}${contactIndex}@example.net`.toLowerCase() } : {}),
    phone: `+1555${String(1_000_000 + Math.floor(random() * 8_999_999))}`,
    ...(random() < 0.3 ? { companyName: pick(COMPANIES) } : {}),
    dnd: false,
    type: random() < 0.7 ? 'lead' : 'customer',
    source: pick(SOURCES),
    ...(assignedTo ? { assignedTo } : {}),
    tags: random() < 0.5 ? ['sandbox'] : [],
    country: 'US',
    dateAdded: new Date(added).toISOString(),
    dateUpdated: new Date(added + 60_000).toISOString(),
  };
  data.contacts.set(contact.id, contact);
  const r = random();
  const conversation: EmuConversation = {
    id: leadConnectorId(random),
    locationId,
    contactId: contact.id,
    assignedTo: assignedTo ?? null,
    type: r < 0.75 ? 'TYPE_PHONE' : r < 0.9 ? 'TYPE_EMAIL' : 'TYPE_FB_MESSENGER',
    inbox: true,
    starred: random() < 0.1,
    deleted: false,
    dateAdded: added + 3_600_000,
    unreadCount: 0,
    dateUpdated: added + 3_600_000,
    lastMessageDate: added + 3_600_000,
    lastMessageBody: '',
    lastMessageType: 'TYPE_SMS',
    lastMessageDirection: 'outbound',
  };
  data.conversations.set(conversation.id, conversation);
  data.conversationMessages.set(conversation.id, []);
  return conversation;
}

/** Distinct times: every message gets its own ~2 hour slot over the last 100 days, jittered inside it. */
function seedMessages(
  data: LeadConnectorData,
  seeded: ReadonlyArray<{ conversation: EmuConversation; messages: number }>,
  staffOf: (locationId: string) => EmuUser[],
): void {
  const { random } = data;
  const slots = seeded.flatMap(({ conversation, messages }) => Array.from({ length: messages }, () => conversation));
  const order = shuffle(random, slots.map((_, i) => i));
  const timed = slots
    .map((conversation, i) => ({ conversation, at: BASE_MS - 100 * DAY_MS + (order[i] ?? i) * 7_000_000 + Math.floor(random() * 6_000_000) }))
    .sort((a, b) => a.at - b.at);
  for (const { conversation, at } of timed) {
    const kind: MessageKind =
      conversation.type === 'TYPE_EMAIL' ? 'EMAIL' : conversation.type === 'TYPE_FB_MESSENGER' ? 'FB' : random() < 0.1 ? 'EMAIL' : weighted(random, PHONE_KIND_WEIGHTS);
    const direction = random() < (kind === 'VOICEMAIL' ? 0.7 : 0.45) ? 'inbound' : 'outbound';
    const staff = staffOf(conversation.locationId);
    addMessage(data, conversation.id, { kind, direction, at, userId: direction === 'outbound' ? (staff[Math.floor(random() * staff.length)] as EmuUser).id : undefined });
  }
}

export interface NewMessage {
  readonly kind: MessageKind;
  readonly direction: 'inbound' | 'outbound';
  /** Epoch ms; must be later than the conversation's newest message. */
  readonly at: number;
  readonly userId?: string;
  /** Defaults to a realistic status for the kind and direction. */
  readonly status?: string;
  readonly body?: string;
  /** An email's HTML as sent (otherwise `body` is wrapped in a paragraph). */
  readonly html?: string;
  /** Defaults to a rare random image for texts. */
  readonly attachments?: readonly string[];
  /** Who sent an outbound message. @default 'app' */
  readonly source?: 'app' | 'workflow' | 'api';
}

/** Stores a message as HighLevel would and makes it its conversation's newest. */
export function addMessage(data: LeadConnectorData, conversationId: string, spec: NewMessage): EmuMessage {
  const conversation = data.conversations.get(conversationId);
  const ids = data.conversationMessages.get(conversationId);
  if (!conversation || !ids) throw new Error(`HighLevel emulator has no conversation ${conversationId}`);
  const { random } = data;
  const id = leadConnectorId(random);
  const { kind, direction } = spec;
  const isCall = kind === 'CALL' || kind === 'VOICEMAIL';
  const outboundDrop = kind === 'VOICEMAIL' && direction === 'outbound';
  const texts = direction === 'inbound' ? INBOUND_TEXTS : OUTBOUND_TEXTS;
  const text = spec.body ?? texts[Math.floor(random() * texts.length)] ?? '';
  const status =
    spec.status ??
    (kind === 'VOICEMAIL' && direction === 'inbound'
      ? 'voicemail'
      : isCall
        ? 'completed'
        : direction === 'inbound'
          ? 'delivered'
          : weighted(random, kind === 'EMAIL' ? EMAIL_STATUS_WEIGHTS : STATUS_WEIGHTS));
  const message: EmuMessage = {
    id,
    type: outboundDrop ? 10 : KINDS[kind].type,
    messageType: outboundDrop ? 'TYPE_CAMPAIGN_VOICEMAIL' : KINDS[kind].messageType,
    locationId: conversation.locationId,
    contactId: conversation.contactId,
    conversationId,
    dateAdded: new Date(spec.at).toISOString(),
    ...(isCall ? {} : { body: kind === 'EMAIL' ? (spec.html ?? `<div><p>${text}</p></div>`) : text }),
    direction,
    status,
    contentType: kind === 'EMAIL' ? 'text/html' : 'text/plain',
    attachments: spec.attachments ?? (!isCall && random() < 0.05 ? [`https://storage.example.com/sandbox/${id}.jpg`] : []),
    ...(isCall && !outboundDrop
      ? { meta: { callDuration: String(kind === 'VOICEMAIL' ? 10 + Math.floor(random() * 50) : 30 + Math.floor(random() * 600)), callStatus: kind === 'VOICEMAIL' ? 'voicemail' : 'completed' } }
      : kind === 'EMAIL'
        ? { meta: { email: { messageIds: [id] } } }
        : {}),
    ...(direction === 'outbound' ? { source: spec.source ?? 'app', ...(spec.userId ? { userId: spec.userId } : {}) } : {}),
  };
  data.messages.set(id, message);
  ids.unshift(id);
  conversation.lastMessageDate = spec.at;
  conversation.dateUpdated = spec.at;
  conversation.lastMessageBody = message.body ?? '';
  conversation.lastMessageType = message.messageType;
  conversation.lastMessageDirection = direction;
  if (direction === 'inbound') conversation.unreadCount++;
  return message;
}

const STATUS_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['delivered', 50],
  ['sent', 20],
  ['read', 12],
  ['failed', 6],
  ['undelivered', 4],
  ['pending', 4],
  ['scheduled', 4],
];
const EMAIL_STATUS_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['delivered', 40],
  ['opened', 25],
  ['clicked', 10],
  ['sent', 15],
  ['failed', 10],
];

function weighted<T>(random: () => number, choices: ReadonlyArray<readonly [T, number]>): T {
  const total = choices.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [value, w] of choices) {
    r -= w;
    if (r < 0) return value;
  }
  return (choices.at(-1) as readonly [T, number])[0];
}

function shuffle<T>(random: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An id shaped like HighLevel's: 20 alphanumerics. */
export function leadConnectorId(random: () => number): string {
  let id = '';
  for (let i = 0; i < 20; i++) id += ALPHANUMERIC[Math.floor(random() * ALPHANUMERIC.length)];
  return id;
}
