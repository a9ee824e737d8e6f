// Tenants: API keys scoped to accounts, through the real gateway on FerretDB.
// Tenant A's keys reach Podium organization A and HighLevel location A; tenant
// B owns organization B, location B and the Smooch app. Every query,
// subscription and admin field is run with A's keys against B's data and
// events, and the emulators' per-token call counts prove B's credentials were
// never even used for A.
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { encodeEventCursor } from '../src/events/cursor.js';
import { encodeId } from '../src/ids.js';
import { connectAll, deliverPodium as deliver, podiumWebhook, newStore, startAccountsGateway, useAccountsGateway, useEmulators, type AccountsGateway, type Emulators, type StoreRef } from './helpers/accounts.js';
import { createMongoAccountStore } from '../src/accounts/store/mongo.js';
import { ADMIN_KEY, until, useTestGateway, VIEWER_KEY } from './helpers/gateway.js';

type Edges<T> = { edges: Array<{ node: T }> };
type Created = { createApiKey: { id: string; key: string; role: string; accounts: Array<{ id: string }> | null } };

const CREATE_KEY = 'mutation($r: Role!, $a: [ID!], $n: String) { createApiKey(role: $r, accounts: $a, name: $n) { id key role accounts { id } } }';
const CREATE_HOOK = 'mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }';

async function createKey(t: AccountsGateway, role: 'VIEWER' | 'ADMIN', accounts: string[] | null, by?: string): Promise<{ id: string; key: string }> {
  const res = await t.gql<Created>(CREATE_KEY, { r: role, a: accounts, n: `${role.toLowerCase()} of a tenant` }, by);
  if (!res.data) throw new Error(`createApiKey failed: ${JSON.stringify(res.errors)}`);
  return res.data.createApiKey;
}

/** Two tenants on one gateway, each with its own webhook (and secret) per Podium organization. */
async function twoTenants(emus: Emulators, t: AccountsGateway) {
  const a = await connectAll(t, emus);
  const smooch = emus.smooch.providerConfig().api;
  const connected = await t.gql<{ connectSmoochAccount: { id: string } }>('mutation($i: ConnectSmoochAccountInput!) { connectSmoochAccount(input: $i) { id } }', {
    i: { appId: smooch.appId, keyId: smooch.keyId, secret: smooch.secret, apiUrl: smooch.apiUrl },
  });
  const smoochB = connected.data!.connectSmoochAccount.id;
  const hookA = await podiumWebhook(t, a.podiumA, a.orgA.uid, 'secret-of-a');
  const hookB = await podiumWebhook(t, a.podiumB, a.orgB.uid, 'secret-of-b');
  const viewerA = await createKey(t, 'VIEWER', [a.podiumA, a.lcA]);
  const adminA = await createKey(t, 'ADMIN', [a.podiumA, a.lcA]);
  const viewerB = await createKey(t, 'VIEWER', [a.podiumB, a.lcB, smoochB]);
  const conversationOf = async (account: string): Promise<string> => {
    const res = await t.gql<{ conversations: Edges<{ providerId: string }> }>('query($a: ID) { conversations(provider: PODIUM, account: $a, first: 1) { edges { node { providerId } } } }', { a: account });
    return res.data!.conversations.edges[0]!.node.providerId;
  };
  return { ...a, smoochB, hookA, hookB, viewerA, adminA, viewerB, conversationA: await conversationOf(a.podiumA), conversationB: await conversationOf(a.podiumB) };
}

