// The environment's credentials are an account like any other: a HighLevel
// token set by LEADCONNECTOR_TOKEN with LEADCONNECTOR_REFRESH_TOKEN is renewed
// by the one token source, its single-use refresh token spent once across
// instances, and the renewed tokens outlive a restart (persisted in the
// accounts store, on FerretDB). The emulator's OAuth server counts refreshes.
import { describe, expect, it } from 'vitest';
import { ENV_ACCOUNT_ID } from '../src/accounts/types.js';
import { loadConfig, type GatewayConfig } from '../src/config.js';
import { createGateway, type Gateway } from '../src/server.js';
import { newStore, useEmulators, type Emulators, type StoreRef } from './helpers/accounts.js';

const REDIRECT = 'http://127.0.0.1:1/callback';

/** A location token pair straight from the emulator's Marketplace app, as an operator would paste it into the environment. */
async function issuedTokens(emus: Emulators): Promise<{ accessToken: string; refreshToken: string }> {
  const app = emus.leadconnector.oauthConfig();
  const consent = new URL(app.authorizeUrl);
  consent.search = new URLSearchParams({ client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT }).toString();
  const redirected = await fetch(consent, { redirect: 'manual' });
  const code = new URL(redirected.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const answer = await fetch(app.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, user_type: 'Location' }),
  });
  const body = (await answer.json()) as { access_token: string; refresh_token: string };
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

async function startEnvGateway(emus: Emulators, store: StoreRef, tokens: { accessToken: string; refreshToken: string }): Promise<Gateway> {
  const base = loadConfig({
    NODE_ENV: 'test',
    GATEWAY_SANDBOX: 'false',
    GATEWAY_CACHE: 'off',
    GATEWAY_UPSTREAM_TIMEOUT_MS: '2000',
    MONGODB_URL: store.url,
    MONGODB_DB: store.db,
    GATEWAY_ENCRYPTION_KEY: store.encryptionKey,
  });
  const leadconnector = emus.leadconnector.providerConfig();
  const config: GatewayConfig = {
    ...base,
    podium: null,
    smooch: null,
    leadconnector: { ...leadconnector, api: { ...leadconnector.api, token: tokens.accessToken, refreshToken: tokens.refreshToken }, oauth: emus.leadconnector.oauthConfig() },
  };
  const gateway = createGateway(config);
  await gateway.listen(0, '127.0.0.1');
  return gateway;
}

async function contactsThrough(gateway: Gateway): Promise<number> {
  const api = await gateway.accounts.registry.apiFor('LEADCONNECTOR', ENV_ACCOUNT_ID);
  return (await api.listContacts({ cursor: null, limit: 2 }, {})).items.length;
}

describe("the environment's HighLevel token", () => {
  it('is renewed once for two instances and the renewed tokens survive a restart', async () => {
    const emus = await useEmulators();
    const store = newStore();
    emus.leadconnector.oauth.signInAs(emus.leadconnector.fixtures.locationIds[0] as string);
    const configured = await issuedTokens(emus);
    const first = await startEnvGateway(emus, store, configured);
    const second = await startEnvGateway(emus, store, configured);
    try {
      emus.leadconnector.oauth.expireAccessTokens();
      expect(await contactsThrough(first)).toBe(2);
      expect(emus.leadconnector.oauth.stats).toMatchObject({ refreshes: 1, refusedRefreshes: 0 });
      // The second instance still holds the configured (spent) refresh token: it takes the stored tokens instead of spending it again.
      expect(await contactsThrough(second)).toBe(2);
      expect(emus.leadconnector.oauth.stats).toMatchObject({ refreshes: 1, refusedRefreshes: 0 });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }

    const restarted = await startEnvGateway(emus, store, configured);
    try {
      expect(await contactsThrough(restarted)).toBe(2);
      emus.leadconnector.oauth.expireAccessTokens();
      // Renewed with the rotated refresh token the first instance stored, not the configured one.
      expect(await contactsThrough(restarted)).toBe(2);
      expect(emus.leadconnector.oauth.stats).toMatchObject({ refreshes: 2, refusedRefreshes: 0 });
    } finally {
      await restarted.close();
    }
  });
});
