// The HighLevel adapter against its emulator: paging to the end, batch lookups
// and their request counts, both message nestings, retries and failures, and
// the per-family Version headers the emulator insists on.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { LeadConnectorConfig } from '../../src/providers/leadconnector/config.js';
import { ProviderError } from '../../src/errors.js';
import { withApi } from '../helpers/config.js';
import type { MessageRecord } from '../../src/model.js';
import { createLeadConnectorProvider } from '../../src/providers/leadconnector/index.js';
import type { Provider, ProviderPage } from '../../src/providers/provider.js';
import { startLeadConnectorEmulator } from '../../src/sandbox/leadconnector/index.js';
import type { ProviderEmulator, WithApi } from '../../src/sandbox/types.js';

const deps = { upstream: { timeoutMs: 5_000, maxRetries: 2 }, publicUrl: 'https://gateway.example.com', allowUnsignedWebhooks: false };
const UNKNOWN_ID = 'zzzzzzzzzzzzzzzzzzzz';

let emulator: ProviderEmulator<WithApi<LeadConnectorConfig>>;
let provider: Provider;

beforeAll(async () => {
  emulator = await startLeadConnectorEmulator();
  // Paging every message takes a few hundred requests; HighLevel's 100 per 10 s (a sliding window
  // in the client) would make this suite wait for the limit instead of testing the client.
  provider = createLeadConnectorProvider(withApi(emulator.providerConfig(), { requestsPer10Seconds: 10_000 }), deps);
});
afterAll(async () => {
  await emulator?.close();
});

async function collect<T>(fetchPage: (cursor: string | null) => Promise<ProviderPage<T>>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: ProviderPage<T> = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null && pages < 1_000);
  return { items, pages };
}

describe('HighLevel lists', () => {
  it('pages through every contact of the location once', async () => {
    const { items, pages } = await collect((cursor) => provider.listContacts({ cursor, limit: 7 }, {}));
    const ids = items.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...emulator.fixtures.contactIds].sort());
    expect(pages).toBeGreaterThan(10);
  });

  it('searches contacts by query and in another location', async () => {
    const [firstId] = emulator.fixtures.contactIds;
    const [contact] = await provider.getContacts([firstId as string]);
    const name = (contact as { name: string }).name;
    const found = await provider.listContacts({ cursor: null, limit: 100 }, { query: name });
    expect(found.items.map((c) => c.id)).toContain(firstId);
    expect(found.items.every((c) => c.name === name)).toBe(true);

    const other = await provider.listContacts({ cursor: null, limit: 100 }, { locationId: emulator.fixtures.locationIds[1] });
    expect(other.items).toHaveLength(20);
    expect(other.items.every((c) => c.locationId === emulator.fixtures.locationIds[1])).toBe(true);
  });

  it('pages through every conversation once, most recent message first', async () => {
    const { items } = await collect((cursor) => provider.listConversations({ cursor, limit: 9 }, {}));
    const ids = items.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...emulator.fixtures.conversationIds].sort());
    const times = items.map((c) => Date.parse(c.lastMessageAt ?? ''));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('re-requesting a conversations cursor with a larger limit continues from the same place', async () => {
    const first = await provider.listConversations({ cursor: null, limit: 5 }, {});
    const small = await provider.listConversations({ cursor: first.nextCursor, limit: 3 }, {});
    const large = await provider.listConversations({ cursor: first.nextCursor, limit: 6 }, {});
    expect(large.items.slice(0, 3)).toEqual(small.items);
  });

  it('filters conversations by contact and assigned user', async () => {
    const { items: all } = await collect((cursor) => provider.listConversations({ cursor, limit: 100 }, {}));
    const sample = all.find((c) => c.assignedUserId !== null);
    if (!sample) throw new Error('expected an assigned conversation in the sandbox data');
    const byContact = await provider.listConversations({ cursor: null, limit: 100 }, { contactId: sample.contactRef });
    expect(byContact.items.map((c) => c.id)).toEqual([sample.id]);
    const byUser = await provider.listConversations({ cursor: null, limit: 100 }, { assignedUserId: sample.assignedUserId });
    expect(byUser.items.length).toBeGreaterThan(0);
    expect(byUser.items.every((c) => c.assignedUserId === sample.assignedUserId)).toBe(true);
  });

  it('pages through every message of every conversation once, newest first', async () => {
    const seen = new Set<string>();
    const channels = new Set<string>();
    for (const conversationId of emulator.fixtures.conversationIds) {
      const { items } = await collect((cursor) => provider.listMessages(conversationId, { cursor, limit: 7 }));
      const times = items.map((m) => Date.parse(m.createdAt ?? ''));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      for (const m of items) {
        expect(m.conversationId).toBe(conversationId);
        seen.add(m.id as string);
        channels.add(m.channel);
      }
    }
    expect(seen.size).toBe(emulator.fixtures.messageCount);
    expect([...channels].sort()).toEqual(['CALL', 'EMAIL', 'FACEBOOK', 'GOOGLE', 'INSTAGRAM', 'SMS', 'VOICEMAIL', 'WEBCHAT', 'WHATSAPP']);
  });

  it('reads the flat messages shape of the spec exactly like the nested one', async () => {
    const flat = await startLeadConnectorEmulator({ flatMessages: true });
    onTestFinished(() => flat.close());
    const flatProvider = createLeadConnectorProvider(flat.providerConfig(), deps);
    const [conversationId] = emulator.fixtures.conversationIds;
    expect(flat.fixtures.conversationIds[0]).toBe(conversationId);

    const raw = await fetch(`${flat.url}/conversations/${conversationId}/messages?limit=2`, {
      headers: { authorization: `Bearer ${flat.providerConfig().api.token}`, version: '2021-04-15' },
    });
    expect(Object.keys((await raw.json()) as object).sort()).toEqual(['lastMessageId', 'messages', 'nextPage']);

    const read = (p: Provider): Promise<{ items: MessageRecord[] }> => collect((cursor) => p.listMessages(conversationId as string, { cursor, limit: 3 }));
    const [nested, plain] = await Promise.all([read(provider), read(flatProvider)]);
    expect(plain.items.length).toBeGreaterThan(0);
    expect(plain.items).toEqual(nested.items);
  });

  it('pages through the location users', async () => {
    const { items } = await collect((cursor) => provider.listUsers({ cursor, limit: 3 }));
    const ids = items.map((u) => u.id);
    expect(new Set(ids).size).toBe(8);
    expect(ids.every((id) => emulator.fixtures.userIds.includes(id))).toBe(true);
  });
});

