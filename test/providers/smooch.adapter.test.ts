// The Smooch adapter against the Sunshine Conversations emulator: lookups, paging,
// retries, webhook administration, and the emulator's signed v2 deliveries
// passing the adapter's own receiver.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { withApi } from '../helpers/config.js';
import type { MessageEventKind, MessageRecord } from '../../src/model.js';
import type { Provider } from '../../src/providers/provider.js';
import { createSmoochProvider } from '../../src/providers/smooch/index.js';
import { startSmoochEmulator, type SmoochEmulator } from '../../src/sandbox/smooch/index.js';

let emu: SmoochEmulator;
let smooch: Provider;
let app: string;

beforeAll(async () => {
  emu = await startSmoochEmulator();
  smooch = createSmoochProvider(emu.providerConfig(), { upstream: { timeoutMs: 5_000, maxRetries: 2 }, publicUrl: 'http://gateway.test', allowUnsignedWebhooks: false });
  app = `/v2/apps/${emu.providerConfig().api.appId}`;
});
afterAll(() => emu.close());

function conversationWith(count: number): string {
  const entry = [...emu.data.messages].find(([, list]) => list.length === count);
  if (!entry) throw new Error(`no seeded conversation with ${count} messages`);
  return entry[0];
}

function reset(): void {
  emu.resetRequests();
  emu.clearFaults();
}

describe('Smooch adapter: messages', () => {
  it('pages a 250-message conversation newest first to the end without duplicates', async () => {
    reset();
    const conversationId = conversationWith(250);
    const seen: MessageRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await smooch.listMessages(conversationId, { cursor, limit: 20 });
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);

    expect(seen).toHaveLength(250);
    expect(new Set(seen.map((m) => m.id)).size).toBe(250);
    const times = seen.map((m) => m.createdAt ?? '');
    expect(times).toEqual([...times].sort().reverse());
    expect(seen[0]?.id).toBe(`${conversationId}/${emu.data.messages.get(conversationId)?.at(-1)?.id}`);
    expect(emu.requestCount({ pathPrefix: `${app}/conversations/${conversationId}/messages` })).toBe(3);
  });

  it('tells user messages (RECEIVED, CONTACT sender) from business messages (SENT, BUSINESS sender)', async () => {
    const { items } = await smooch.listMessages(conversationWith(150), { cursor: null, limit: 100 });
    const fromUser = items.find((m) => m.direction === 'INBOUND');
    const fromBusiness = items.find((m) => m.direction === 'OUTBOUND');
    expect(fromUser).toMatchObject({ status: 'RECEIVED', sender: { kind: 'CONTACT', contactRef: fromUser?.contactRef } });
    expect(fromBusiness).toMatchObject({ status: 'SENT', sender: { kind: 'BUSINESS', name: 'Sandbox Support' } });
  });

  it('finds single messages by scanning their conversation, null for unknown ones', async () => {
    const conversationId = conversationWith(250);
    const list = emu.data.messages.get(conversationId) ?? [];
    const newest = `${conversationId}/${list.at(-1)?.id}`;
    const oldest = `${conversationId}/${list[0]?.id}`;
    const unknownMessage = `${conversationId}/ffffffffffffffffffffffff`;
    const unknownConversation = 'ffffffffffffffffffffffff/ffffffffffffffffffffffff';
    reset();
    const found = await smooch.getMessages([oldest, newest, unknownMessage, unknownConversation, 'not-a-key']);

    expect(found.map((m) => (m instanceof Error || m === null ? m : m.id))).toEqual([oldest, newest, null, null, null]);
    // One scan of the 3 pages for the known conversation, one 404 for the unknown one.
    expect(emu.requestCount()).toBe(4);
  });
});

