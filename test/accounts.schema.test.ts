// The schema across accounts, through the real gateway: two Podium
// organizations and two HighLevel locations connected by OAuth as a user would,
// then every read choosing its account by `account:` or by the id it was given.
// The emulators count API calls per OAuth subject, so each assertion also says
// whose token answered.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeId } from '../src/ids.js';
import { leadConnectorPayloadScope } from '../src/providers/leadconnector/webhooks.js';
import { podiumEventKey, podiumPayloadScope } from '../src/providers/podium/webhooks.js';
import { smoochPayloadScope } from '../src/providers/smooch/webhooks.js';
import { connectAll, deliverPodium, newStore, podiumWebhook, sendPodium, useAccountsGateway, useEmulators, type AccountsGateway, type Emulators } from './helpers/accounts.js';

type Edges<T> = { edges: Array<{ node: T }> };
type ContactRow = { id: string; providerId: string; name: string | null };

const CONTACTS = 'query($p: Provider!, $a: ID) { contacts(provider: $p, account: $a, first: 5) { edges { node { id providerId name } } } }';

describe('the schema across accounts', () => {
  it('lists each account its own data with its own token, and ids issued for an account resolve against that account', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const a = await connectAll(t, emus);
    const podiumCalls = () => [emus.podium.oauth.apiCalls(a.orgA.uid), emus.podium.oauth.apiCalls(a.orgB.uid)];

    // Organization A's contacts are the seeded fixtures; B's are none of them, and only B's token was used for B.
    let before = podiumCalls();
    const ofA = await t.gql<{ contacts: Edges<ContactRow> }>(CONTACTS, { p: 'PODIUM', a: a.podiumA });
    expect(ofA.errors).toBeUndefined();
    const idsA = ofA.data!.contacts.edges.map((e) => e.node.providerId);
    expect(idsA.length).toBeGreaterThan(0);
    expect(idsA.every((id) => emus.podium.fixtures.contactIds.includes(id))).toBe(true);
    expect(podiumCalls()[0]).toBeGreaterThan(before[0]!);
    expect(podiumCalls()[1]).toBe(before[1]);

    before = podiumCalls();
    const ofB = await t.gql<{ contacts: Edges<ContactRow> }>(CONTACTS, { p: 'PODIUM', a: a.podiumB });
    expect(ofB.errors).toBeUndefined();
    const contactsB = ofB.data!.contacts.edges.map((e) => e.node);
    expect(contactsB.length).toBeGreaterThan(0);
    expect(contactsB.some((c) => emus.podium.fixtures.contactIds.includes(c.providerId))).toBe(false);
    expect(podiumCalls()).toEqual([before[0], before[1]! + 1]);

    // HighLevel: each location's token lists its own location's contacts.
    const lcCalls = () => [emus.leadconnector.oauth.apiCalls(a.locationA), emus.leadconnector.oauth.apiCalls(a.locationB)];
    const lcBefore = lcCalls();
    const lcB = await t.gql<{ contacts: Edges<ContactRow> }>(CONTACTS, { p: 'LEADCONNECTOR', a: a.lcB });
    expect(lcB.errors).toBeUndefined();
    expect(lcB.data!.contacts.edges.length).toBeGreaterThan(0);
    expect(lcCalls()).toEqual([lcBefore[0], lcBefore[1]! + 1]);

    // An id issued for B goes to B by itself: contact(id), node(id), and what hangs off B's conversations.
    const contactB = contactsB[0]!;
    before = podiumCalls();
    const lookedUp = await t.gql<{ contact: ContactRow | null; node: { providerId: string } | null }>(
      'query($id: ID!) { contact(id: $id) { id providerId name } node(id: $id) { ... on Contact { providerId } } }',
      { id: contactB.id },
    );
    expect(lookedUp.errors).toBeUndefined();
    expect(lookedUp.data?.contact).toEqual(contactB);
    expect(lookedUp.data?.node?.providerId).toBe(contactB.providerId);
    expect(podiumCalls()[0]).toBe(before[0]);
    expect(podiumCalls()[1]).toBeGreaterThan(before[1]!);

    const conversationsB = await t.gql<{ conversations: Edges<{ id: string; providerId: string; contact: { id: string } | null; messages: Edges<{ id: string }> }> }>(
      'query($a: ID) { conversations(provider: PODIUM, account: $a, first: 2) { edges { node { id providerId contact { id } messages(first: 1) { edges { node { id } } } } } } }',
      { a: a.podiumB },
    );
    expect(conversationsB.errors).toBeUndefined();
    const conversationB = conversationsB.data!.conversations.edges[0]!.node;
    expect(emus.podium.fixtures.conversationIds).not.toContain(conversationB.providerId);
    expect(conversationB.messages.edges.length).toBe(1);
    const again = await t.gql<{
      conversation: { providerId: string; contact: { id: string } | null; account: { id: string } } | null;
      message: { id: string; account: { id: string; name: string } } | null;
    }>(
      'query($c: ID!, $m: ID!) { conversation(id: $c) { providerId contact { id } account { id } } message(id: $m) { id account { id name } } }',
      { c: conversationB.id, m: conversationB.messages.edges[0]!.node.id },
    );
    expect(again.errors).toBeUndefined();
    expect(again.data?.conversation).toEqual({ providerId: conversationB.providerId, contact: conversationB.contact, account: { id: a.podiumB } });
    expect(again.data?.message).toEqual({ id: conversationB.messages.edges[0]!.node.id, account: { id: a.podiumB, name: a.orgB.name } });
    const lcUsers = await t.gql<{ users: Edges<{ account: { id: string } }> }>('query($a: ID) { users(provider: LEADCONNECTOR, account: $a, first: 2) { edges { node { account { id } } } } }', { a: a.lcA });
    expect(lcUsers.errors).toBeUndefined();
    expect(new Set(lcUsers.data?.users.edges.map((e) => e.node.account.id))).toEqual(new Set([a.lcA]));

    // An id of B as a filter of a list of A is refused rather than answered from the wrong account.
    const mixed = await t.gql('query($a: ID, $c: ID) { conversations(provider: PODIUM, account: $a, filter: { contactId: $c }) { edges { node { id } } } }', {
      a: a.podiumA,
      c: contactB.id,
    });
    expect(mixed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('asks for `account` when several stored accounts could be meant, and takes ids without an account as the default account', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const a = await connectAll(t, emus);

    for (const query of [
      '{ contacts(provider: PODIUM) { edges { node { id } } } }',
      '{ conversations(provider: LEADCONNECTOR) { edges { node { id } } } }',
      '{ users(provider: PODIUM) { edges { node { id } } } }',
      '{ webhooks(provider: PODIUM) { id } }',
      '{ locations(provider: LEADCONNECTOR) { id } }',
    ]) {
      const res = await t.gql(query);
      expect(res.errors?.[0]?.extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'account' });
      expect(res.errors?.[0]?.message).toContain('"account"');
    }
    const wrongProvider = await t.gql(CONTACTS, { p: 'PODIUM', a: a.lcA });
    expect(wrongProvider.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await t.gql(CONTACTS, { p: 'PODIUM', a: encodeId('PODIUM', 'Account', 'f'.repeat(24)) });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    // An id without an account (as issued before accounts) is ambiguous now, and names the way out.
    const [fixtureContact] = emus.podium.fixtures.contactIds;
    const oldId = encodeId('PODIUM', 'Contact', fixtureContact!);
    const ambiguous = await t.gql('query($id: ID!) { contact(id: $id) { providerId } }', { id: oldId });
    expect(ambiguous.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // With organization B disconnected, A is the default account: the old id and the lists without `account` work again.
    const removed = await t.gql<{ disconnectAccount: boolean }>('mutation($id: ID!) { disconnectAccount(id: $id) }', { id: a.podiumB });
    expect(removed.data?.disconnectAccount).toBe(true);
    const before = emus.podium.oauth.apiCalls(a.orgA.uid);
    const resolved = await t.gql<{ contact: { id: string; providerId: string } | null; contacts: Edges<{ id: string }> }>(
      'query($id: ID!) { contact(id: $id) { id providerId } contacts(provider: PODIUM, first: 1) { edges { node { id } } } }',
      { id: oldId },
    );
    expect(resolved.errors).toBeUndefined();
    expect(resolved.data?.contact?.providerId).toBe(fixtureContact);
    // What it answers with is issued for the account that answered.
    expect(resolved.data?.contact?.id).toBe(encodeId('PODIUM', 'Contact', fixtureContact!, Buffer.from(a.podiumA, 'base64url').toString().split(':')[2]));
    expect(emus.podium.oauth.apiCalls(a.orgA.uid)).toBeGreaterThan(before);
  });

  it("lists each account's locations", async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const a = await connectAll(t, emus);
    type LocationRow = { id: string; name: string | null; provider: string; account: { id: string; name: string } };
    const LOCATIONS = 'query($p: Provider!, $a: ID) { locations(provider: $p, account: $a) { id name provider account { id name } } }';

    const podiumA = await t.gql<{ locations: LocationRow[] }>(LOCATIONS, { p: 'PODIUM', a: a.podiumA });
    const podiumB = await t.gql<{ locations: LocationRow[] }>(LOCATIONS, { p: 'PODIUM', a: a.podiumB });
    expect(podiumA.errors).toBeUndefined();
    expect(podiumA.data?.locations.map((l) => l.id)).toEqual(a.orgA.locationUids);
    expect(podiumB.data?.locations.map((l) => l.id)).toEqual(a.orgB.locationUids);
    expect(podiumB.data?.locations.every((l) => l.name?.startsWith(a.orgB.name) && l.account.id === a.podiumB && l.account.name === a.orgB.name)).toBe(true);

    const lcB = await t.gql<{ locations: LocationRow[] }>(LOCATIONS, { p: 'LEADCONNECTOR', a: a.lcB });
    expect(lcB.errors).toBeUndefined();
    expect(lcB.data?.locations).toEqual([{ id: a.locationB, name: 'Sandbox Smiles Uptown', provider: 'LEADCONNECTOR', account: { id: a.lcB, name: 'Sandbox Smiles Uptown' } }]);
    expect(emus.leadconnector.oauth.apiCalls(a.locationB)).toBeGreaterThan(0);

    // Smooch has no locations: a connected app lists none.
    const smooch = emus.smooch.providerConfig().api;
    const connected = await t.gql<{ connectSmoochAccount: { id: string } }>('mutation($i: ConnectSmoochAccountInput!) { connectSmoochAccount(input: $i) { id } }', {
      i: { appId: smooch.appId, keyId: smooch.keyId, secret: smooch.secret, apiUrl: smooch.apiUrl },
    });
    const smoochLocations = await t.gql<{ locations: LocationRow[] }>(LOCATIONS, { p: 'SMOOCH', a: connected.data?.connectSmoochAccount.id });
    expect(smoochLocations.errors).toBeUndefined();
    expect(smoochLocations.data?.locations).toEqual([]);
  });

  it('keeps cached entries of two accounts apart', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore(), { GATEWAY_CACHE: 'on' });
    const a = await connectAll(t, emus);

    const first = await t.gql<{ contacts: Edges<ContactRow> }>(CONTACTS, { p: 'PODIUM', a: a.podiumA });
    const callsB = emus.podium.oauth.apiCalls(a.orgB.uid);
    const second = await t.gql<{ contacts: Edges<ContactRow> }>(CONTACTS, { p: 'PODIUM', a: a.podiumB });
    expect(second.errors).toBeUndefined();
    // The same request of another account is its own entry: asked upstream with B's token, answered with B's contacts.
    expect(emus.podium.oauth.apiCalls(a.orgB.uid)).toBe(callsB + 1);
    expect(second.data?.contacts.edges.map((e) => e.node.providerId)).not.toEqual(first.data?.contacts.edges.map((e) => e.node.providerId));
    // And A's entry still answers A without an upstream call.
    const callsA = emus.podium.oauth.apiCalls(a.orgA.uid);
    const repeat = await t.gql<{ contacts: Edges<ContactRow> }>(CONTACTS, { p: 'PODIUM', a: a.podiumA });
    expect(repeat.data).toEqual(first.data);
    expect(emus.podium.oauth.apiCalls(a.orgA.uid)).toBe(callsA);
  });
});