describe('HighLevel batch lookups', () => {
  it('loads five users with exactly one upstream request', async () => {
    const ids = emulator.fixtures.userIds.slice(0, 5);
    emulator.resetRequests();
    const users = await provider.getUsers(ids);
    expect(emulator.requestCount()).toBe(1);
    expect(emulator.requests[0]?.path).toBe('/users/search');
    expect(users.map((u) => (u as { id: string }).id)).toEqual(ids);
  });

  it('answers null at the position of unknown ids and keeps key order', async () => {
    const [u1, u2] = emulator.fixtures.userIds;
    const users = await provider.getUsers([u2 as string, UNKNOWN_ID, u1 as string, u2 as string]);
    expect(users.map((u) => (u === null ? null : (u as { id: string }).id))).toEqual([u2, null, u1, u2]);

    const [c1] = emulator.fixtures.contactIds;
    const contacts = await provider.getContacts([UNKNOWN_ID, c1 as string]);
    expect(contacts[0]).toBeNull();
    expect(contacts[1]).toMatchObject({ id: c1, provider: 'LEADCONNECTOR' });

    const [v1] = emulator.fixtures.conversationIds;
    const conversations = await provider.getConversations([v1 as string, UNKNOWN_ID]);
    expect(conversations[0]).toMatchObject({ id: v1, contactRef: expect.any(String) });
    expect(conversations[1]).toBeNull();

    const page = await provider.listMessages(v1 as string, { cursor: null, limit: 2 });
    const listed = page.items[0] as MessageRecord;
    const messages = await provider.getMessages([UNKNOWN_ID, listed.id as string]);
    expect(messages).toEqual([null, listed]);
  });

  it('fetches each distinct id once when several keys repeat', async () => {
    const [c1, c2] = emulator.fixtures.contactIds;
    emulator.resetRequests();
    await provider.getContacts([c1 as string, c2 as string, c1 as string]);
    expect(emulator.requestCount({ pathPrefix: '/contacts/' })).toBe(2);
  });

  it('looks users up one by one when no companyId is configured', async () => {
    const noCompany = createLeadConnectorProvider(withApi(emulator.providerConfig(), { companyId: null }), deps);
    const [u1] = emulator.fixtures.userIds;
    emulator.resetRequests();
    const users = await noCompany.getUsers([u1 as string, UNKNOWN_ID]);
    expect(users[0]).toMatchObject({ id: u1 });
    expect(users[1]).toBeNull();
    expect(emulator.requests.map((r) => r.path).sort()).toEqual([`/users/${u1}`, `/users/${UNKNOWN_ID}`].sort());
  });
});