describe('Smooch adapter: contacts and conversations', () => {
  it('looks users up once per distinct key, by id or external id, null at unknown positions', async () => {
    const [first, second] = emu.data.users;
    reset();
    const found = await smooch.getContacts([first!.id, 'ffffffffffffffffffffffff', 'crm-1000', first!.id, second!.id]);

    expect(found.map((c) => (c instanceof Error || c === null ? c : c.id))).toEqual([first!.id, null, first!.id, first!.id, second!.id]);
    expect(found[0]).toMatchObject({ name: `${first!.profile.givenName} ${first!.profile.surname}`, aliases: ['crm-1000'] });
    expect(emu.requestCount()).toBe(4);
  });

  it('lists users only by email identity and refuses to list them all', async () => {
    const withIdentity = emu.data.users[0]!;
    const page = await smooch.listContacts({ cursor: null, limit: 10 }, { query: withIdentity.profile.email });
    expect(page).toEqual({ items: [expect.objectContaining({ id: withIdentity.id })], nextCursor: null });
    await expect(smooch.listContacts({ cursor: null, limit: 10 }, {})).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringContaining('Smooch cannot list all users'),
    });
  });

  it('pages a user’s conversations with the user as contactRef', async () => {
    const owner = emu.data.conversations.find((c) => emu.data.conversations.filter((o) => o.userId === c.userId).length >= 2)!.userId;
    const expected = emu.data.conversations.filter((c) => c.userId === owner).map((c) => c.id);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await smooch.listConversations({ cursor, limit: 1 }, { contactId: owner });
      expect(page.items.every((c) => c.contactRef === owner)).toBe(true);
      ids.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(ids).toEqual(expected);
  });

  it('refuses to list conversations without a contact', async () => {
    await expect(smooch.listConversations({ cursor: null, limit: 10 }, {})).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('looks conversations up with their participant as contactRef, null for unknown ids', async () => {
    const conversation = emu.data.conversations[5]!;
    const found = await smooch.getConversations(['ffffffffffffffffffffffff', conversation.id]);
    expect(found[0]).toBeNull();
    expect(found[1]).toMatchObject({ id: conversation.id, contactRef: conversation.userId, createdAt: conversation.createdAt });
  });
});

