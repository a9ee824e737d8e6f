// The directory of what the gateway has seen: one suite against both adapters,
// then through the gateway, where Smooch's lists without a filter come from it.
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createMemoryDirectory, createMongoDirectory, type Directory } from '../src/directory/index.js';
import { encodeId } from '../src/ids.js';
import { startSandbox } from '../src/sandbox/index.js';
import { startSmoochEmulator, type SmoochEmulator } from '../src/sandbox/smooch/index.js';
import { createGateway } from '../src/server.js';
import { gqlAt, mongoTestDb, useTestGateway } from './helpers/gateway.js';

const adapters: Array<[string, () => Directory]> = [
  ['memory', () => createMemoryDirectory()],
  ['mongo', () => createMongoDirectory(mongoTestDb())],
];

describe.each(adapters)('directory (%s)', (_name, create) => {
  const directory = create();
  afterAll(() => directory.close());

  it('lists newest activity first, keeps cursors in place when activity arrives at the front, and keeps accounts apart', async () => {
    await directory.record('SMOOCH', 'a1', [
      { kind: 'contact', id: 'u1', activityAt: '2026-01-01T10:00:00Z' },
      { kind: 'contact', id: 'u2', activityAt: '2026-01-01T11:00:00Z' },
      { kind: 'contact', id: 'u3', activityAt: '2026-01-01T12:00:00Z' },
      { kind: 'conversation', id: 'c1', contactRef: 'u1', activityAt: '2026-01-01T10:00:00Z' },
    ]);
    await directory.record('SMOOCH', 'a2', [{ kind: 'contact', id: 'other', activityAt: '2026-01-02T00:00:00Z' }]);
    const first = await directory.list('SMOOCH', 'a1', 'contact', { after: null, limit: 2 });
    expect(first.entries.map((e) => e.id)).toEqual(['u3', 'u2']);
    expect(first.nextCursor).toBe(first.entries[1]?.cursor);

    // u1 becomes the newest and a new u4 arrives: the page after u2 is what is older than u2.
    await directory.record('SMOOCH', 'a1', [
      { kind: 'contact', id: 'u4', activityAt: '2026-01-01T13:00:00Z' },
      { kind: 'contact', id: 'u1', activityAt: '2026-01-01T14:00:00Z' },
      // An older sighting and a lookup never move an entry back.
      { kind: 'contact', id: 'u3', activityAt: '2026-01-01T09:00:00Z' },
      { kind: 'contact', id: 'u2', activityAt: null, knownSince: '2025-01-01T00:00:00Z' },
    ]);
    const rest = await directory.list('SMOOCH', 'a1', 'contact', { after: first.nextCursor, limit: 2 });
    expect(rest.entries.map((e) => e.id)).toEqual([]);
    expect(rest.nextCursor).toBeNull();
    const now = await directory.list('SMOOCH', 'a1', 'contact', { after: null, limit: 10 });
    expect(now.entries.map((e) => e.id)).toEqual(['u1', 'u4', 'u3', 'u2']);
    const conversations = await directory.list('SMOOCH', 'a1', 'conversation', { after: null, limit: 10 });
    expect(conversations.entries).toMatchObject([{ id: 'c1', contactRef: 'u1' }]);
    expect((await directory.list('SMOOCH', 'a2', 'contact', { after: null, limit: 10 })).entries.map((e) => e.id)).toEqual(['other']);
  });

  it('adds a looked-up entity at its own time without moving a known one', async () => {
    await directory.record('SMOOCH', 'b', [
      { kind: 'contact', id: 'seen', activityAt: '2026-03-01T00:00:00Z' },
      { kind: 'contact', id: 'looked-up', activityAt: null, knownSince: '2026-02-01T00:00:00Z' },
    ]);
    const listed = await directory.list('SMOOCH', 'b', 'contact', { after: null, limit: 10 });
    expect(listed.entries.map((e) => [e.id, e.activityAt])).toEqual([
      ['seen', '2026-03-01T00:00:00.000Z'],
      ['looked-up', '2026-02-01T00:00:00.000Z'],
    ]);
  });

  it('refuses a cursor it did not issue', async () => {
    await expect(directory.list('SMOOCH', 'a1', 'contact', { after: 'nope', limit: 1 })).rejects.toThrow(/not a directory cursor/);
  });
});