describe('HighLevel failures', () => {
  it('retries a 429 and then succeeds', async () => {
    emulator.resetRequests();
    emulator.injectFault({ pathPrefix: '/contacts/search', status: 429, times: 1 });
    const page = await provider.listContacts({ cursor: null, limit: 5 }, {});
    expect(page.items).toHaveLength(5);
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('fails UNAVAILABLE when the API keeps answering 500', async () => {
    emulator.injectFault({ pathPrefix: '/conversations/search', status: 500, times: 10 });
    onTestFinished(() => emulator.clearFaults());
    const failure = await provider.listConversations({ cursor: null, limit: 5 }, {}).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ provider: 'LEADCONNECTOR', failure: 'UNAVAILABLE', status: 500 });
  });

  it('puts an Error at the position of a key whose lookup failed, without failing the batch', async () => {
    const [c1, c2] = emulator.fixtures.contactIds;
    emulator.injectFault({ pathPrefix: `/contacts/${c2}`, status: 400, times: 1 });
    const contacts = await provider.getContacts([c1 as string, c2 as string]);
    expect(contacts[0]).toMatchObject({ id: c1 });
    expect(contacts[1]).toBeInstanceOf(ProviderError);
  });

  it('rejects a bad token with HighLevel 401 body and fails UNAUTHORIZED', async () => {
    const res = await fetch(`${emulator.url}/contacts/${emulator.fixtures.contactIds[0]}`, { headers: { version: '2021-07-28' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ statusCode: 401, message: 'Invalid JWT', error: 'Unauthorized' });

    const intruder = createLeadConnectorProvider(withApi(emulator.providerConfig(), { token: 'pit-wrong' }), deps);
    await expect(intruder.listUsers({ cursor: null, limit: 5 })).rejects.toMatchObject({ failure: 'UNAUTHORIZED', status: 401 });
  });

  it('rejects a cursor that no page produced as bad user input', async () => {
    await expect(provider.listConversations({ cursor: 'not-a-date', limit: 5 }, {})).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
    await expect(provider.listContacts({ cursor: 'bm9wZQ', limit: 5 }, {})).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('HighLevel Version headers', () => {
  const families = [
    { path: () => `/contacts/${emulator.fixtures.contactIds[0]}`, version: '2021-07-28', other: '2021-04-15' },
    { path: () => `/users/${emulator.fixtures.userIds[0]}`, version: '2021-07-28', other: '2021-04-15' },
    { path: () => `/conversations/${emulator.fixtures.conversationIds[0]}`, version: '2021-04-15', other: '2021-07-28' },
  ];

  it.each(families)('the emulator refuses a request without Version $version or with another value', async ({ path, version, other }) => {
    const authorization = `Bearer ${emulator.providerConfig().api.token}`;
    const missing = await fetch(emulator.url + path(), { headers: { authorization } });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect((await fetch(emulator.url + path(), { headers: { authorization, version: other } })).status).toBe(400);
    expect((await fetch(emulator.url + path(), { headers: { authorization, version } })).status).toBe(200);
  });

  it('the adapter sends 2021-07-28 to contacts and users and 2021-04-15 to conversations and messages', async () => {
    emulator.resetRequests();
    const [conversationId] = emulator.fixtures.conversationIds;
    await provider.listContacts({ cursor: null, limit: 2 }, {});
    await provider.getContacts([emulator.fixtures.contactIds[0] as string]);
    await provider.listUsers({ cursor: null, limit: 2 });
    await provider.getUsers([emulator.fixtures.userIds[0] as string]);
    await provider.listConversations({ cursor: null, limit: 2 }, {});
    await provider.getConversations([conversationId as string]);
    const messages = await provider.listMessages(conversationId as string, { cursor: null, limit: 2 });
    await provider.getMessages([messages.items[0]?.id as string]);
    expect(emulator.requests.map((r) => `${r.method} ${r.path.split('/')[1]} ${r.status}`)).toEqual([
      'POST contacts 200',
      'GET contacts 200',
      'GET users 200',
      'GET users 200',
      'GET conversations 200',
      'GET conversations 200',
      'GET conversations 200',
      'GET conversations 200',
    ]);
  });
});
