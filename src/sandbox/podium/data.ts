// Seeded sandbox data for the Podium emulator: one organization (an auto-repair
// business) with 3 locations, 10 users, 50 contacts, 100 conversations (two
// per contact, across channels) and 1,000 messages, the same on every start,
// one of whose contacts, Lana Landline, has a landline for a phone.
import type {
  PodiumContact,
  PodiumConversation,
  PodiumLocation,
  PodiumMessage,
  PodiumMessageItem,
  PodiumUser,
} from '../../providers/podium/client.js';
import { seededRandom } from '../kit.js';

export interface PodiumOrganization {
  readonly uid: string;
  readonly businessName: string;
}

export interface PodiumSandboxData {
  readonly organization: PodiumOrganization;
  readonly locations: readonly PodiumLocation[];
  readonly users: readonly PodiumUser[];
  /** Newest first, as the list endpoints answer. */
  readonly contacts: readonly PodiumContact[];
  /** Newest first, as the list endpoints answer. */
  readonly conversations: PodiumConversation[];
  /** Per conversation uid, oldest first: appending keeps positions (and cursors) stable. */
  readonly messages: Map<string, PodiumMessage[]>;
  readonly messageCount: number;
  /** Whose data this is: its templates make the live events too. */
  readonly business: PodiumBusiness;
  /** Phone numbers that are landlines: texts to them fail. */
  readonly landlines: Set<string>;
}

export type Rand = () => number;

// Seeded times are fixed, not relative to now, so every start serves the same
// data; live events are stamped now and so are always the newest.
const EPOCH = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 86_400_000;