describe('events and the cache across accounts', () => {
  /** Both organizations with a webhook (and secret) each, and a conversation of each. */
  async function withHooks(t: AccountsGateway, emus: Emulators) {
    const a = await connectAll(t, emus);
    await podiumWebhook(t, a.podiumA, a.orgA.uid, 'secret-of-a');
    await podiumWebhook(t, a.podiumB, a.orgB.uid, 'secret-of-b');
    const conversation = async (account: string) =>
      (await t.gql<{ conversations: Edges<{ providerId: string }> }>('query($a: ID) { conversations(provider: PODIUM, account: $a, first: 1) { edges { node { providerId } } } }', { a: account })).data!
        .conversations.edges[0]!.node.providerId;
    return { ...a, conversationA: await conversation(a.podiumA), conversationB: await conversation(a.podiumB) };
  }

  it("invalidates only the cached entries of the account a delivery was routed to", async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore(), { GATEWAY_CACHE: 'on' });
    const a = await withHooks(t, emus);
    const LIST = 'query($a: ID) { conversations(provider: PODIUM, account: $a, first: 5) { edges { node { id } } } }';
    const calls = () => [emus.podium.oauth.apiCalls(a.orgA.uid), emus.podium.oauth.apiCalls(a.orgB.uid)];
    for (const account of [a.podiumA, a.podiumB]) expect((await t.gql(LIST, { a: account })).errors).toBeUndefined();
    let before = calls();
    for (const account of [a.podiumA, a.podiumB]) await t.gql(LIST, { a: account });
    expect(calls()).toEqual(before);

    // A message in B's conversation: B's list is asked again, A's still answers from the cache.
    await deliverPodium(t, a.orgB.locationUids[0]!, a.conversationB, 'secret-of-b');
    before = calls();
    for (const account of [a.podiumA, a.podiumB]) await t.gql(LIST, { a: account });
    expect(calls()).toEqual([before[0], before[1]! + 1]);
  });

  it('routes a replayed event that was stored without an account by the ids its payload names', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const a = await withHooks(t, emus);
    // Stored as an event from before accounts would be: unprocessable, with no account, naming B's location.
    const body = {
      data: { uid: randomUUID(), body: 'Stored before accounts', createdAt: new Date().toISOString(), conversation: { uid: a.conversationB, channel: { type: 'phone' } }, location: { uid: a.orgB.locationUids[0] } },
      metadata: { eventType: 'message.received', eventUid: randomUUID() },
    };
    const rawBody = JSON.stringify(body);
    const { event } = await t.gateway.store.insertEvent({
      provider: 'PODIUM',
      // The key the ingest gives it, so the replay turns this very event into a processed one.
      eventKey: podiumEventKey('message.received', body.metadata, body.data, Buffer.from(rawBody)),
      providerEventType: 'message.received',
      kind: null,
      status: 'UNPROCESSABLE',
      reason: 'a normalizer bug, since fixed',
      message: null,
      rawBody,
      receivedAt: new Date().toISOString(),
    });
    const replayed = await t.gql<{ replayEvent: { outcome: string; event: { account: { id: string }; message: { account: { id: string }; conversation: { providerId: string } | null } } } }>(
      'mutation($id: ID!) { replayEvent(id: $id) { outcome event { account { id } message { account { id } conversation { providerId } } } } }',
      { id: encodeId('PODIUM', 'StoredEvent', event.id) },
    );
    expect(replayed.errors).toBeUndefined();
    expect(replayed.data?.replayEvent).toEqual({ outcome: 'PROCESSED', event: { account: { id: a.podiumB }, message: { account: { id: a.podiumB }, conversation: { providerId: a.conversationB } } } });
  });
});

