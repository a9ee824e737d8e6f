// Stored tokens over time: they survive a restart, two instances spend a
// single-use HighLevel refresh token once, a revoked grant turns only its
// account NEEDS_RECONNECTION, tokens are renewed ahead of expiry, and the
// encryption key is enforced. Real gateways on FerretDB (and Redis for the
// lock), the emulators counting token calls.
import { describe, expect, inject, it } from 'vitest';
import type { AccountId } from '../src/accounts/types.js';
import { ProviderError } from '../src/errors.js';
import type { ProviderName } from '../src/model.js';
import { ACCOUNT_FIELDS, connectByOAuth, newStore, startAccountsGateway, useAccountsGateway, useEmulators, type AccountsGateway } from './helpers/accounts.js';
import { until } from './helpers/gateway.js';

type AccountRow = { id: string; provider: string; name: string; status: string; lastError: string | null };

/** One real call through an account's adapter: its first contacts (HighLevel, Podium) or its webhooks (Smooch). */
async function callAccount(t: AccountsGateway, provider: ProviderName, id: string): Promise<number> {
  const api = await t.gateway.accounts.registry.apiFor(provider, id as AccountId);
  if (provider === 'SMOOCH') return (await api.webhooks.list()).length;
  return (await api.listContacts({ cursor: null, limit: 2 }, {})).items.length;
}

async function failureOf(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
  } catch (err) {
    return err instanceof ProviderError ? err.failure : String(err);
  }
  return 'no error';
}