const firstNames = ['Ana', 'Brandon', 'Carla', 'Derek', 'Elena', 'Faisal', 'Grace', 'Hector', 'Isabel', 'Jamal', 'Kira', 'Liam', 'Maya', 'Noah', 'Olivia', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tariq', 'Uma', 'Victor', 'Wendy', 'Xavier', 'Yara', 'Zoe'];
const lastNames = ['Anderson', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Johnson', 'Kowalski', 'Lopez', 'Martin', 'Nguyen', 'Okafor', 'Patel', 'Reyes', 'Smith', 'Tyson', 'Walker'];
const autoRoles = ['Account Owner', 'Admin', 'Manager', 'Service Advisor', 'Service Advisor', 'Technician', 'Front Desk'];
const cars = ['2016 Honda Civic', '2019 Toyota RAV4', '2014 Ford F-150', '2021 Subaru Outback', '2017 Chevy Malibu', '2012 Jeep Wrangler'];

const autoInbound = [
  'Hi, do you have any openings this Saturday for an oil change?',
  'How much would it cost to replace the front brakes on my {car}?',
  'Is my car ready to be picked up?',
  'Can I reschedule my appointment to Thursday afternoon?',
  'Thanks! See you then.',
  'What time do you close today?',
  'Do you take Apple Pay?',
  'The check engine light came on again right after I left.',
  'Sounds good, go ahead with the repair.',
  'Could you email me the invoice?',
  'Is there a warranty on the new battery?',
  'Running about 10 minutes late, sorry!',
  'Do you do state safety inspections?',
  'Perfect, thank you so much!',
  'Could you text me a quote for four new tires?',
  'Yes please.',
  'Is a loaner car available while mine is in the shop?',
  "What's the address of the Provo shop?",
  'My AC is blowing warm air. Can you take a look this week?',
  'Got it, thanks for the update.',
];

const autoOutbound = [
  'Hi {first}, thanks for reaching out to {location}! How can we help?',
  'We have an opening Saturday at 9:00 AM. Would that work for you?',
  'Your {car} is ready for pickup. We are open until 6 PM today.',
  'Front brake pads and rotors come to $389.95 including labor.',
  'Your appointment is confirmed for Thursday at 2:30 PM.',
  'Thanks for your payment, {first}. View your receipt from {location}: https://pay.podium.co/r/{code}',
  'Thanks for choosing {location}! Would you mind leaving us a review? https://podium.co/review/{code}',
  'We close at 6 PM today and open at 8 AM tomorrow.',
  'Yes, we accept Apple Pay, Google Pay and all major cards.',
  'Our technician found a leaking valve cover gasket. Want us to go ahead with the repair?',
  'No problem, we moved you to Thursday at 3:00 PM.',
  'The battery carries a 3-year free replacement warranty.',
  'A set of four all-season tires, mounted and balanced, is $612 out the door.',
  'We have a loaner available, just let us know when you drop off.',
  'Good news: the diagnostic came back and it was just a loose gas cap.',
];

const dentalRoles = ['Account Owner', 'Admin', 'Office Manager', 'Front Desk', 'Front Desk', 'Hygienist', 'Dental Assistant'];

const dentalInbound = [
  'Hi, do you have any openings next week for a cleaning?',
  'Can I move my appointment to Thursday afternoon?',
  'Do you take Delta Dental insurance?',
  'My filling came out last night. Can someone see me today?',
  'Thanks! See you then.',
  'What time do you open tomorrow?',
  'Running about 10 minutes late, sorry!',
  'Is whitening covered by my plan?',
  'Could you email me the statement?',
  'Yes please.',
  'My son needs a check-up before school starts.',
  'Perfect, thank you so much!',
  "What's the address of the Layton office?",
  'My gums have been sore since the deep cleaning. Is that normal?',
  'Got it, thanks for the reminder.',
];

const dentalOutbound = [
  'Hi {first}, thanks for reaching out to {location}! How can we help?',
  'We have a cleaning opening Tuesday at 8:30 AM. Would that work for you?',
  'Reminder: your appointment at {location} is tomorrow at 10:00 AM. Reply C to confirm.',
  'Your appointment is confirmed for Thursday at 2:30 PM.',
  'Thanks for your payment, {first}. View your receipt from {location}: https://pay.podium.co/r/{code}',
  'Thanks for choosing {location}! Would you mind leaving us a review? https://podium.co/review/{code}',
  'Yes, we are in network with Delta Dental and most PPO plans.',
  'Some soreness for a few days is normal; rinse with warm salt water. Call us if it lasts past Friday.',
  'No problem, we moved you to Thursday at 3:00 PM.',
  'We can see you today at 4:15 PM for the filling.',
];

const failureReasons = ['Attempted to send SMS to a landline.', 'The recipient has opted out of messages from this location.'];

/** Who the seeded organization is: the main sandbox business, or another one an OAuth test can connect. */
export interface PodiumBusiness {
  readonly name: string;
  readonly cities: readonly string[];
  /** Its users' e-mail domain. */
  readonly emailDomain: string;
  readonly roles: readonly string[];
  /** Message templates its contacts and its staff send ({first}, {location}, {car}, {code} are filled in). */
  readonly inbound: readonly string[];
  readonly outbound: readonly string[];
  /** Seed Lana Landline (the main sandbox business). */
  readonly withLandlineContact?: boolean;
}

export const SANDBOX_BUSINESSES: readonly PodiumBusiness[] = [
  { name: 'Wasatch Auto Care', cities: ['Lehi', 'Provo', 'Orem'], emailDomain: 'wasatchauto.example', roles: autoRoles, inbound: autoInbound, outbound: autoOutbound, withLandlineContact: true },
  { name: 'Bonneville Dental', cities: ['Ogden', 'Layton'], emailDomain: 'bonnevilledental.example', roles: dentalRoles, inbound: dentalInbound, outbound: dentalOutbound },
];

export function createPodiumData(seed: number, business: PodiumBusiness = SANDBOX_BUSINESSES[0] as PodiumBusiness): PodiumSandboxData {
  const rand = seededRandom(seed);
  const organization: PodiumOrganization = { uid: seededUuid(rand), businessName: business.name };
  // Each step draws from `rand` in turn: their order is what keeps the data the same on every start.
  const locations = seedLocations(rand, business, organization);
  const users = seedUsers(rand, business, locations);
  const landline = business.withLandlineContact ? LANA_INDEX : null;
  const { contacts, conversations } = seedContacts(rand, organization, locations, users, landline);
  const messages = seedMessages(rand, { organization, locations, users, contacts, conversations, business });
  conversations.sort((a, b) => (b.createdAt as string).localeCompare(a.createdAt as string));
  contacts.sort((a, b) => (b.createdAt as string).localeCompare(a.createdAt as string));
  const landlines = new Set(landline === null ? [] : [contactPhone(landline)]);
  const data: PodiumSandboxData = { organization, locations, users, contacts, conversations, messages, messageCount: 1000, business, landlines };
  failTextsToLandlines(data);
  return data;
}

/** The main sandbox business's newest contact: her phone is a landline, so texts to her are accepted, then fail with Podium's "landline". */
export const LANA_LANDLINE = { name: 'Lana Landline', phone: '+18015551833' } as const;
const LANA_INDEX = 49; // the contact whose phone is LANA_LANDLINE.phone
const LANA_NAME = ['Lana', 'Landline'] as const;

/**
 * Her seeded texts failed the way a new one will: Podium's message.failed
 * example for a landline reads `failureReason: "landline"`.
 */
function failTextsToLandlines(data: PodiumSandboxData): void {
  for (const conversation of data.conversations) {
    if (conversation.channel?.type !== 'phone' || !data.landlines.has(conversation.channel.identifier ?? '')) continue;
    const thread = data.messages.get(conversation.uid) ?? [];
    thread.forEach((m, i) => {
      if (m.items?.[0]?.sourceType !== 'outbound') return;
      thread[i] = { ...m, failureReason: LANDLINE_REASON, items: (m.items ?? []).map((item) => ({ ...item, deliveryStatus: 'failed' })) };
    });
  }
}

/** How Podium words a text that did not reach a landline (its message.failed example). */
export const LANDLINE_REASON = 'landline';

function seedLocations(rand: Rand, business: PodiumBusiness, organization: PodiumOrganization): PodiumLocation[] {
  return business.cities.map((city, i) => ({
    uid: seededUuid(rand),
    name: `${business.name} ${city}`,
    displayName: `${business.name} - ${city}`,
    organizationUid: organization.uid,
    phoneNumber: `+1801555${String(100 + i).padStart(4, '0')}`,
    podiumPhoneNumber: `+1385555${String(100 + i).padStart(4, '0')}`,
    archived: false,
    archivedAt: null,
    createdAt: iso(EPOCH - 900 * DAY + i * 30 * DAY),
    updatedAt: iso(EPOCH - 200 * DAY + i * DAY),
  }));
}

function seedUsers(rand: Rand, business: PodiumBusiness, locations: readonly PodiumLocation[]): PodiumUser[] {
  return Array.from({ length: 10 }, (_, i) => {
    const firstName = firstNames[(i * 7) % firstNames.length] as string;
    const lastName = lastNames[(i * 3) % lastNames.length] as string;
    const createdAt = EPOCH - 800 * DAY + i * 40 * DAY;
    return {
      uid: seededUuid(rand),
      firstName,
      lastName,
      email: `${firstName}.${lastName}@${business.emailDomain}`.toLowerCase(),
      phone: `+1801555${String(200 + i).padStart(4, '0')}`,
      role: i === 0 ? 'Account Owner' : pick(rand, business.roles.slice(1)),
      archived: false,
      locations: i === 0 ? locations.map((l) => ({ uid: l.uid })) : [{ uid: (locations[i % locations.length] as PodiumLocation).uid }],
      createdAt: iso(createdAt),
      updatedAt: iso(createdAt + 10 * DAY),
    };
  });
}

function contactPhone(i: number): string {
  return `+1801555${String(1000 + i * 17).padStart(4, '0')}`;
}

/** 50 contacts, each with a phone conversation and one on a second channel; `landline` is Lana's index. */
function seedContacts(
  rand: Rand,
  organization: PodiumOrganization,
  locations: readonly PodiumLocation[],
  users: readonly PodiumUser[],
  landline: number | null,
): { contacts: PodiumContact[]; conversations: PodiumConversation[] } {
  const contacts: PodiumContact[] = [];
  const conversations: PodiumConversation[] = [];
  for (let i = 0; i < 50; i++) {
    // Lana's name replaces the drawn one; the draws still happen, so the rest of the data stays put.
    const drawn = [pick(rand, firstNames), pick(rand, lastNames)] as const;
    const [first, last] = i === landline ? LANA_NAME : drawn;
    const name = `${first} ${last}`;
    const phone = contactPhone(i);
    const email = `${first}.${last}${i}@example.com`.toLowerCase();
    const home = pick(rand, locations);
    const createdAt = EPOCH - 150 * DAY + i * 2 * DAY + Math.floor(rand() * DAY);
    const second = pick(rand, ['email', 'email', 'facebook', 'instagram', 'google', 'whatsapp', 'apple', 'iframe'] as const);
    const channels = [
      { type: 'phone', identifier: phone },
      { type: second, identifier: channelIdentifier(second, { phone, email }, rand) },
    ];
    const convs = channels.map((channel, c): PodiumConversation => {
      const location = c === 0 ? home : rand() < 0.8 ? home : pick(rand, locations);
      const startedAt = createdAt + c * Math.floor(rand() * 20 * DAY);
      const assignee = rand() < 0.65 ? pick(rand, users.filter((u) => u.locations?.some((l) => l.uid === location.uid))) : null;
      return {
        uid: seededUuid(rand),
        channel,
        closed: rand() < 0.3,
        contactName: name,
        locationUid: location.uid,
        assignedUserUid: assignee?.uid ?? null,
        assigneeUids: assignee ? [assignee.uid] : [],
        createdAt: iso(startedAt),
        updatedAt: iso(startedAt),
        lastItemAt: iso(startedAt),
      };
    });
    conversations.push(...convs);
    contacts.push({
      uid: seededUuid(rand),
      name,
      emails: [email],
      phoneNumbers: [phone],
      channels: channels.map((ch, c) => ({ ...ch, label: null, createdAt: convs[c]?.createdAt ?? null, updatedAt: convs[c]?.createdAt ?? null })),
      conversations: convs.map((c) => ({ uid: c.uid })),
      locations: [...new Set(convs.map((c) => c.locationUid as string))].map((uid) => ({ uid })),
      organization: { uid: organization.uid },
      createdAt: iso(createdAt),
      updatedAt: iso(createdAt + Math.floor(rand() * 30 * DAY)),
    });
  }
  return { contacts, conversations };
}

/** 1,000 messages: at least one per conversation, the rest spread unevenly; conversations get their last item times. */
function seedMessages(
  rand: Rand,
  seeded: {
    readonly organization: PodiumOrganization;
    readonly locations: readonly PodiumLocation[];
    readonly users: readonly PodiumUser[];
    readonly contacts: readonly PodiumContact[];
    readonly conversations: PodiumConversation[];
    readonly business: PodiumBusiness;
  },
): Map<string, PodiumMessage[]> {
  const { organization, locations, users, contacts, conversations, business } = seeded;
  const counts = conversations.map(() => 1);
  for (let n = conversations.length; n < 1000; n++) {
    const c = Math.floor(rand() ** 1.5 * conversations.length);
    counts[c] = (counts[c] ?? 0) + 1;
  }
  const messages = new Map<string, PodiumMessage[]>();
  conversations.forEach((conv, c) => {
    const contact = contacts[Math.floor(c / 2)] as PodiumContact;
    let at = Date.parse(conv.createdAt as string);
    let inbound = true;
    const thread: PodiumMessage[] = [];
    for (let m = 0; m < (counts[c] ?? 1); m++) {
      const direction = inbound ? 'inbound' : 'outbound';
      thread.push(podiumMessage({ rand, conversation: conv, contact, locations, users, direction, createdAt: iso(at), organizationUid: organization.uid, business }));
      at += (5 + Math.floor(rand() * 240)) * MINUTE + (rand() < 0.2 ? Math.floor(rand() * 3) * DAY : 0);
      inbound = rand() < (inbound ? 0.35 : 0.6);
    }
    messages.set(conv.uid, thread);
    const last = thread[thread.length - 1]?.createdAt ?? conv.createdAt;
    conversations[c] = { ...conv, lastItemAt: last, updatedAt: last };
  });
  return messages;
}

function pick<T>(rand: Rand, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface NewMessage {
  readonly rand: Rand;
  readonly conversation: PodiumConversation;
  readonly contact: PodiumContact;
  readonly locations: readonly PodiumLocation[];
  readonly users: readonly PodiumUser[];
  readonly organizationUid: string;
  readonly direction: 'inbound' | 'outbound';
  readonly createdAt: string;
  /** A failed outbound message (message.failed). */
  readonly failed?: boolean;
  /** Uid source for live events; seeded data uses `rand`. */
  readonly uid?: () => string;
  /** Whose templates the body comes from. */
  readonly business: PodiumBusiness;
}

/** A message object in Podium's REST form (webhooks add the deprecated `contact` and `sender`). */
export function podiumMessage(spec: NewMessage): PodiumMessage {
  const { rand, conversation, contact, direction } = spec;
  const uid = spec.uid ?? (() => seededUuid(rand));
  const location = spec.locations.find((l) => l.uid === conversation.locationUid);
  const outbound = direction === 'outbound';
  const failed = spec.failed ?? (outbound && conversation.channel?.type === 'phone' && rand() < 0.03);
  const templates = outbound ? spec.business.outbound : spec.business.inbound;
  const template = templates[Math.floor(rand() * templates.length)] as string;
  const body = template
    .replace('{first}', (contact.name ?? '').split(' ')[0] ?? '')
    .replace('{location}', location?.displayName ?? spec.business.name)
    .replace('{car}', cars[Math.floor(rand() * cars.length)] as string)
    .replace('{code}', uid().slice(0, 8));
  const sender = outbound ? (conversation.assignedUserUid ?? (spec.users[Math.floor(rand() * spec.users.length)] as PodiumUser).uid) : null;
  const withPhoto = !outbound && rand() < 0.05;
  const item = (fields: Partial<PodiumMessageItem>): PodiumMessageItem => ({
    uid: uid(),
    type: 'text',
    body,
    sendBody: null,
    createdAt: spec.createdAt,
    attachmentUrl: null,
    attachmentContentType: null,
    deliveryStatus: outbound ? (failed ? 'failed' : 'sent') : 'received',
    sourceType: direction,
    encryptedAt: null,
    ...fields,
  });
  const items = [item({})];
  if (withPhoto) {
    const url = `https://media.podium.com/attachments/${uid()}.jpg`;
    items.push(item({ type: 'attachment', body: null, attachmentUrl: url, attachmentContentType: 'image/jpeg' }));
  }
  return {
    uid: uid(),
    body,
    createdAt: spec.createdAt,
    failureReason: failed ? (failureReasons[Math.floor(rand() * failureReasons.length)] as string) : null,
    conversation: {
      uid: conversation.uid,
      startedAt: conversation.createdAt ?? null,
      assignedUserUid: conversation.assignedUserUid ?? null,
      channel: conversation.channel ?? null,
    },
    location: { uid: conversation.locationUid ?? null, organizationUid: spec.organizationUid },
    items,
    webchatUrl: null,
    attachmentUrl: items.find((i) => i.attachmentUrl)?.attachmentUrl ?? null,
    senderUid: sender,
    contactName: conversation.contactName ?? contact.name ?? null,
  };
}

function channelIdentifier(type: string, contact: { phone: string; email: string }, rand: Rand): string {
  const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
  switch (type) {
    case 'email':
      return contact.email;
    case 'whatsapp':
      return contact.phone;
    case 'facebook':
      return `${1 + Math.floor(rand() * 9)}${digits(15)}`;
    case 'instagram':
      return `${1 + Math.floor(rand() * 9)}${digits(16)}`;
    case 'apple':
      return `urn:mbid:${digits(24)}`;
    default:
      return seededUuid(rand);
  }
}

/** A version-4 UUID drawn from the seeded generator. */
export function seededUuid(rand: Rand): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(rand() * 256));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
