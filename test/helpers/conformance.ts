// What the provider conformance suite needs to know per provider, and nothing
// more: the webhook route and retry status, list queries that work for that
// provider with what its emulator holds for them, ids it does not know, the
// upstream path of a lookup, and authentic, forged and unknown deliveries.
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import type { LeadConnectorConfig } from '../../src/providers/leadconnector/config.js';
import type { PodiumConfig } from '../../src/providers/podium/config.js';
import type { SmoochConfig } from '../../src/providers/smooch/config.js';
import { encodeId } from '../../src/ids.js';
import type { ProviderName } from '../../src/model.js';
import type { SmoochEmulator } from '../../src/sandbox/smooch/index.js';
import type { ProviderEmulator, WithApi } from '../../src/sandbox/types.js';
import type { TestGateway } from './gateway.js';

export type WebhookPath = 'podium' | 'leadconnector' | 'smooch';

/** A webhook request as sent: the exact bytes and the headers that go with them. */
export interface Delivery {
  readonly raw: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** An authentic delivery of message events, with the provider message id of each event. */
export interface MessageDelivery extends Delivery {
  readonly messageIds: readonly string[];
}

export interface NamedDelivery extends Delivery {
  readonly what: string;
}

export interface UnknownDelivery extends NamedDelivery {
  /** What the gateway should record as the provider's event name (null when the body has none). */
  readonly providerEventType: string | null;
}

/** A list to page through: `query` takes `$first` and `$after` and returns the connection as `list` (top level or under `conversation`). */
export interface PagedList {
  readonly what: string;
  readonly first: number;
  readonly query: string;
  readonly variables: Readonly<Record<string, unknown>>;
  /** Provider ids the emulator holds for this list. */
  readonly expected: readonly string[];
  /** For a conversation's messages (newest first): the provider conversation id, where the emulator can add a newest one. */
  readonly conversationId?: string;
}

/** Provider ids, well-formed for the provider, that it does not know. */
export interface UnknownIds {
  readonly contact: string;
  readonly conversation: string;
  readonly message: string;
  /** A message id in a conversation the provider knows. */
  readonly messageInKnownConversation: string;
  readonly user: string;
}

/** How a batch of lookups of one type should reach the provider. */
export type BatchLookup =
  | {
      /** One upstream request per distinct key, at `path(key)`. */
      readonly kind: 'per-key';
      readonly type: 'Contact';
      readonly path: (t: TestGateway, id: string) => string;
    }
  | {
      /** One search request for every key. */
      readonly kind: 'one-search';
      readonly type: 'User';
      readonly pathPrefix: string;
      /** The query parameter that lists the keys, comma-separated. */
      readonly idsParam: string;
    };

export interface ProviderCase {
  readonly provider: ProviderName;
  /**
   * A conversations filter on `closed: true` that is valid for this provider otherwise,
   * and whether the provider's conversations carry a closed state to filter on.
   */
  closedFilter(t: TestGateway): { readonly filter: Readonly<Record<string, unknown>>; readonly supported: boolean };
  readonly webhookPath: WebhookPath;
  /** The status that makes this provider deliver again later (never 5xx for HighLevel). */
  readonly retryStatus: number;
  /** Podium: CRUD with a chosen secret; HighLevel: one read-only Marketplace URL; Smooch: CRUD, Smooch generates the secret. */
  readonly webhookAdmin: 'podium' | 'marketplace' | 'smooch';
  lists(t: TestGateway): Promise<readonly PagedList[]>;
  unknownIds(t: TestGateway): UnknownIds;
  /** Upstream path of a single-contact lookup. */
  contactPath(t: TestGateway, id: string): string;
  /** Known ids of the type `batch` looks up (at least two). */
  batchIds(t: TestGateway): readonly [string, string];
  readonly batch: BatchLookup;
  /** New message events, delivered as the provider delivers them (Smooch: two events in one body). */
  authentic(t: TestGateway): Promise<MessageDelivery>;
  /** Variants of an authentic delivery the gateway must refuse with 401. */
  forgeries(t: TestGateway, authentic: MessageDelivery): readonly NamedDelivery[];
  /** Authentic deliveries the gateway cannot normalize. */
  unknown(t: TestGateway): readonly UnknownDelivery[];
}

const CONNECTION = 'edges { cursor node { id providerId } } pageInfo { hasNextPage hasPreviousPage endCursor }';
const FIRST_AFTER = '$first: Int, $after: String';

function listOf(provider: ProviderName, field: 'contacts' | 'conversations' | 'users', filter = ''): string {
  const filterVar = filter ? ', $filter: ' + (field === 'contacts' ? 'ContactFilter' : 'ConversationFilter') : '';
  const filterArg = filter ? ', filter: $filter' : '';
  return `query(${FIRST_AFTER}${filterVar}) { list: ${field}(provider: ${provider}, first: $first, after: $after${filterArg}) { ${CONNECTION} } }`;
}

const MESSAGES = `query($id: ID!, ${FIRST_AFTER}) { conversation(id: $id) { list: messages(first: $first, after: $after) { ${CONNECTION} } } }`;

function emulatorOf<C>(t: TestGateway, provider: ProviderName): ProviderEmulator<C> {
  const emulator = t.emulators[provider];
  if (!emulator) throw new Error(`expected a ${provider} emulator in this gateway, got none`);
  return emulator as ProviderEmulator<C>;
}

function smoochOf(t: TestGateway): SmoochEmulator {
  return emulatorOf<WithApi<SmoochConfig>>(t, 'SMOOCH') as SmoochEmulator;
}

function fixture(list: readonly string[], index: number, what: string): string {
  const value = list[index];
  if (value === undefined) throw new Error(`expected the emulator to have a ${what} at index ${index}, it has ${list.length}`);
  return value;
}

async function getJson<T>(url: URL, headers: Record<string, string>): Promise<T> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`expected 200 from the emulator for ${url.pathname}, got ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every message uid of a Podium conversation, read from the emulator's API. */
async function podiumMessageIds(emulator: ProviderEmulator<WithApi<PodiumConfig>>, conversationId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const url = new URL(`/v4/conversations/${conversationId}/messages`, emulator.url);
    url.searchParams.set('limit', '100');
    if (cursor) url.searchParams.set('cursor', cursor);
    const body: { data: Array<{ uid: string }>; metadata: { nextCursor: string | null } } = await getJson(url, {
      authorization: `Bearer ${emulator.providerConfig().api.accessToken}`,
    });
    ids.push(...body.data.map((m) => m.uid));
    cursor = body.metadata.nextCursor;
  } while (cursor);
  return ids;
}

/** Every message id of a HighLevel conversation, read from the emulator's API. */
async function leadConnectorMessageIds(emulator: ProviderEmulator<WithApi<LeadConnectorConfig>>, conversationId: string): Promise<string[]> {
  const ids: string[] = [];
  let lastMessageId: string | null = null;
  for (;;) {
    const url = new URL(`/conversations/${conversationId}/messages`, emulator.url);
    url.searchParams.set('limit', '100');
    if (lastMessageId) url.searchParams.set('lastMessageId', lastMessageId);
    const body: { messages: { lastMessageId: string | null; nextPage: boolean; messages: Array<{ id: string }> } } = await getJson(url, {
      authorization: `Bearer ${emulator.providerConfig().api.token}`,
      version: '2021-04-15',
    });
    ids.push(...body.messages.messages.map((m) => m.id));
    if (!body.messages.nextPage) return ids;
    lastMessageId = body.messages.lastMessageId;
  }
}

/** The same JSON with one more space before the last brace: still valid, different bytes. */
function reformatted(raw: string): string {
  return `${raw.slice(0, -1)} }`;
}

/** The same body naming another message. */
function retargeted(raw: string, messageId: string): string {
  const other = [...messageId].reverse().join('');
  if (!raw.includes(messageId)) throw new Error(`expected the delivery to name message ${messageId}`);
  return raw.split(messageId).join(other);
}

const NO_HEADERS: Readonly<Record<string, string>> = {};
const hex24 = (): string => randomBytes(12).toString('hex');
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
const UNKNOWN_LC = 'zzzzzzzzzzzzzzzzzzzz'; // 20 alphanumerics, like HighLevel's ids
const UNKNOWN_SMOOCH = 'ffffffffffffffffffffffff'; // 24 hex, like Smooch's record ids

const podium: ProviderCase = {
  provider: 'PODIUM',
  closedFilter: () => ({ filter: { closed: true }, supported: true }),
  webhookPath: 'podium',
  retryStatus: 503,
  webhookAdmin: 'podium',
  async lists(t) {
    const { fixtures } = t.podium;
    const conversationId = fixture(fixtures.conversationIds, 0, 'conversation');
    const messages = await podiumMessageIds(t.podium, conversationId);
    return [
      { what: 'contacts', first: 7, query: listOf('PODIUM', 'contacts'), variables: {}, expected: fixtures.contactIds },
      { what: 'conversations', first: 30, query: listOf('PODIUM', 'conversations'), variables: {}, expected: fixtures.conversationIds },
      { what: 'users', first: 4, query: listOf('PODIUM', 'users'), variables: {}, expected: fixtures.userIds },
      {
        what: `messages of conversation ${conversationId}`,
        first: Math.max(1, Math.ceil(messages.length / 4)),
        query: MESSAGES,
        variables: { id: encodeId('PODIUM', 'Conversation', conversationId) },
        expected: messages,
        conversationId,
      },
    ];
  },
  unknownIds: (t) => ({
    contact: UNKNOWN_UUID,
    conversation: UNKNOWN_UUID,
    message: `${UNKNOWN_UUID}/${UNKNOWN_UUID}`,
    messageInKnownConversation: `${fixture(t.podium.fixtures.conversationIds, 0, 'conversation')}/${UNKNOWN_UUID}`,
    user: UNKNOWN_UUID,
  }),
  contactPath: (_t, id) => `/v4/contacts/${id}`,
  batchIds: (t) => [fixture(t.podium.fixtures.contactIds, 0, 'contact'), fixture(t.podium.fixtures.contactIds, 1, 'contact')],
  batch: { kind: 'per-key', type: 'Contact', path: (_t, id) => `/v4/contacts/${id}` },
  async authentic(t) {
    const emitted = await t.podium.emitMessageEvent('RECEIVED');
    return { raw: emitted.rawBody, headers: emitted.headers, messageIds: [emitted.messageId?.split('/').pop() ?? ''] };
  },
  forgeries(t, d) {
    const stale = t.podium.signWebhook(d.raw, { timestampMs: Date.now() - 10 * 60_000 });
    const timestamp = String(Date.now());
    const wrongSecret = createHmac('sha256', 'not-the-webhook-secret').update(`${timestamp}.${d.raw}`).digest('hex');
    return [
      { what: 'reformatted body', raw: reformatted(d.raw), headers: d.headers },
      { what: 'body naming another message', raw: retargeted(d.raw, d.messageIds[0] ?? ''), headers: d.headers },
      { what: 'signed with another secret', raw: d.raw, headers: { 'podium-timestamp': timestamp, 'podium-signature': wrongSecret } },
      { what: 'signed ten minutes ago', raw: d.raw, headers: stale },
      { what: 'unsigned', raw: d.raw, headers: NO_HEADERS },
    ];
  },
  unknown(t) {
    const raw = JSON.stringify({
      data: { uid: randomUUID(), name: 'Ana Conformance' },
      metadata: { eventType: 'contact.created', eventUid: randomUUID(), version: '2021.04.01' },
    });
    return [{ what: 'contact.created', raw, headers: t.podium.signWebhook(raw), providerEventType: 'contact.created' }];
  },
};

const leadConnector: ProviderCase = {
  provider: 'LEADCONNECTOR',
  closedFilter: () => ({ filter: { closed: true }, supported: false }),
  webhookPath: 'leadconnector',
  retryStatus: 429,
  webhookAdmin: 'marketplace',
  async lists(t) {
    const emulator = emulatorOf<WithApi<LeadConnectorConfig>>(t, 'LEADCONNECTOR');
    const { fixtures } = emulator;
    const conversationId = fixture(fixtures.conversationIds, 0, 'conversation');
    const messages = await leadConnectorMessageIds(emulator, conversationId);
    return [
      { what: 'contacts', first: 7, query: listOf('LEADCONNECTOR', 'contacts'), variables: {}, expected: fixtures.contactIds },
      { what: 'conversations', first: 30, query: listOf('LEADCONNECTOR', 'conversations'), variables: {}, expected: fixtures.conversationIds },
      {
        what: `messages of conversation ${conversationId}`,
        first: Math.max(1, Math.ceil(messages.length / 4)),
        query: MESSAGES,
        variables: { id: encodeId('LEADCONNECTOR', 'Conversation', conversationId) },
        expected: messages,
        conversationId,
      },
    ];
  },
  unknownIds: () => ({
    contact: UNKNOWN_LC,
    conversation: UNKNOWN_LC,
    message: UNKNOWN_LC,
    messageInKnownConversation: UNKNOWN_LC, // HighLevel looks messages up without their conversation
    user: UNKNOWN_LC,
  }),
  contactPath: (_t, id) => `/contacts/${id}`,
  batchIds: (t) => {
    const users = emulatorOf(t, 'LEADCONNECTOR').fixtures.userIds;
    return [fixture(users, 0, 'user'), fixture(users, 1, 'user')];
  },
  batch: { kind: 'one-search', type: 'User', pathPrefix: '/users/search', idsParam: 'ids' },
  async authentic(t) {
    const emitted = await emulatorOf(t, 'LEADCONNECTOR').emitMessageEvent('RECEIVED');
    return { raw: emitted.rawBody, headers: emitted.headers, messageIds: [emitted.messageId ?? ''] };
  },
  forgeries(_t, d) {
    const stranger = generateKeyPairSync('ed25519');
    const foreign = sign(null, Buffer.from(d.raw), stranger.privateKey).toString('base64');
    const legacy = d.headers['x-wh-signature'] ?? '';
    return [
      { what: 'reformatted body', raw: reformatted(d.raw), headers: d.headers },
      { what: 'body naming another message', raw: retargeted(d.raw, d.messageIds[0] ?? ''), headers: d.headers },
      { what: 'signed by another Ed25519 key', raw: d.raw, headers: { 'x-ghl-signature': foreign } },
      // A present x-ghl-signature decides alone: a valid legacy signature does not rescue it.
      { what: 'bad x-ghl-signature beside a valid x-wh-signature', raw: d.raw, headers: { 'x-ghl-signature': foreign, 'x-wh-signature': legacy } },
      { what: 'unsigned', raw: d.raw, headers: NO_HEADERS },
    ];
  },
  unknown(t) {
    const emulator = emulatorOf<WithApi<LeadConnectorConfig>>(t, 'LEADCONNECTOR');
    const raw = JSON.stringify({
      type: 'ContactCreate',
      locationId: emulator.providerConfig().api.locationId,
      id: UNKNOWN_LC,
      firstName: 'Ana',
      lastName: 'Conformance',
      webhookId: randomUUID(),
      timestamp: new Date().toISOString(),
    });
    return [{ what: 'ContactCreate', raw, headers: emulator.signWebhook(raw), providerEventType: 'ContactCreate' }];
  },
};

const smooch: ProviderCase = {
  provider: 'SMOOCH',
  closedFilter: (t) => ({ filter: { closed: true, contactId: encodeId('SMOOCH', 'Contact', fixture(smoochOf(t).fixtures.contactIds, 0, 'user')) }, supported: false }),
  webhookPath: 'smooch',
  retryStatus: 503,
  webhookAdmin: 'smooch',
  async lists(t) {
    const { data } = smoochOf(t);
    // Smooch pages messages 100 at a time: the longest history crosses page boundaries.
    const [longest, history] = [...data.messages].reduce((a, b) => (b[1].length > a[1].length ? b : a));
    if (history.length <= 100) throw new Error(`expected a Smooch conversation with more than 100 messages, the longest has ${history.length}`);
    const perUser = new Map<string, string[]>();
    for (const c of data.conversations) perUser.set(c.userId, [...(perUser.get(c.userId) ?? []), c.id]);
    const [userId, conversations] = [...perUser].reduce((a, b) => (b[1].length > a[1].length ? b : a));
    const withEmail = data.users.find((u) => u.identities.some((i) => i.type === 'email'));
    if (!withEmail) throw new Error('expected a Smooch user with an email identity, got none');
    return [
      {
        what: `messages of conversation ${longest} (${history.length})`,
        first: 40,
        query: MESSAGES,
        variables: { id: encodeId('SMOOCH', 'Conversation', longest) },
        expected: history.map((m) => m.id),
        conversationId: longest,
      },
      {
        what: `conversations of user ${userId}`,
        first: 1,
        query: listOf('SMOOCH', 'conversations', 'filter'),
        variables: { filter: { contactId: encodeId('SMOOCH', 'Contact', userId) } },
        expected: conversations,
      },
      {
        what: 'contacts with an email',
        first: 5,
        query: listOf('SMOOCH', 'contacts', 'filter'),
        variables: { filter: { query: withEmail.profile.email } },
        expected: [withEmail.id],
      },
      { what: 'users (Smooch has none)', first: 5, query: listOf('SMOOCH', 'users'), variables: {}, expected: [] },
    ];
  },
  unknownIds: (t) => ({
    contact: UNKNOWN_SMOOCH,
    conversation: UNKNOWN_SMOOCH,
    message: `${UNKNOWN_SMOOCH}/${UNKNOWN_SMOOCH}`,
    messageInKnownConversation: `${fixture(smoochOf(t).fixtures.conversationIds, 0, 'conversation')}/${UNKNOWN_SMOOCH}`,
    user: UNKNOWN_SMOOCH,
  }),
  contactPath: (t, id) => `/v2/apps/${smoochOf(t).data.appId}/users/${id}`,
  batchIds: (t) => [fixture(smoochOf(t).fixtures.contactIds, 0, 'user'), fixture(smoochOf(t).fixtures.contactIds, 1, 'user')],
  batch: { kind: 'per-key', type: 'Contact', path: (t, id) => `/v2/apps/${smoochOf(t).data.appId}/users/${id}` },
  async authentic(t) {
    // v2 deliveries may carry several events: two, each with its own id.
    const emulator = smoochOf(t);
    const a = await emulator.emitMessageEvent('RECEIVED');
    const b = await emulator.emitMessageEvent('SENT');
    const first = JSON.parse(a.rawBody) as { app: unknown; webhook: unknown; events: unknown[] };
    const second = JSON.parse(b.rawBody) as { events: unknown[] };
    const raw = JSON.stringify({ ...first, events: [...first.events, ...second.events] });
    return { raw, headers: a.headers, messageIds: [a.messageId ?? '', b.messageId ?? ''] };
  },
  forgeries(_t, d) {
    return [
      { what: 'another API key', raw: d.raw, headers: { 'x-api-key': 'not-the-webhook-secret' } },
      { what: 'the API key with a character more', raw: d.raw, headers: { 'x-api-key': `${d.headers['x-api-key'] ?? ''}x` } },
      { what: 'no API key', raw: d.raw, headers: NO_HEADERS },
    ];
  },
  unknown(t) {
    const emulator = smoochOf(t);
    const headers = emulator.signWebhook('');
    const typing = JSON.stringify({
      app: { id: emulator.data.appId },
      webhook: { id: hex24(), version: 'v2' },
      events: [
        {
          id: hex24(),
          type: 'conversation:typing',
          createdAt: new Date().toISOString(),
          payload: { conversation: { id: fixture(emulator.fixtures.conversationIds, 0, 'conversation'), type: 'personal' }, activity: { type: 'typing:start' } },
        },
      ],
    });
    return [
      { what: 'conversation:typing', raw: typing, headers, providerEventType: 'conversation:typing' },
      // Smooch drops a delivery answered 400, so even an authentic body that is not JSON is kept.
      { what: 'a body that is not JSON', raw: `{"events": [truncated ${hex24()}`, headers, providerEventType: null },
    ];
  },
};

export const PROVIDER_CASES: readonly ProviderCase[] = [podium, leadConnector, smooch];