interface Connection {
  readonly edges: ReadonlyArray<{ readonly node: { readonly providerId: string; readonly name?: string | null; readonly contact?: { readonly providerId: string } | null } }>;
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

describe('Smooch lists from the directory', () => {
  it('lists the users and conversations its webhooks named, newest activity first, on MongoDB, with cursors that survive new activity', async () => {
    const t = await useTestGateway({ providers: ['SMOOCH'], mongo: true });
    const smooch = t.emulators.SMOOCH as SmoochEmulator;
    await smooch.addWebhookTarget(`${t.url}/webhooks/smooch`);
    const [c1, c2, c3] = smooch.data.conversations.filter((c, i, all) => all.findIndex((o) => o.userId === c.userId) === i);
    for (const c of [c1, c2, c3]) {
      const emitted = await smooch.emitMessageEvent('RECEIVED', { conversationId: c!.id });
      expect(emitted.deliveries[0]?.status).toBe(200);
    }
    const contacts = 'query($after: String) { contacts(provider: SMOOCH, first: 2, after: $after) { edges { node { providerId name } } pageInfo { hasNextPage endCursor } } }';
    const first = await t.gql<{ contacts: Connection }>(contacts);
    expect(first.errors).toBeUndefined();
    expect(first.data?.contacts.edges.map((e) => e.node.providerId)).toEqual([c3!.userId, c2!.userId]);
    expect(first.data?.contacts.edges[0]?.node.name).toBeTruthy();
    expect(first.data?.contacts.pageInfo.hasNextPage).toBe(true);

    // New activity at the front (c1's user becomes the newest) does not shift the cursor taken after c2's user.
    await smooch.emitMessageEvent('RECEIVED', { conversationId: c1!.id });
    const next = await t.gql<{ contacts: Connection }>(contacts, { after: first.data?.contacts.pageInfo.endCursor });
    expect(next.data?.contacts.edges.map((e) => e.node.providerId)).toEqual([]);
    const again = await t.gql<{ contacts: Connection }>(contacts);
    expect(again.data?.contacts.edges.map((e) => e.node.providerId)).toEqual([c1!.userId, c3!.userId]);

    const conversations = await t.gql<{ conversations: Connection }>('{ conversations(provider: SMOOCH, first: 10) { edges { node { providerId contact { providerId } } } pageInfo { hasNextPage endCursor } } }');
    expect(conversations.errors).toBeUndefined();
    expect(conversations.data?.conversations.edges.map((e) => [e.node.providerId, e.node.contact?.providerId])).toEqual(
      [c1, c3, c2].map((c) => [c!.id, c!.userId]),
    );
    expect(conversations.data?.conversations.pageInfo.hasNextPage).toBe(false);
  });

  it('with the cache on, a cached contact list shows a user a later webhook named', async () => {
    const t = await useTestGateway({ providers: ['SMOOCH'], env: { GATEWAY_CACHE: 'on' } });
    const smooch = t.emulators.SMOOCH as SmoochEmulator;
    await smooch.addWebhookTarget(`${t.url}/webhooks/smooch`);
    const [c1, c2] = smooch.data.conversations.filter((c, i, all) => all.findIndex((o) => o.userId === c.userId) === i);
    await smooch.emitMessageEvent('RECEIVED', { conversationId: c1!.id });
    const query = '{ contacts(provider: SMOOCH) { edges { node { providerId } } } }';
    expect((await t.gql<{ contacts: Connection }>(query)).data?.contacts.edges.map((e) => e.node.providerId)).toEqual([c1!.userId]);
    await smooch.emitMessageEvent('RECEIVED', { conversationId: c2!.id });
    expect((await t.gql<{ contacts: Connection }>(query)).data?.contacts.edges.map((e) => e.node.providerId)).toEqual([c2!.userId, c1!.userId]);
  });

  it('keeps each account its own directory: account: picks one, and a key scoped to one sees only its users', async () => {
    const t = await useTestGateway({ providers: ['SMOOCH'], mongo: true });
    const envApp = t.emulators.SMOOCH as SmoochEmulator;
    const other = await startSmoochEmulator({ seed: 7 });
    onTestFinished(() => other.close());
    const api = other.providerConfig().api;
    const connected = await t.gql<{ connectSmoochAccount: { id: string } }>('mutation($i: ConnectSmoochAccountInput!) { connectSmoochAccount(input: $i) { id } }', {
      i: { appId: api.appId, keyId: api.keyId, secret: api.secret, apiUrl: api.apiUrl },
    });
    const accountB = connected.data!.connectSmoochAccount.id;
    await envApp.addWebhookTarget(`${t.url}/webhooks/smooch`);
    await other.addWebhookTarget(`${t.url}/webhooks/smooch`);
    const mine = await envApp.emitMessageEvent('RECEIVED', { conversationId: envApp.data.conversations[0]!.id });
    const theirs = await other.emitMessageEvent('RECEIVED', { conversationId: other.data.conversations[0]!.id });
    expect([mine.deliveries[0]?.status, theirs.deliveries[0]?.status]).toEqual([200, 200]);
    const userOf = (emu: SmoochEmulator): string => emu.data.conversations[0]!.userId;

    const list = 'query($a: ID) { contacts(provider: SMOOCH, account: $a) { edges { node { providerId account { id } } } } }';
    type Listed = { contacts: { edges: Array<{ node: { providerId: string; account: { id: string } } }> } };
    const ids = (res: { data: Listed | null }): string[] => res.data?.contacts.edges.map((e) => e.node.providerId) ?? [];
    expect(ids(await t.gql<Listed>(list))).toEqual([userOf(envApp)]);
    const ofB = await t.gql<Listed>(list, { a: accountB });
    expect(ids(ofB)).toEqual([userOf(other)]);
    expect(ofB.data?.contacts.edges[0]?.node.account.id).toBe(accountB);

    const created = await t.gql<{ createApiKey: { key: string } }>('mutation($a: [ID!]) { createApiKey(role: VIEWER, accounts: $a, name: "app B") { key } }', { a: [accountB] });
    const keyB = created.data!.createApiKey.key;
    expect(ids(await t.gql<Listed>(list, {}, keyB))).toEqual([userOf(other)]);
    const refused = await t.gql<Listed>(list, { a: encodeId('SMOOCH', 'Account', 'env') }, keyB);
    // Another account is as unknown to this key as one that does not exist, as for every list.
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('lists a user found by a lookup, and keeps the email and contact filters', async () => {
    const t = await useTestGateway({ providers: ['SMOOCH'] });
    const smooch = t.emulators.SMOOCH as SmoochEmulator;
    const empty = await t.gql<{ contacts: Connection }>('{ contacts(provider: SMOOCH) { edges { node { providerId } } } }');
    expect(empty.data?.contacts.edges).toEqual([]);
    const user = smooch.data.users[3]!;
    const found = await t.gql<{ contact: { providerId: string } }>('query($id: ID!) { contact(id: $id) { providerId } }', { id: encodeId('SMOOCH', 'Contact', user.id) });
    expect(found.data?.contact.providerId).toBe(user.id);
    const listed = await t.gql<{ contacts: Connection }>('{ contacts(provider: SMOOCH) { edges { node { providerId } } } }');
    expect(listed.data?.contacts.edges.map((e) => e.node.providerId)).toEqual([user.id]);

    const byContact = await t.gql<{ conversations: Connection }>('query($c: ID!) { conversations(provider: SMOOCH, filter: { contactId: $c }) { edges { node { providerId } } } }', {
      c: encodeId('SMOOCH', 'Contact', user.id),
    });
    const expected = smooch.data.conversations.filter((c) => c.userId === user.id).map((c) => c.id);
    expect(byContact.data?.conversations.edges.map((e) => e.node.providerId).sort()).toEqual([...expected].sort());
  });

  it('shows the sandbox Smooch inbox at once: the emulator delivers its history when the sandbox connects', async () => {
    const sandbox = await startSandbox(loadConfig({ NODE_ENV: 'test' }));
    onTestFinished(() => sandbox.close());
    const gateway = createGateway(sandbox.config);
    onTestFinished(() => gateway.close());
    const url = await gateway.listen(0, '127.0.0.1');
    await sandbox.connect(url);
    const smooch = sandbox.emulators.get('SMOOCH') as SmoochEmulator;
    const gql = gqlAt(url);
    const contacts = await gql<{ contacts: Connection }>('{ contacts(provider: SMOOCH, first: 100) { edges { node { providerId } } pageInfo { hasNextPage } } }', {}, null);
    expect(contacts.errors).toBeUndefined();
    expect(new Set(contacts.data?.contacts.edges.map((e) => e.node.providerId))).toEqual(new Set(smooch.data.users.map((u) => u.id)));
    const conversations = await gql<{ conversations: Connection }>('{ conversations(provider: SMOOCH, first: 100) { edges { node { providerId } } } }', {}, null);
    expect(conversations.data?.conversations.edges).toHaveLength(smooch.data.conversations.length);
    // Newest activity first: the conversation last updated in the seed leads.
    const newest = [...smooch.data.conversations].sort((a, b) => b.lastUpdatedAt.localeCompare(a.lastUpdatedAt))[0];
    expect(conversations.data?.conversations.edges[0]?.node.providerId).toBe(newest?.id);
  });
});