describe('stored tokens', () => {
  it('keeps every account working across a restart, renewing with the rotated refresh token the first process stored', async () => {
    const emus = await useEmulators();
    const store = newStore();
    const first = await startAccountsGateway(emus, store);
    const ids: Array<[ProviderName, string]> = [];
    for (const [provider, subjects, server] of [
      ['PODIUM', emus.podium.organizations.map((o) => o.uid), emus.podium.oauth],
      ['LEADCONNECTOR', emus.leadconnector.fixtures.locationIds, emus.leadconnector.oauth],
    ] as const) {
      for (const subject of subjects) {
        server.signInAs(subject);
        const { accountId } = await connectByOAuth(first, provider);
        ids.push([provider, accountId ?? '']);
      }
    }
    const api = emus.smooch.providerConfig().api;
    const smooch = await first.gql<{ connectSmoochAccount: { id: string } }>(`mutation($i: ConnectSmoochAccountInput!) { connectSmoochAccount(input: $i) { id } }`, {
      i: { appId: api.appId, keyId: api.keyId, secret: api.secret, apiUrl: api.apiUrl },
    });
    const smoochId = Buffer.from(smooch.data?.connectSmoochAccount.id ?? '', 'base64url').toString().split(':')[2] ?? '';
    ids.push(['SMOOCH', smoochId]);

    // HighLevel's access tokens expire: the first process renews (rotating the refresh tokens) and stores the new ones.
    emus.leadconnector.oauth.expireAccessTokens();
    for (const [provider, id] of ids) expect(await callAccount(first, provider, id)).toBeGreaterThanOrEqual(0);
    expect(emus.leadconnector.oauth.stats).toMatchObject({ refreshes: 2, refusedRefreshes: 0 });
    await first.close();

    const second = await useAccountsGateway(emus, store);
    // Expired again: only the refresh tokens the first process stored can renew them now.
    emus.leadconnector.oauth.expireAccessTokens();
    emus.podium.oauth.expireAccessTokens();
    for (const [provider, id] of ids) expect(await callAccount(second, provider, id)).toBeGreaterThanOrEqual(0);
    expect(emus.leadconnector.oauth.stats).toMatchObject({ refreshes: 4, refusedRefreshes: 0 });
    expect(emus.podium.oauth.stats).toMatchObject({ refreshes: 2, refusedRefreshes: 0 });
    const listed = await second.gql<{ accounts: AccountRow[] }>(`{ accounts { ${ACCOUNT_FIELDS} } }`);
    expect(listed.data?.accounts.map((a) => a.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
  });

  for (const lock of ['store', 'redis'] as const) {
    it(`spends a single-use HighLevel refresh token once when two instances find it expired together (lock in ${lock})`, async () => {
      const emus = await useEmulators();
      const store = newStore();
      const env: Record<string, string> = lock === 'redis' ? { REDIS_URL: inject('redisUrl'), GATEWAY_CACHE_PREFIX: `t${store.db}` } : {};
      const a = await useAccountsGateway(emus, store, env);
      const { accountId } = await connectByOAuth(a, 'LEADCONNECTOR');
      const b = await useAccountsGateway(emus, store, env);
      expect(await callAccount(b, 'LEADCONNECTOR', accountId ?? '')).toBeGreaterThan(0);

      const release = emus.leadconnector.oauth.holdRefreshes();
      emus.leadconnector.oauth.expireAccessTokens();
      emus.leadconnector.resetRequests();
      const calls = Promise.all([callAccount(a, 'LEADCONNECTOR', accountId ?? ''), callAccount(b, 'LEADCONNECTOR', accountId ?? '')]);
      // Both instances were refused the expired token, and one of them is renewing it (held).
      await until(
        () => emus.leadconnector.requests.filter((r) => r.status === 401).length >= 2 && emus.leadconnector.requestCount({ method: 'POST', pathPrefix: '/oauth/token' }) >= 1,
        'both instances to see the token expired and one to renew it',
      );
      release();
      expect(await calls).toEqual([expect.any(Number), expect.any(Number)]);
      expect(emus.leadconnector.oauth.stats).toMatchObject({ refreshes: 1, refusedRefreshes: 0 });

      // Both now hold the renewed token: no further refresh, no 401.
      emus.leadconnector.resetRequests();
      await callAccount(a, 'LEADCONNECTOR', accountId ?? '');
      await callAccount(b, 'LEADCONNECTOR', accountId ?? '');
      expect(emus.leadconnector.requests.filter((r) => r.status === 401)).toHaveLength(0);
      expect(emus.leadconnector.oauth.stats.refreshes).toBe(1);
    });
  }

  it('turns an account whose refresh token was revoked NEEDS_RECONNECTION, fails its calls clearly, keeps the others working, and recovers on reconnect', async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const [locationA, locationB] = emus.leadconnector.fixtures.locationIds;
    const a = await connectByOAuth(t, 'LEADCONNECTOR');
    emus.leadconnector.oauth.signInAs(locationB ?? '');
    const b = await connectByOAuth(t, 'LEADCONNECTOR');

    emus.leadconnector.oauth.revoke(locationA ?? '');
    expect(await failureOf(callAccount(t, 'LEADCONNECTOR', a.accountId ?? ''))).toBe('NEEDS_RECONNECTION');
    expect(await callAccount(t, 'LEADCONNECTOR', b.accountId ?? '')).toBeGreaterThan(0);
    expect(emus.leadconnector.oauth.stats.refusedRefreshes).toBe(1);

    const listed = await t.gql<{ accounts: AccountRow[] }>(`{ accounts(provider: LEADCONNECTOR) { ${ACCOUNT_FIELDS} } }`);
    expect(listed.data?.accounts.map((x) => [x.name, x.status])).toEqual([
      ['Sandbox Smiles Downtown', 'NEEDS_RECONNECTION'],
      ['Sandbox Smiles Uptown', 'ACTIVE'],
    ]);
    expect(listed.data?.accounts[0]?.lastError).toMatch(/HighLevel refused the refresh token \(invalid_grant/);
    expect(listed.data?.accounts[1]?.lastError).toBeNull();

    // Later calls fail at once, without spending anything upstream.
    emus.leadconnector.resetRequests();
    expect(await failureOf(callAccount(t, 'LEADCONNECTOR', a.accountId ?? ''))).toBe('NEEDS_RECONNECTION');
    expect(emus.leadconnector.requests).toHaveLength(0);

    // Through GraphQL, once it is the provider's only account: a clear code.
    await t.gql(`mutation($id: ID!) { disconnectAccount(id: $id) }`, { id: listed.data?.accounts[1]?.id });
    const query = `{ contacts(provider: LEADCONNECTOR, first: 1) { edges { node { id } } } }`;
    const failed = await t.gql(query);
    expect(failed.errors?.[0]?.extensions?.code).toBe('ACCOUNT_NEEDS_RECONNECTION');
    expect(failed.errors?.[0]?.message).toMatch(/"Sandbox Smiles Downtown" needs reconnecting/);

    emus.leadconnector.oauth.signInAs(locationA ?? '');
    const again = await connectByOAuth(t, 'LEADCONNECTOR');
    expect(again.accountId).toBe(a.accountId);
    const recovered = await t.gql<{ contacts: { edges: unknown[] } }>(query);
    expect(recovered.errors).toBeUndefined();
    expect(recovered.data?.contacts.edges).toHaveLength(1);
  });

  it('renews a token ahead of its expiry, before the provider refuses it', async () => {
    // Tokens that live 60 s are inside the 5-minute margin from the start.
    const emus = await useEmulators({ accessTokenTtlSeconds: 60 });
    const t = await useAccountsGateway(emus, newStore());
    const { accountId } = await connectByOAuth(t, 'LEADCONNECTOR');
    emus.leadconnector.resetRequests();
    expect(await callAccount(t, 'LEADCONNECTOR', accountId ?? '')).toBeGreaterThan(0);
    expect(emus.leadconnector.oauth.stats.refreshes).toBe(1);
    expect(emus.leadconnector.requests.filter((r) => r.status === 401)).toHaveLength(0);
  });
});

describe('the encryption key', () => {
  it('is required in production once accounts are stored, and a different key leaves accounts NEEDS_RECONNECTION saying why', async () => {
    const emus = await useEmulators();
    const store = newStore();
    const keyed = await startAccountsGateway(emus, store);
    await connectByOAuth(keyed, 'PODIUM');
    await keyed.close();

    const production = { NODE_ENV: 'production', GATEWAY_ENCRYPTION_KEY: '' };
    await expect(startAccountsGateway(emus, store, production)).rejects.toThrow(/GATEWAY_ENCRYPTION_KEY is required when NODE_ENV=production: the store holds 1 accounts/);

    const empty = await useAccountsGateway(emus, newStore(), production);
    const refused = await connectByOAuth(empty, 'PODIUM');
    expect(refused.page.status).toBe(503);
    expect(refused.page.body).toContain('GATEWAY_ENCRYPTION_KEY is required');

    const otherKey = await useAccountsGateway(emus, { ...store, encryptionKey: Buffer.alloc(32, 7).toString('base64') });
    const listed = await otherKey.gql<{ accounts: AccountRow[] }>(`{ accounts { status lastError } }`);
    expect(listed.data?.accounts).toEqual([{ status: 'NEEDS_RECONNECTION', lastError: expect.stringMatching(/encrypted with another GATEWAY_ENCRYPTION_KEY/) }]);
    const query = await otherKey.gql(`{ contacts(provider: PODIUM, first: 1) { edges { node { id } } } }`);
    expect(query.errors?.[0]?.extensions?.code).toBe('ACCOUNT_NEEDS_RECONNECTION');
  });
});

describe('crypto at rest', () => {
  it('seals with AES-256-GCM bound to the account id: tampering, another account and another key are all refused', async () => {
    const { createSealer, DecryptError } = await import('../src/accounts/crypto.js');
    const sealer = createSealer(Buffer.alloc(32, 1));
    const blob = sealer.seal({ secret: 'x' }, 'acc1');
    expect(sealer.open(blob, 'acc1')).toEqual({ secret: 'x' });
    expect(() => sealer.open(blob, 'acc2')).toThrow(DecryptError);
    expect(() => sealer.open({ ...blob, data: Buffer.from('tampered').toString('base64') }, 'acc1')).toThrow(DecryptError);
    expect(() => createSealer(Buffer.alloc(32, 2)).open(blob, 'acc1')).toThrow(/another GATEWAY_ENCRYPTION_KEY/);
    expect(sealer.seal({ secret: 'x' }, 'acc1').iv).not.toBe(blob.iv);
  });
});
