// Accounts connected as a user would connect them: two Podium organizations and
// two HighLevel locations through the OAuth flow (start link, consent, callback
// page), a Smooch app through the mutation; against FerretDB, with the
// emulators counting token calls.
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { AccountId } from '../src/accounts/types.js';
import { ACCOUNT_FIELDS, connectByOAuth, hop, newStore, useAccountsGateway, useEmulators } from './helpers/accounts.js';

type AccountRow = { id: string; provider: string; name: string; status: string; lastError: string | null; providerAccountId: string; locationIds: string[]; fromEnvironment: boolean };

const SMOOCH_MUTATION = `mutation($input: ConnectSmoochAccountInput!) { connectSmoochAccount(input: $input) { ${ACCOUNT_FIELDS} } }`;

describe('connecting accounts', () => {
  it('connects two Podium organizations and two HighLevel locations by OAuth and a Smooch app by its key', async () => {
    const emus = await useEmulators();
    const store = newStore();
    const t = await useAccountsGateway(emus, store);

    const [orgA, orgB] = emus.podium.organizations;
    const podiumA = await connectByOAuth(t, 'PODIUM');
    expect(podiumA.page.status).toBe(200);
    expect(podiumA.page.body).toContain(`Connected the Podium account <strong>${orgA?.name}</strong>`);
    emus.podium.oauth.signInAs(orgB?.uid ?? '');
    const podiumB = await connectByOAuth(t, 'PODIUM');
    expect(podiumB.page.body).toContain(`<strong>${orgB?.name}</strong> (organization ${orgB?.uid} with 2 locations)`);

    const [locationA, locationB] = emus.leadconnector.fixtures.locationIds;
    const lcA = await connectByOAuth(t, 'LEADCONNECTOR');
    emus.leadconnector.oauth.signInAs(locationB ?? '');
    const lcB = await connectByOAuth(t, 'LEADCONNECTOR');
    expect(lcA.page.body).toContain(`Sandbox Smiles Downtown</strong> (location ${locationA})`);
    expect(lcB.page.body).toContain(`Sandbox Smiles Uptown</strong> (location ${locationB})`);
    expect(emus.podium.oauth.stats.exchanges).toBe(2);
    expect(emus.leadconnector.oauth.stats.exchanges).toBe(2);

    const smoochConfig = emus.smooch.providerConfig().api;
    const smooch = await t.gql<{ connectSmoochAccount: AccountRow }>(SMOOCH_MUTATION, {
      input: { appId: smoochConfig.appId, keyId: smoochConfig.keyId, secret: smoochConfig.secret, apiUrl: smoochConfig.apiUrl, name: 'Support app' },
    });
    expect(smooch.errors).toBeUndefined();
    expect(smooch.data?.connectSmoochAccount).toMatchObject({ provider: 'SMOOCH', name: 'Support app', status: 'ACTIVE', providerAccountId: smoochConfig.appId });

    const listed = await t.gql<{ accounts: AccountRow[] }>(`{ accounts { ${ACCOUNT_FIELDS} } }`);
    expect(listed.data?.accounts.map((a) => [a.provider, a.name, a.status, a.fromEnvironment])).toEqual([
      ['PODIUM', orgA?.name, 'ACTIVE', false],
      ['PODIUM', orgB?.name, 'ACTIVE', false],
      ['LEADCONNECTOR', 'Sandbox Smiles Downtown', 'ACTIVE', false],
      ['LEADCONNECTOR', 'Sandbox Smiles Uptown', 'ACTIVE', false],
      ['SMOOCH', 'Support app', 'ACTIVE', false],
    ]);
    expect(listed.data?.accounts[0]?.locationIds).toEqual(orgA?.locationUids);
    const onlyHighLevel = await t.gql<{ accounts: AccountRow[] }>(`{ accounts(provider: LEADCONNECTOR) { providerAccountId } }`);
    expect(onlyHighLevel.data?.accounts.map((a) => a.providerAccountId)).toEqual([locationA, locationB]);

    // Each account reaches its own data: the second organization's contacts are not the first one's.
    const registry = t.gateway.accounts.registry;
    const contactsOf = async (id: string | null) => (await (await registry.apiFor('PODIUM', id as AccountId)).listContacts({ cursor: null, limit: 5 }, {})).items.map((c) => c.id);
    const first = await contactsOf(podiumA.accountId);
    const second = await contactsOf(podiumB.accountId);
    expect(first.every((id) => emus.podium.fixtures.contactIds.includes(id))).toBe(true);
    expect(second.some((id) => emus.podium.fixtures.contactIds.includes(id))).toBe(false);
    const lcContacts = await (await registry.apiFor('LEADCONNECTOR', lcB.accountId as AccountId)).listContacts({ cursor: null, limit: 5 }, {});
    expect(lcContacts.items.length).toBeGreaterThan(0);

    // Node ids round-trip; the stored documents hold no token or secret in plaintext.
    const node = await t.gql<{ node: AccountRow }>(`query($id: ID!) { node(id: $id) { ... on Account { name } } }`, { id: smooch.data?.connectSmoochAccount.id });
    expect(node.data?.node.name).toBe('Support app');
    const client = new MongoClient(store.url);
    onTestFinished(() => client.close());
    const documents = await client.db(store.db).collection('accounts').find({}).toArray();
    expect(documents).toHaveLength(5);
    const raw = JSON.stringify(documents);
    expect(raw).not.toMatch(/sandbox-podium-(access|refresh)|sandbox-lc-(access|refresh)/);
    expect(raw).not.toContain(smoochConfig.secret);
    expect(documents[0]?.credentials).toMatchObject({ v: 1, iv: expect.any(String), tag: expect.any(String), data: expect.any(String) });
  });

  it('reconnecting the same organization replaces its credentials instead of adding an account, and a single stored account answers queries', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const none = await t.gql(`{ users(provider: PODIUM, first: 1) { edges { node { id } } } }`);
    expect(none.errors?.[0]?.extensions?.code).toBe('PROVIDER_NOT_CONFIGURED');
    const first = await connectByOAuth(t, 'PODIUM');
    const again = await connectByOAuth(t, 'PODIUM');
    expect(again.accountId).toBe(first.accountId);
    const listed = await t.gql<{ accounts: AccountRow[] }>(`{ accounts(provider: PODIUM) { id } }`);
    expect(listed.data?.accounts).toHaveLength(1);
    const users = await t.gql<{ users: { edges: unknown[] } }>(`{ users(provider: PODIUM, first: 2) { edges { node { id } } } }`);
    expect(users.errors).toBeUndefined();
    expect(users.data?.users.edges).toHaveLength(2);

    emus.podium.oauth.signInAs(emus.podium.organizations[1]?.uid ?? '');
    await connectByOAuth(t, 'PODIUM');
    const ambiguous = await t.gql(`{ users(provider: PODIUM, first: 1) { edges { node { id } } } }`);
    expect(ambiguous.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(ambiguous.errors?.[0]?.message).toMatch(/2 Podium accounts are connected/);

    const id = listed.data?.accounts[0]?.id;
    const removed = await t.gql<{ disconnectAccount: boolean }>(`mutation($id: ID!) { disconnectAccount(id: $id) }`, { id });
    expect(removed.data?.disconnectAccount).toBe(true);
    const twice = await t.gql<{ disconnectAccount: boolean }>(`mutation($id: ID!) { disconnectAccount(id: $id) }`, { id });
    expect(twice.data?.disconnectAccount).toBe(false);
    const remaining = await t.gql<{ users: { edges: unknown[] } }>(`{ users(provider: PODIUM, first: 1) { edges { node { id } } } }`);
    expect(remaining.errors).toBeUndefined();
  });

  it('refuses a Smooch key Smooch rejects, bad input, and non-admin callers', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore(), { GATEWAY_API_KEYS: 'admin:test-admin-key,viewer:viewer-key' });
    const api = emus.smooch.providerConfig().api;
    const wrong = await t.gql(SMOOCH_MUTATION, { input: { appId: api.appId, keyId: api.keyId, secret: 'not-the-secret', apiUrl: api.apiUrl } });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(wrong.errors?.[0]?.message).toMatch(/Smooch refused the key/);
    const bad = await t.gql(SMOOCH_MUTATION, { input: { appId: '../x', keyId: '', secret: 's', apiUrl: 'ftp://example.com' } });
    expect(bad.errors?.[0]?.extensions?.problems).toHaveLength(3);
    const viewer = await t.gql(`{ accounts { id } }`, {}, 'viewer-key');
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const notOAuth = await t.gql(`{ oauthStartUrl(provider: SMOOCH) }`);
    expect(notOAuth.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badId = await t.gql(`{ account(id: "nope") { id } }`);
    expect(badId.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await t.gql<{ accounts: unknown[] }>(`{ accounts { id } }`)).toMatchObject({ data: { accounts: [] } });
  });
});

