// Seeded sandbox data for the Sunshine Conversations emulator, in the v2 API's
// own shapes: 50 users, 100 personal conversations (every user has a default
// one), 1,000 messages from users and the business across channels; two
// conversations hold more than 100 messages so backwards paging is exercised.
import { seededRandom } from '../kit.js';

export interface SmoochUser {
  readonly id: string;
  readonly externalId?: string;
  readonly signedUpAt: string;
  readonly profile: { readonly givenName: string; readonly surname: string; readonly email: string; readonly avatarUrl: string };
  readonly identities: ReadonlyArray<{ readonly type: 'email'; readonly value: string; readonly verification: string }>;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface SmoochConversation {
  readonly id: string;
  readonly type: 'personal';
  readonly isDefault: boolean;
  readonly createdAt: string;
  lastUpdatedAt: string;
  readonly businessLastRead: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** Emulator bookkeeping, not part of the API object: the participant and the channel it talks over. */
  readonly userId: string;
  readonly participantId: string;
  readonly channel: string;
  readonly integrationId: string;
}

export interface SmoochMessage {
  readonly id: string;
  readonly received: string;
  readonly author: {
    readonly type: 'user' | 'business';
    readonly userId?: string;
    readonly displayName?: string;
    readonly avatarUrl?: string;
  };
  readonly content: { readonly type: 'text'; readonly text: string } | { readonly type: 'image'; readonly mediaUrl: string; readonly mediaType: string; readonly text?: string };
  readonly source: { readonly type: string; readonly integrationId?: string };
}

export interface SmoochWebhook {
  readonly id: string;
  readonly version: 'v2';
  target: string;
  triggers: string[];
  readonly secret: string;
  includeFullUser: boolean;
  includeFullSource: boolean;
}

export interface SmoochIntegration {
  readonly id: string;
  readonly type: string;
  readonly status: 'active';
  readonly displayName: string | null;
  readonly webhooks?: SmoochWebhook[];
}

export interface SmoochSandboxData {
  readonly appId: string;
  readonly keyId: string;
  readonly secret: string;
  readonly users: readonly SmoochUser[];
  /** Sorted by id (= creation time), as the API pages them. */
  readonly conversations: readonly SmoochConversation[];
  /** Per conversation, chronological (sorted by id). */
  readonly messages: ReadonlyMap<string, SmoochMessage[]>;
  /** Channel integrations plus the custom integrations webhooks are created in. */
  readonly integrations: SmoochIntegration[];
  /** Makes a new 24-hex, ObjectId-like id: timestamp, per-app random, counter; later ids sort after earlier ones. */
  readonly newId: (atMs: number) => string;
}

/** How the business side signs its messages in the sandbox. */
export const SANDBOX_BUSINESS = { displayName: 'Sandbox Support', avatarUrl: 'https://www.gravatar.com/avatar/00000000000000000000000000000000.png?s=200&d=mm' };
const CHANNELS = ['messenger', 'instagram', 'whatsapp', 'twilio', 'messagebird', 'web', 'ios', 'android', 'mailgun', 'apple', 'telegram', 'line'];
const GIVEN = ['Ava', 'Liam', 'Noah', 'Emma', 'Mia', 'Lucas', 'Zoe', 'Omar', 'Priya', 'Kenji', 'Sofia', 'Mateo', 'Chloe', 'Ivan', 'Amara'];
const SURNAMES = ['Nguyen', 'Garcia', 'Smith', 'Kowalski', 'Okafor', 'Tanaka', 'Rossi', 'Dubois', 'Haddad', 'Silva', 'Larsen', 'Patel'];
const USER_LINES = [
  'Hi! Do you have time to chat?',
  'Is my order on its way?',
  'Can I change my delivery address?',
  'What are your opening hours on Saturday?',
  'The app keeps logging me out.',
  'Thanks, that worked!',
  'Do you ship to Canada?',
  'I would like a refund for my last purchase.',
];
const BUSINESS_LINES = [
  'Hello! How can we help you today?',
  'Your order shipped this morning; tracking is on its way.',
  'We are open 9am to 5pm on Saturdays.',
  'Could you send us your order number?',
  'I have issued the refund; it takes 3 to 5 business days.',
  'Glad we could help. Anything else?',
];
const BASE_MS = Date.UTC(2024, 0, 8, 9, 0, 0);
const MINUTE = 60_000;

/** Generates the same data for the same seed. */
export function createSmoochData(seed: number): SmoochSandboxData {
  const rand = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const hex = (digits: number): string => Array.from({ length: digits }, () => Math.floor(rand() * 16).toString(16)).join('');
  const appRandom = hex(10);
  let counter = Math.floor(rand() * 0x10000);
  const newId = (atMs: number): string =>
    Math.floor(atMs / 1000).toString(16).padStart(8, '0') + appRandom + ((counter++ & 0xffffff).toString(16).padStart(6, '0'));

  const appId = newId(BASE_MS - 400 * 24 * 60 * MINUTE);
  const integrations: SmoochIntegration[] = CHANNELS.map((type) => ({
    id: newId(BASE_MS - 300 * 24 * 60 * MINUTE),
    type,
    status: 'active',
    displayName: `${type} channel`,
  }));
  const integrationFor = (type: string): string => integrations.find((i) => i.type === type)?.id ?? '';

  const users: SmoochUser[] = Array.from({ length: 50 }, (_, n) => {
    const signedUpMs = BASE_MS - (60 - n) * 24 * 60 * MINUTE;
    const givenName = GIVEN[n % GIVEN.length] as string;
    const surname = SURNAMES[(n * 7) % SURNAMES.length] as string;
    const email = `${givenName}.${surname}.${n}@example.com`.toLowerCase();
    return {
      id: newId(signedUpMs),
      // Half the users were created by the business's own systems, with its id for them.
      ...(n % 2 === 0 ? { externalId: `crm-${1000 + n}` } : {}),
      signedUpAt: new Date(signedUpMs).toISOString(),
      profile: { givenName, surname, email, avatarUrl: `https://avatars.example.com/${n}.png` },
      identities: n % 2 === 0 ? [{ type: 'email', value: email, verification: 'sso' }] : [],
      metadata: {},
    };
  });

  // Every user's default conversation, then 50 more personal ones for random users.
  const owners = [...users.map((u) => ({ user: u, isDefault: true })), ...Array.from({ length: 50 }, () => ({ user: pick(users), isDefault: false }))];
  const conversations: SmoochConversation[] = owners.map(({ user, isDefault }, n) => {
    const createdMs = Date.parse(user.signedUpAt) + (isDefault ? MINUTE : (n % 20) * 24 * 60 * MINUTE);
    const channel = pick(CHANNELS);
    return {
      id: newId(createdMs),
      type: 'personal',
      isDefault,
      createdAt: new Date(createdMs).toISOString(),
      lastUpdatedAt: new Date(createdMs).toISOString(),
      businessLastRead: null,
      metadata: {},
      userId: user.id,
      participantId: newId(createdMs),
      channel,
      integrationId: integrationFor(channel),
    };
  });

  // Two long histories (250 and 150 messages), 600 more spread at random.
  const counts = conversations.map(() => 0);
  counts[0] = 250;
  counts[1] = 150;
  for (let i = 0; i < 600; i++) counts[2 + Math.floor(rand() * (conversations.length - 2))]! += 1;

  const messages = new Map<string, SmoochMessage[]>();
  conversations.forEach((conversation, n) => {
    const user = users.find((u) => u.id === conversation.userId) as SmoochUser;
    let atMs = Date.parse(conversation.createdAt);
    const list: SmoochMessage[] = [];
    for (let i = 0; i < (counts[n] ?? 0); i++) {
      atMs += (1 + Math.floor(rand() * 90)) * MINUTE;
      const fromUser = i === 0 || rand() < 0.55;
      const id = newId(atMs);
      list.push({
        id,
        received: new Date(atMs).toISOString(),
        author: fromUser
          ? { type: 'user', userId: user.id, displayName: `${user.profile.givenName} ${user.profile.surname}` }
          : { type: 'business', ...SANDBOX_BUSINESS },
        content:
          fromUser && rand() < 0.08
            ? { type: 'image', mediaUrl: `https://media.example.com/${id}.jpg`, mediaType: 'image/jpeg' }
            : { type: 'text', text: pick(fromUser ? USER_LINES : BUSINESS_LINES) },
        source: fromUser ? { type: conversation.channel, integrationId: conversation.integrationId } : { type: 'api:conversations' },
      });
    }
    if (list.length > 0) conversation.lastUpdatedAt = list[list.length - 1]!.received;
    messages.set(conversation.id, list);
  });

  conversations.sort((a, b) => a.id.localeCompare(b.id));
  return {
    appId,
    keyId: `app_${newId(BASE_MS - 399 * 24 * 60 * MINUTE)}`,
    secret: Buffer.from(hex(48), 'hex').toString('base64url'),
    users,
    conversations,
    messages,
    integrations,
    newId,
  };
}