describe('webhooks across accounts', () => {
  it("routes a Podium delivery to the account of its location, verifies it with that account's secret only, and falls back for unknown locations", async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const a = await connectAll(t, emus);
    const CREATE = 'mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id account { id } } }';
    const hook = (account: string, organizationId: string, secret: string) => ({
      i: { provider: 'PODIUM', account, url: `${t.url}/webhooks/podium`, eventTypes: ['message.received'], organizationId, secret },
    });
    const hookA = await t.gql<{ createWebhook: { id: string; account: { id: string } } }>(CREATE, hook(a.podiumA, a.orgA.uid, 'secret-of-a'));
    const hookB = await t.gql<{ createWebhook: { id: string; account: { id: string } } }>(CREATE, hook(a.podiumB, a.orgB.uid, 'secret-of-b'));
    expect(hookA.errors).toBeUndefined();
    expect(hookB.data?.createWebhook.account.id).toBe(a.podiumB);

    const conversationsB = await t.gql<{ conversations: Edges<{ providerId: string }> }>('query($a: ID) { conversations(provider: PODIUM, account: $a, first: 1) { edges { node { providerId } } } }', { a: a.podiumB });
    const conversationUid = conversationsB.data!.conversations.edges[0]!.node.providerId;
    const deliver = (locationUid: string, secret: string) => sendPodium(t, locationUid, conversationUid, secret);

    // B's location with B's secret: accepted, and the event's message names B (its ids resolve against B).
    const ofB = await deliver(a.orgB.locationUids[0]!, 'secret-of-b');
    expect(ofB.status).toBe(200);
    const event = await t.gql<{ node: { message: { id: string; account: { id: string }; conversation: { providerId: string } | null } } }>(
      'query($id: ID!) { node(id: $id) { ... on StoredEvent { message { id account { id } conversation { providerId } } } } }',
      { id: encodeId('PODIUM', 'StoredEvent', ofB.body.eventIds![0]!) },
    );
    expect(event.errors).toBeUndefined();
    expect(event.data?.node.message.account.id).toBe(a.podiumB);
    expect(event.data?.node.message.conversation?.providerId).toBe(conversationUid);

    // B's location signed with A's secret: refused, though that secret is a stored one of the same provider.
    expect((await deliver(a.orgB.locationUids[0]!, 'secret-of-a')).status).toBe(401);
    // A location no account reaches: verified as before accounts, against every stored secret.
    expect((await deliver('unknown-location-uid', 'secret-of-a')).status).toBe(200);
  });
});