describe('the OAuth flow refuses what it did not issue', () => {
  it('refuses a start without the admin link, a forged, altered or expired state, and a callback from another browser', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());

    const anonymous = await hop(`${t.url}/oauth/podium/start`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toContain('oauthStartUrl');
    expect((await hop(`${t.url}/oauth/podium/start?grant=abc.def`)).status).toBe(403);
    expect((await hop(`${t.url}/oauth/smooch/start`)).status).toBe(404);

    const start = await t.gql<{ oauthStartUrl: string }>(`{ oauthStartUrl(provider: PODIUM) }`);
    const redirect = await hop(start.data?.oauthStartUrl ?? '');
    const cookie = (redirect.setCookie ?? '').split(';')[0] ?? '';
    const consent = await hop(redirect.location ?? '');
    const callback = new URL(consent.location ?? '');
    const state = callback.searchParams.get('state') ?? '';

    const forged = new URL(callback);
    forged.searchParams.set('state', `${Buffer.from(JSON.stringify({ p: 'podium', n: 'x', e: Date.now() + 60_000 })).toString('base64url')}.c2lnbmF0dXJl`);
    const refusedForged = await hop(forged.toString(), cookie);
    expect(refusedForged.status).toBe(403);
    expect(refusedForged.body).toContain('was not issued by this gateway');
    expect(refusedForged.body).not.toMatch(/at .*\.ts|Error:/);

    const [payload, signature] = state.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { e: number };
    const altered = new URL(callback);
    altered.searchParams.set('state', `${Buffer.from(JSON.stringify({ ...claims, e: claims.e + 3_600_000 })).toString('base64url')}.${signature}`);
    expect((await hop(altered.toString(), cookie)).status).toBe(403);

    const otherBrowser = await hop(callback.toString());
    expect(otherBrowser.status).toBe(403);
    expect(otherBrowser.body).toContain('browser');

    expect((await hop(`${t.url}/oauth/podium/callback?state=${encodeURIComponent(state)}`, cookie)).status).toBe(400);
    const denied = await hop(`${t.url}/oauth/podium/callback?error=access_denied&error_description=The+user+said+no`, cookie);
    expect(denied.status).toBe(400);
    expect(denied.body).toContain('The user said no');
    expect(emus.podium.oauth.stats.exchanges).toBe(0);

    // The genuine callback still works once, and its code cannot be spent again.
    expect((await hop(callback.toString(), cookie)).status).toBe(200);
    const replay = await hop(callback.toString(), cookie);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('refused the authorization code');
  });

  it('refuses a state once it has expired, and an expired start link', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const start = await t.gql<{ oauthStartUrl: string }>(`{ oauthStartUrl(provider: LEADCONNECTOR) }`);
    const redirect = await hop(start.data?.oauthStartUrl ?? '');
    const cookie = (redirect.setCookie ?? '').split(';')[0] ?? '';
    const consent = await hop(redirect.location ?? '');
    // Only the clock moves (timers stay real): the gateway in this process now sees 11 minutes later.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 660_000 });
    onTestFinished(() => void vi.useRealTimers());
    const late = await hop(consent.location ?? '', cookie);
    expect(late.status).toBe(400);
    expect(late.body).toContain('More than 10 minutes passed');
    const oldLink = await hop(start.data?.oauthStartUrl ?? '');
    expect(oldLink.status).toBe(400);
    expect(oldLink.body).toContain('Start link expired');
    expect(emus.leadconnector.oauth.stats.exchanges).toBe(0);
  });
});