function wsClient(t: AccountsGateway, key: string): Client {
  const client = createClient({ url: `${t.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0, lazy: true });
  onTestFinished(() => client.dispose());
  return client;
}

/** Records the stored-event ids a subscription delivers, with each event's account. */
function received(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const events: Array<{ eventId: string; account: string; cursor: string }> = [];
  let failure: unknown = null;
  const stop = client.subscribe<{ messageReceived: { id: string; cursor: string; account: { id: string }; message: { account: { id: string } } } }>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) failure = value.errors;
        const e = value.data?.messageReceived;
        if (e) {
          expect(e.message.account.id).toBe(e.account.id);
          events.push({ eventId: Buffer.from(e.id, 'base64url').toString('utf8').split(':').pop()!, account: e.account.id, cursor: e.cursor });
        }
      },
      error: (err) => (failure = err),
      complete: () => undefined,
    },
  );
  onTestFinished(stop);
  return {
    events,
    get failure(): unknown {
      return failure;
    },
  };
}

const SUBSCRIPTION = 'subscription($f: MessageEventFilter, $after: String) { messageReceived(filter: $f, after: $after) { id cursor account { id } message { account { id } } } }';

describe('tenants: keys scoped to accounts', () => {
  it("never shows tenant A a record, list, location, webhook or account of tenant B, and never spends B's tokens for A", async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const x = await twoTenants(emus, t);
    const asA = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) => t.gql<T>(query, variables, x.viewerA.key);
    const adminA = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) => t.gql<T>(query, variables, x.adminA.key);
    const callsOfB = () => [emus.podium.oauth.apiCalls(x.orgB.uid), emus.leadconnector.oauth.apiCalls(x.locationB)];

    // B's ids, read with the unscoped admin key.
    const ofB = await t.gql<{ contacts: Edges<{ id: string }>; conversations: Edges<{ id: string; messages: Edges<{ id: string }> }>; users: Edges<{ id: string }> }>(
      'query($a: ID) { contacts(provider: PODIUM, account: $a, first: 1) { edges { node { id } } } conversations(provider: PODIUM, account: $a, first: 1) { edges { node { id messages(first: 1) { edges { node { id } } } } } } users(provider: PODIUM, account: $a, first: 1) { edges { node { id } } } }',
      { a: x.podiumB },
    );
    expect(ofB.errors).toBeUndefined();
    const contactB = ofB.data!.contacts.edges[0]!.node.id;
    const conversationB = ofB.data!.conversations.edges[0]!.node.id;
    const messageB = ofB.data!.conversations.edges[0]!.node.messages.edges[0]!.node.id;
    const userB = ofB.data!.users.edges[0]!.node.id;
    const lcB = await t.gql<{ contacts: Edges<{ id: string }> }>('query($a: ID) { contacts(provider: LEADCONNECTOR, account: $a, first: 1) { edges { node { id } } } }', { a: x.lcB });
    const lcContactB = lcB.data!.contacts.edges[0]!.node.id;
    const before = callsOfB();

    // Lists without `account`: A has one account per provider, so that one answers, with A's data only.
    const lists = await asA<{ contacts: Edges<{ account: { id: string } }>; conversations: Edges<{ account: { id: string } }>; locations: Array<{ account: { id: string } }> }>(
      '{ contacts(provider: PODIUM, first: 5) { edges { node { account { id } } } } conversations(provider: LEADCONNECTOR, first: 5) { edges { node { account { id } } } } locations(provider: PODIUM) { account { id } } }',
    );
    expect(lists.errors).toBeUndefined();
    expect(new Set(lists.data!.contacts.edges.map((e) => e.node.account.id))).toEqual(new Set([x.podiumA]));
    expect(new Set(lists.data!.conversations.edges.map((e) => e.node.account.id))).toEqual(new Set([x.lcA]));
    expect(new Set(lists.data!.locations.map((l) => l.account.id))).toEqual(new Set([x.podiumA]));

    // B's account named outright: NOT_FOUND, as an account that does not exist.
    for (const query of [
      'query($a: ID) { contacts(provider: PODIUM, account: $a) { edges { node { id } } } }',
      'query($a: ID) { conversations(provider: PODIUM, account: $a) { edges { node { id } } } }',
      'query($a: ID) { users(provider: PODIUM, account: $a) { edges { node { id } } } }',
      'query($a: ID) { locations(provider: PODIUM, account: $a) { id } }',
    ]) {
      const res = await asA(query, { a: x.podiumB });
      expect(res.data, query).toBeNull();
      expect(res.errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
    }
    // A provider A has no account of: a clear FORBIDDEN.
    expect((await asA('{ contacts(provider: SMOOCH) { edges { node { id } } } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // B's ids: nothing comes back, by field, by node, or through federation's entity lookup.
    for (const [field, id] of [
      ['contact', contactB],
      ['conversation', conversationB],
      ['message', messageB],
      ['user', userB],
      ['contact', lcContactB],
    ] as const) {
      const res = await asA<Record<string, unknown>>(`query($id: ID!) { ${field}(id: $id) { id } node(id: $id) { id } }`, { id });
      expect(res.data?.[field] ?? null, field).toBeNull();
      expect(res.data?.node ?? null, field).toBeNull();
    }
    const entities = await asA<{ _entities: unknown[] }>('query($r: [_Any!]!) { _entities(representations: $r) { ... on Contact { id name } } }', { r: [{ __typename: 'Contact', id: contactB }] });
    expect(entities.data?._entities ?? [null]).toEqual([null]);
    // None of that used B's tokens.
    expect(callsOfB()).toEqual(before);

    // Admin fields with A's admin key: only A's accounts, webhooks and keys.
    const accounts = await adminA<{ accounts: Array<{ id: string }> }>('{ accounts { id } }');
    expect(accounts.data?.accounts.map((a) => a.id).sort()).toEqual([x.podiumA, x.lcA].sort());
    expect((await adminA<{ account: unknown }>('query($id: ID!) { account(id: $id) { id } }', { id: x.podiumB })).data?.account).toBeNull();
    expect((await adminA<{ node: unknown }>('query($id: ID!) { node(id: $id) { id } }', { id: x.smoochB })).data?.node).toBeNull();
    const hooks = await adminA<{ webhooks: Array<{ id: string }> }>('{ webhooks(provider: PODIUM) { id } }');
    expect(hooks.data?.webhooks.map((w) => w.id)).toEqual([x.hookA]);
    expect((await adminA<{ webhook: unknown }>('query($id: ID!) { webhook(id: $id) { id } }', { id: x.hookB })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await adminA('mutation($id: ID!) { updateWebhook(id: $id, input: { disabled: true }) { id } }', { id: x.hookB })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await adminA('mutation($id: ID!) { deleteWebhook(id: $id) { id } }', { id: x.hookB })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const intoB = await adminA(CREATE_HOOK, { i: { provider: 'PODIUM', account: x.podiumB, url: `${t.url}/webhooks/podium`, eventTypes: ['message.received'], organizationId: x.orgB.uid } });
    expect(intoB.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await adminA<{ disconnectAccount: boolean }>('mutation($id: ID!) { disconnectAccount(id: $id) }', { id: x.podiumB })).data?.disconnectAccount).toBe(false);
    expect((await adminA('{ oauthStartUrl(provider: PODIUM) }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // B's webhook and account are untouched.
    const still = await t.gql<{ webhooks: Array<{ id: string; disabled: boolean }>; accounts: Array<{ id: string }> }>('query($a: ID) { webhooks(provider: PODIUM, account: $a) { id disabled } accounts { id } }', { a: x.podiumB });
    expect(still.data?.webhooks).toEqual([{ id: x.hookB, disabled: false }]);
    expect(still.data?.accounts.map((a) => a.id)).toContain(x.podiumB);
    // Listing A's webhooks kept B's mirror (and so B's secret): B's deliveries still verify.
    await deliver(t, x.orgB.locationUids[0]!, x.conversationB, 'secret-of-b');

    // Keys: a scoped admin hands out only what it reaches, and sees and revokes only those keys.
    const wider = await adminA(CREATE_KEY, { r: 'VIEWER', a: [x.podiumB] });
    expect(wider.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'accounts' });
    const own = await createKey(t, 'VIEWER', null, x.adminA.key);
    const ownAccounts = await t.gql<{ apiKeys: Array<{ id: string; accounts: Array<{ id: string }> | null }> }>('{ apiKeys { id accounts { id } } }');
    expect(ownAccounts.data?.apiKeys.find((k) => k.id === own.id)?.accounts?.map((a) => a.id).sort()).toEqual([x.podiumA, x.lcA].sort());
    const seenByA = await adminA<{ apiKeys: Array<{ id: string }> }>('{ apiKeys { id } }');
    expect(seenByA.data?.apiKeys.map((k) => k.id).sort()).toEqual([x.viewerA.id, x.adminA.id, own.id].sort());
    expect((await adminA<{ revokeApiKey: boolean }>('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: x.viewerB.id })).data?.revokeApiKey).toBe(false);
    expect((await t.gql('{ contacts(provider: PODIUM, first: 1) { edges { node { id } } } }', {}, x.viewerB.key)).errors).toBeUndefined();
    // A viewer key cannot create keys at all.
    expect((await asA(CREATE_KEY, { r: 'ADMIN' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("delivers tenant A none of B's events, live or resumed, with or without filters, and shows A none of B's stored deliveries", async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const x = await twoTenants(emus, t);
    const locationA = x.orgA.locationUids[0]!;
    const locationB = x.orgB.locationUids[0]!;
    // An event of A before anyone subscribes: the cursor to resume after.
    const [first] = await deliver(t, locationA, x.conversationA, 'secret-of-a');

    const a = wsClient(t, x.viewerA.key);
    const subscriptions = {
      plain: received(a, SUBSCRIPTION),
      podium: received(a, SUBSCRIPTION, { f: { provider: 'PODIUM' } }),
      locationOfB: received(a, SUBSCRIPTION, { f: { locationId: locationB } }),
      conversationOfB: received(a, SUBSCRIPTION, { f: { conversationId: encodeId('PODIUM', 'Conversation', x.conversationB, Buffer.from(x.podiumB, 'base64url').toString().split(':')[2]) } }),
    };
    const accountOfB = received(a, SUBSCRIPTION, { f: { account: x.podiumB } });
    const b = received(wsClient(t, x.viewerB.key), SUBSCRIPTION);
    const everyone = received(wsClient(t, ADMIN_KEY), SUBSCRIPTION);
    // An unscoped key narrowing to one account with `filter.account`.
    const onlyB = received(wsClient(t, ADMIN_KEY), SUBSCRIPTION, { f: { account: x.podiumB } });
    await new Promise((r) => setTimeout(r, 300));

    const [ofB] = await deliver(t, locationB, x.conversationB, 'secret-of-b');
    const [ofA] = await deliver(t, locationA, x.conversationA, 'secret-of-a');
    // An unprocessable delivery routed to B: stored, never shown to A.
    const [brokenB] = await deliver(t, locationB, x.conversationB, 'secret-of-b', { data: { location: { uid: locationB } }, metadata: { eventType: 'message.received', eventUid: randomUUID() } });
    await until(() => everyone.events.length >= 2 && b.events.length >= 1 && subscriptions.plain.events.length >= 1, 'the events to arrive', 10_000);
    // One more event of A after B's, so "nothing of B" is not just "nothing yet".
    const [lastA] = await deliver(t, locationA, x.conversationA, 'secret-of-a');
    await until(
      () => subscriptions.plain.events.length >= 2 && subscriptions.podium.events.length >= 2 && everyone.events.length >= 3 && onlyB.events.length >= 1,
      "A's second event, on every subscription that should see it",
      10_000,
    );

    expect(subscriptions.plain.events.map((e) => e.eventId)).toEqual([ofA, lastA]);
    expect(subscriptions.podium.events.map((e) => e.eventId)).toEqual([ofA, lastA]);
    expect(subscriptions.plain.events.every((e) => e.account === x.podiumA)).toBe(true);
    expect(subscriptions.locationOfB.events).toEqual([]);
    expect(subscriptions.conversationOfB.events).toEqual([]);
    expect(accountOfB.events).toEqual([]);
    expect(onlyB.events.map((e) => e.eventId)).toEqual([ofB]);
    expect(b.events.map((e) => e.eventId)).toEqual([ofB]);
    expect(everyone.events.map((e) => e.eventId)).toEqual([ofB, ofA, lastA]);
    for (const s of [...Object.values(subscriptions), accountOfB, b, everyone, onlyB]) expect(s.failure).toBeNull();

    // Resuming from before B's event replays from the store: A's events only, with or without a filter.
    const resumed = received(wsClient(t, x.viewerA.key), SUBSCRIPTION, { after: encodeEventCursor(first!) });
    const fromStart = received(wsClient(t, x.viewerA.key), SUBSCRIPTION, { f: { provider: 'PODIUM' }, after: encodeEventCursor(first!) });
    // B's own cursor is, to A, a cursor of no stored event: it does not even tell A that B's event exists.
    const withCursorOfB = received(wsClient(t, x.viewerA.key), SUBSCRIPTION, { after: b.events[0]!.cursor });
    const withUnknownCursor = received(wsClient(t, x.viewerA.key), SUBSCRIPTION, { after: encodeEventCursor(`${ofB!.slice(0, 12)}${'0'.repeat(16)}`) });
    await until(() => resumed.events.length >= 2 && fromStart.events.length >= 2 && withCursorOfB.failure !== null && withUnknownCursor.failure !== null, 'the replays', 10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed.events.map((e) => e.eventId)).toEqual([ofA, lastA]);
    expect(fromStart.events.map((e) => e.eventId)).toEqual([ofA, lastA]);
    expect(withCursorOfB.events).toEqual([]);
    expect(withCursorOfB.failure).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT' } }]);
    expect((withCursorOfB.failure as Array<{ message: string }>)[0]!.message).toBe((withUnknownCursor.failure as Array<{ message: string }>)[0]!.message);

    // Stored deliveries, with A's admin key: A's only; B's event by id is unknown, and cannot be replayed.
    const adminA = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) => t.gql<T>(query, variables, x.adminA.key);
    const stored = await adminA<{ messageEvents: Edges<{ id: string; account: { id: string } }> }>('{ messageEvents(first: 100) { edges { node { id account { id } } } } }');
    expect(stored.errors).toBeUndefined();
    expect(stored.data!.messageEvents.edges.map((e) => e.node.id)).toEqual([lastA, ofA, first].map((id) => encodeId('PODIUM', 'StoredEvent', id!)));
    expect(new Set(stored.data!.messageEvents.edges.map((e) => e.node.account.id))).toEqual(new Set([x.podiumA]));
    const all = await t.gql<{ messageEvents: Edges<{ id: string; status: string; account: { id: string } }> }>('{ messageEvents(first: 100) { edges { node { id status account { id } } } } }');
    expect(all.data!.messageEvents.edges.find((e) => e.node.id === encodeId('PODIUM', 'StoredEvent', brokenB!))?.node).toMatchObject({ status: 'UNPROCESSABLE', account: { id: x.podiumB } });
    const narrowed = await adminA<{ messageEvents: Edges<{ id: string }> }>('query($a: ID) { messageEvents(filter: { account: $a }) { edges { node { id } } } }', { a: x.podiumB });
    expect(narrowed.data?.messageEvents.edges).toEqual([]);
    const ofBOnly = await t.gql<{ messageEvents: Edges<{ id: string }> }>('query($a: ID) { messageEvents(filter: { account: $a }) { edges { node { id } } } }', { a: x.podiumB });
    expect(ofBOnly.data?.messageEvents.edges.map((e) => e.node.id)).toEqual([brokenB, ofB].map((id) => encodeId('PODIUM', 'StoredEvent', id!)));
    const mismatch = await t.gql('query($a: ID) { messageEvents(filter: { provider: LEADCONNECTOR, account: $a }) { edges { node { id } } } }', { a: x.podiumB });
    expect(mismatch.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    for (const id of [ofB, brokenB]) {
      const global = encodeId('PODIUM', 'StoredEvent', id!);
      expect((await adminA<{ node: unknown }>('query($id: ID!) { node(id: $id) { id } }', { id: global })).data?.node).toBeNull();
      expect((await adminA('mutation($id: ID!) { replayEvent(id: $id) { outcome } }', { id: global })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    expect((await t.gql<{ replayEvent: { outcome: string } }>('mutation($id: ID!) { replayEvent(id: $id) { outcome } }', { id: encodeId('PODIUM', 'StoredEvent', ofB!) })).data?.replayEvent.outcome).toBe('ALREADY_PROCESSED');
  });

  it('shows a key once, stores only its hash, keeps it across a restart and a second instance, and revokes it everywhere', async () => {
    const emus = await useEmulators();
    const store: StoreRef = newStore();
    const t = await useAccountsGateway(emus, store);
    const x = await connectAll(t, emus);
    const viewer = await createKey(t, 'VIEWER', [x.podiumA]);
    expect(viewer.key).toMatch(/^mgw_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);

    // The store holds no trace of the secret; the listing never shows it.
    const mongo = new MongoClient(store.url);
    onTestFinished(() => mongo.close());
    const docs = await mongo.db(store.db).collection('api_keys').find({}).toArray();
    expect(docs).toHaveLength(1);
    expect(JSON.stringify(docs)).not.toContain(viewer.key.slice(29));
    const listed = await t.gql<{ apiKeys: Array<Record<string, unknown>> }>('{ apiKeys { id name role accounts { id } createdAt revokedAt lastUsedAt } }');
    expect(listed.data?.apiKeys).toEqual([{ id: viewer.id, name: 'viewer of a tenant', role: 'VIEWER', accounts: [{ id: x.podiumA }], createdAt: expect.any(String), revokedAt: null, lastUsedAt: null }]);

    // A wrong secret for a real id, and an unknown id, are both 401.
    const forged = `${viewer.key.slice(0, 29)}${'A'.repeat(43)}`;
    for (const key of [forged, `mgw_${'0'.repeat(24)}_${'A'.repeat(43)}`]) {
      expect((await t.gql('{ contacts(provider: PODIUM) { edges { node { id } } } }', {}, key)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }

    // A restarted gateway and a second instance on the same store take the key.
    await t.close();
    const restarted = await startAccountsGateway(emus, store);
    onTestFinished(() => restarted.close());
    const second = await startAccountsGateway(emus, store);
    onTestFinished(() => second.close());
    const query = '{ contacts(provider: PODIUM, first: 1) { edges { node { account { id } } } } }';
    for (const g of [restarted, second]) {
      const res = await g.gql<{ contacts: Edges<{ account: { id: string } }> }>(query, {}, viewer.key);
      expect(res.errors).toBeUndefined();
      expect(res.data?.contacts.edges[0]?.node.account.id).toBe(x.podiumA);
    }

    // Open sockets of the key on both instances; revoking it on one closes both and refuses it on both.
    const closed = (g: AccountsGateway) =>
      new Promise<{ code: number; reason: string }>((resolve, reject) => {
        const socket = new WebSocket(`${g.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${viewer.key}` } })));
        socket.on('message', (m) => {
          if (JSON.parse(String(m)).type === 'connection_ack') opened.push(g.url);
        });
        socket.once('close', (code, reason) => resolve({ code, reason: String(reason) }));
        socket.once('error', reject);
      });
    const opened: string[] = [];
    const here = closed(restarted);
    const there = closed(second);
    await until(() => opened.length === 2, 'both sockets acknowledged');
    const revoked = await restarted.gql<{ revokeApiKey: boolean }>('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: viewer.id });
    expect(revoked.data?.revokeApiKey).toBe(true);
    expect(await here).toMatchObject({ code: 4403 });
    expect((await restarted.gql(query, {}, viewer.key)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The other instance notices within its check interval (5 s).
    expect(await there).toMatchObject({ code: 4403 });
    expect((await second.gql(query, {}, viewer.key)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await restarted.gql<{ revokeApiKey: boolean }>('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: viewer.id })).data?.revokeApiKey).toBe(false);
    const after = await restarted.gql<{ apiKeys: Array<{ revokedAt: string | null; lastUsedAt: string | null }> }>('{ apiKeys { revokedAt lastUsedAt } }');
    expect(after.data?.apiKeys[0]).toEqual({ revokedAt: expect.any(String), lastUsedAt: expect.any(String) });
  }, 30_000);

  it('answers bad input to the key mutations with a clear code, and keeps them from viewers and callers without a key', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const x = await connectAll(t, emus);
    const viewer = await createKey(t, 'VIEWER', [x.podiumA]);
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      [CREATE_KEY, { r: 'VIEWER', a: [] }, { code: 'BAD_USER_INPUT', argumentName: 'accounts' }],
      [CREATE_KEY, { r: 'VIEWER', a: ['not-an-id'] }, { code: 'BAD_USER_INPUT' }],
      [CREATE_KEY, { r: 'VIEWER', a: [encodeId('PODIUM', 'Account', 'f'.repeat(24))] }, { code: 'BAD_USER_INPUT', argumentName: 'accounts' }],
      [CREATE_KEY, { r: 'VIEWER', a: [encodeId('PODIUM', 'Contact', 'f'.repeat(24))] }, { code: 'BAD_USER_INPUT' }],
      [CREATE_KEY, { r: 'VIEWER', n: 'x'.repeat(101) }, { code: 'BAD_USER_INPUT', argumentName: 'name' }],
      [CREATE_KEY, { r: 'OWNER' }, { code: 'BAD_USER_INPUT' }],
      ['mutation($id: ID!) { revokeApiKey(id: $id) }', { id: 'nope' }, { code: 'BAD_USER_INPUT', argumentName: 'id' }],
    ];
    for (const [query, variables, extensions] of cases) {
      const res = await t.gql(query, variables);
      expect(res.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject(extensions);
    }
    expect((await t.gql<{ revokeApiKey: boolean }>('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: 'f'.repeat(24) })).data?.revokeApiKey).toBe(false);
    for (const [key, code] of [
      [viewer.key, 'FORBIDDEN'],
      [null, 'UNAUTHENTICATED'],
    ] as const) {
      expect((await t.gql(CREATE_KEY, { r: 'ADMIN' }, key)).errors?.[0]?.extensions?.code).toBe(code);
      expect((await t.gql('{ apiKeys { id } }', {}, key)).errors?.[0]?.extensions?.code).toBe(code);
      expect((await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) }', { id: viewer.id }, key)).errors?.[0]?.extensions?.code).toBe(code);
    }
    // Nothing of that made or revoked a key.
    const keys = await t.gql<{ apiKeys: Array<{ id: string; revokedAt: string | null }> }>('{ apiKeys { id revokedAt } }');
    expect(keys.data?.apiKeys).toEqual([{ id: viewer.id, revokedAt: null }]);
  });

  it('answers a key it cannot check (key store down) with 503 STORE_UNAVAILABLE on HTTP and a retryable close on graphql-ws; environment keys keep working', async () => {
    const accountStore = createMongoAccountStore({ url: 'mongodb://127.0.0.1:1/', db: 'nowhere', serverSelectionTimeoutMs: 300 });
    const t = await useTestGateway({ accountStore });
    const key = `mgw_${'a'.repeat(24)}_${'A'.repeat(43)}`;
    const query = '{ contacts(provider: PODIUM, first: 1) { edges { node { id } } } }';
    const down = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query }) });
    expect(down.status).toBe(503);
    const body = (await down.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
    expect(body.errors?.[0]?.extensions?.code).toBe('STORE_UNAVAILABLE');
    expect(body.errors?.[0]?.message).toContain('key store unreachable');
    expect((await t.gql(query, {}, VIEWER_KEY)).errors).toBeUndefined();

    const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
    const [code, reason] = await new Promise<[number, string]>((resolve) => socket.once('close', (c, r) => resolve([c, String(r)])));
    expect(code).toBe(1013);
    expect(reason).toContain('retry later');
  });
});