describe('webhooks across accounts (HighLevel)', () => {
  it('stamps a HighLevel delivery with the account of its locationId, so its message resolves with that location token', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const a = await connectAll(t, emus);
    const listed = await t.gql<{ conversations: Edges<{ providerId: string }> }>('query($a: ID) { conversations(provider: LEADCONNECTOR, account: $a, first: 1) { edges { node { providerId } } } }', { a: a.lcB });
    const emitted = await emus.leadconnector.emitMessageEvent('RECEIVED', { conversationId: listed.data!.conversations.edges[0]!.node.providerId });
    const res = await fetch(`${t.url}/webhooks/leadconnector`, { method: 'POST', headers: { 'content-type': 'application/json', ...emitted.headers }, body: emitted.rawBody });
    expect(res.status).toBe(200);
    const { eventIds } = (await res.json()) as { eventIds: string[] };
    const before = [emus.leadconnector.oauth.apiCalls(a.locationA), emus.leadconnector.oauth.apiCalls(a.locationB)];
    const event = await t.gql<{ node: { message: { account: { id: string }; conversation: { providerId: string } | null } } }>(
      'query($id: ID!) { node(id: $id) { ... on StoredEvent { message { account { id } conversation { providerId } } } } }',
      { id: encodeId('LEADCONNECTOR', 'StoredEvent', eventIds[0]!) },
    );
    expect(event.errors).toBeUndefined();
    expect(event.data?.node.message).toEqual({ account: { id: a.lcB }, conversation: { providerId: listed.data!.conversations.edges[0]!.node.providerId } });
    expect([emus.leadconnector.oauth.apiCalls(a.locationA), emus.leadconnector.oauth.apiCalls(a.locationB)]).toEqual([before[0], before[1]! + 1]);
  });

  it('reads the ids a delivery names itself by, for each provider', () => {
    expect(podiumPayloadScope({ data: { location: { uid: 'loc-1' }, organizationUid: 'org-1' }, metadata: {} })).toEqual({ locationIds: ['loc-1'], organizationIds: ['org-1'], appIds: [] });
    expect(podiumPayloadScope('not an object')).toEqual({ locationIds: [], organizationIds: [], appIds: [] });
    expect(leadConnectorPayloadScope({ type: 'InboundMessage', locationId: 'L1', companyId: 'C1' })).toEqual({ locationIds: ['L1'], organizationIds: ['C1'], appIds: [] });
    expect(leadConnectorPayloadScope({ locationId: '' })).toEqual({ locationIds: [], organizationIds: [], appIds: [] });
    expect(smoochPayloadScope({ app: { id: 'app-v2' }, events: [] })).toEqual({ locationIds: [], organizationIds: [], appIds: ['app-v2'] });
    expect(smoochPayloadScope({ app: { _id: 'app-v11' }, trigger: 'message:appUser' })).toEqual({ locationIds: [], organizationIds: [], appIds: ['app-v11'] });
  });
});