describe('Smooch adapter: users, failures', () => {
  it('has no staff users and never asks upstream for them', async () => {
    reset();
    await expect(smooch.listUsers({ cursor: null, limit: 50 })).resolves.toEqual({ items: [], nextCursor: null });
    await expect(smooch.getUsers(['a', 'b'])).resolves.toEqual([null, null]);
    expect(emu.requestCount()).toBe(0);
  });

  it('retries a 429 and succeeds', async () => {
    reset();
    emu.injectFault({ status: 429, retryAfterSeconds: 0, pathPrefix: `${app}/users/` });
    const [user] = await smooch.getContacts([emu.data.users[3]!.id]);
    expect(user).toMatchObject({ id: emu.data.users[3]!.id });
    expect(emu.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('fails UNAVAILABLE after persistent 500s, after 1 + maxRetries attempts', async () => {
    reset();
    emu.injectFault({ status: 500, retryAfterSeconds: 0, times: 10 });
    const failure = await smooch.listMessages(conversationWith(150), { cursor: null, limit: 10 }).catch((err: unknown) => err);
    emu.clearFaults();
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ provider: 'SMOOCH', failure: 'UNAVAILABLE', status: 500 });
    expect(emu.requestCount()).toBe(3);
  });

  it('is refused with bad credentials', async () => {
    const wrong = createSmoochProvider(withApi(emu.providerConfig(), { secret: 'wrong' }), { upstream: { timeoutMs: 5_000, maxRetries: 0 }, publicUrl: 'http://gateway.test', allowUnsignedWebhooks: false });
    const [result] = await wrong.getContacts([emu.data.users[0]!.id]);
    expect(result).toMatchObject({ failure: 'UNAUTHORIZED', status: 401 });
  });
});

describe('Smooch adapter: webhooks', () => {
  it('rejects inputs Smooch cannot honour before calling it', () => {
    expect(smooch.webhooks.validateCreate({ url: 'https://x.test/h', eventTypes: ['conversation:message'] })).toEqual([]);
    expect(
      smooch.webhooks.validateCreate({ url: 'https://x.test/h', eventTypes: [], secret: 's', locationId: 'l', organizationId: 'o' }),
    ).toHaveLength(3);
    expect(smooch.webhooks.validateUpdate({ secret: 's' })).toHaveLength(1);
    expect(smooch.webhooks.eventTypes).toContain('conversation:message:delivery:failure');
  });

  it('creates a webhook with a Smooch-generated secret, then lists, gets, updates and deletes it', async () => {
    const created = await smooch.webhooks.create({ url: 'https://gateway.test/webhooks/smooch', eventTypes: ['conversation:message'] });
    expect(created).toMatchObject({ provider: 'SMOOCH', url: 'https://gateway.test/webhooks/smooch', eventTypes: ['conversation:message'] });
    expect(created.secret).toMatch(/^[0-9a-f]{32}$/);
    expect(created.id).toMatch(/^[0-9a-f]{24}\/[0-9a-f]{24}$/);

    expect(await smooch.webhooks.list()).toContainEqual(created);
    expect(await smooch.webhooks.get(created.id)).toEqual(created);

    const updated = await smooch.webhooks.update(created.id, { eventTypes: ['conversation:message', 'conversation:read'] });
    expect(updated).toEqual({ ...created, eventTypes: ['conversation:message', 'conversation:read'] });

    expect(await smooch.webhooks.delete(created.id)).toEqual(updated);
    expect(await smooch.webhooks.get(created.id)).toBeNull();
    expect(await smooch.webhooks.delete(created.id)).toBeNull();
    // The custom integration went with it.
    expect(emu.data.integrations.some((i) => i.id === created.id.split('/')[0])).toBe(false);
  });
});

describe('Smooch emulator deliveries', () => {
  it.each<[MessageEventKind, string]>([
    ['RECEIVED', 'conversation:message'],
    ['SENT', 'conversation:message'],
    ['FAILED', 'conversation:message:delivery:failure'],
  ])('delivers %s as a v2 %s that the receiver verifies and normalizes', async (kind, type) => {
    const received: Array<{ headers: Record<string, string | undefined>; body: string }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string | undefined>, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/smooch`;
    await emu.addWebhookTarget(url);
    onTestFinished(() => {
      const index = emu.data.integrations.findIndex((i) => i.webhooks?.some((w) => w.target === url));
      emu.data.integrations.splice(index, 1);
    });

    const conversationId = emu.data.conversations.at(-1)!.id;
    const emitted = await emu.emitMessageEvent(kind, { conversationId });

    expect(emitted.deliveries).toEqual([{ url, status: 200 }]);
    expect(received).toHaveLength(1);
    const req = { headers: received[0]!.headers, rawBody: Buffer.from(received[0]!.body), receivedAt: new Date() };
    expect(received[0]!.body).toBe(emitted.rawBody);
    await expect(smooch.receiver.verify(req, { storedSecrets: async () => [] })).resolves.toEqual({ ok: true });
    const [event, ...rest] = smooch.receiver.parse(JSON.parse(received[0]!.body), req);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      providerEventType: type,
      result: { ok: true, event: { kind, message: { id: `${conversationId}/${emitted.messageId}`, conversationId } } },
    });
  });
});

describe('Smooch adapter: conversations say who and over which channel', () => {
  it("lists a user's conversations with the user's name and the channel its user messages arrive on", async () => {
    reset();
    // A channel the unified vocabulary names (telegram and line are OTHER in messages too).
    const conversation = emu.data.conversations.find(
      (c) => ['web', 'whatsapp', 'twilio', 'messenger'].includes(c.channel) && (emu.data.messages.get(c.id) ?? []).some((m) => m.author.type === 'user'),
    )!;
    const user = emu.data.users.find((u) => u.id === conversation.userId)!;
    const page = await smooch.listConversations({ cursor: null, limit: 100 }, { contactId: user.id });
    const listed = page.items.find((c) => c.id === conversation.id)!;
    const fromUser = (await smooch.listMessages(conversation.id, { cursor: null, limit: 100 })).items.find((m) => m.direction === 'INBOUND')!;
    expect(listed.channel).not.toBe('OTHER');
    expect(listed.channel).toBe(fromUser.channel);
    expect(listed.contactName).toBe(`${user.profile.givenName} ${user.profile.surname}`);
    // The user read for the name primes the contact loader: one user lookup per page.
    expect(page.included?.contacts?.map((c) => c.id)).toEqual([user.id]);
    expect(emu.requestCount({ pathPrefix: `${app}/users/` })).toBe(1);

    const [looked] = await smooch.getConversations([conversation.id]);
    expect(looked).toMatchObject({ id: conversation.id, channel: listed.channel, contactName: listed.contactName, contactRef: user.id });
  });
});
