// Gateways with no provider credentials in the environment, only OAuth apps
// pointed at the emulators, so every account is connected the way a user would
// connect it: the admin asks for the start link, the browser follows the
// redirects (carrying the nonce cookie) to the callback page.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { onTestFinished } from 'vitest';
import { loadConfig, type GatewayConfig } from '../../src/config.js';
import type { ProviderName } from '../../src/model.js';
import { podiumSignature } from '../../src/providers/podium/webhooks.js';
import { startLeadConnectorEmulator, type LeadConnectorEmulator } from '../../src/sandbox/leadconnector/index.js';
import { startPodiumEmulator, type PodiumEmulator } from '../../src/sandbox/podium/index.js';
import { startSmoochEmulator } from '../../src/sandbox/smooch/index.js';
import { createGateway, type Gateway } from '../../src/server.js';
import { ADMIN_KEY, gqlAt, mongoTestDb, type GraphQLResponse } from './gateway.js';

export interface Emulators {
  readonly podium: PodiumEmulator;
  readonly leadconnector: LeadConnectorEmulator;
  readonly smooch: Awaited<ReturnType<typeof startSmoochEmulator>>;
}

export async function useEmulators(options: { readonly accessTokenTtlSeconds?: number } = {}): Promise<Emulators> {
  const [podium, leadconnector, smooch] = await Promise.all([
    startPodiumEmulator({ accessTokenTtlSeconds: options.accessTokenTtlSeconds }),
    startLeadConnectorEmulator({ accessTokenTtlSeconds: options.accessTokenTtlSeconds }),
    startSmoochEmulator(),
  ]);
  onTestFinished(() => Promise.all([podium.close(), leadconnector.close(), smooch.close()]).then(() => undefined));
  return { podium, leadconnector, smooch };
}

export interface AccountsGateway {
  readonly gateway: Gateway;
  readonly url: string;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface StoreRef {
  readonly url: string;
  readonly db: string;
  /** The same key for every gateway of a test: restarts and second instances read each other's accounts. */
  readonly encryptionKey: string;
}

export function newStore(): StoreRef {
  return { ...mongoTestDb(), encryptionKey: randomBytes(32).toString('base64') };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A gateway on the given store whose providers have only OAuth apps (and Smooch nothing): all accounts are stored ones. */
export async function startAccountsGateway(emus: Emulators, store: StoreRef, env: Record<string, string> = {}): Promise<AccountsGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const base = loadConfig({
    NODE_ENV: 'test',
    GATEWAY_API_KEYS: `admin:${ADMIN_KEY}`,
    GATEWAY_SANDBOX: 'false',
    GATEWAY_CACHE: 'off',
    GATEWAY_UPSTREAM_TIMEOUT_MS: '2000',
    GATEWAY_PUBLIC_URL: url,
    MONGODB_URL: store.url,
    MONGODB_DB: store.db,
    GATEWAY_ENCRYPTION_KEY: store.encryptionKey,
    ...env,
  });
  const podium = emus.podium.providerConfig();
  const leadconnector = emus.leadconnector.providerConfig();
  const config: GatewayConfig = {
    ...base,
    podium: { api: null, oauth: emus.podium.oauthConfig(), webhookSecret: null, webhookToleranceMs: podium.webhookToleranceMs },
    leadconnector: { ...leadconnector, api: null, oauth: emus.leadconnector.oauthConfig() },
    smooch: null,
  };
  const gateway = createGateway(config);
  await gateway.listen(port, '127.0.0.1');
  return {
    gateway,
    url,
    gql: gqlAt(url),
    close: () => gateway.close(),
  };
}

export async function useAccountsGateway(emus: Emulators, store: StoreRef, env: Record<string, string> = {}): Promise<AccountsGateway> {
  const t = await startAccountsGateway(emus, store, env);
  onTestFinished(() => t.close());
  return t;
}

export interface Hop {
  readonly status: number;
  readonly location: string | null;
  readonly body: string;
}

/** One browser request without following redirects, remembering the cookie the gateway set. */
export async function hop(url: string, cookie?: string): Promise<Hop & { readonly setCookie: string | null }> {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: res.status, location: res.headers.get('location'), body: await res.text(), setCookie: res.headers.get('set-cookie') };
}

/** The whole browser round trip: start link → consent page (auto-approves) → callback page. */
export async function connectByOAuth(t: AccountsGateway, provider: Extract<ProviderName, 'PODIUM' | 'LEADCONNECTOR'>): Promise<{ readonly page: Hop; readonly accountId: string | null }> {
  const start = await t.gql<{ oauthStartUrl: string }>('query($p: Provider!) { oauthStartUrl(provider: $p) }', { p: provider });
  if (!start.data) throw new Error(`oauthStartUrl failed: ${JSON.stringify(start.errors)}`);
  const redirect = await hop(start.data.oauthStartUrl);
  if (redirect.status !== 302 || !redirect.location) throw new Error(`start answered ${redirect.status}: ${redirect.body}`);
  const cookie = (redirect.setCookie ?? '').split(';')[0] ?? '';
  const consent = await hop(redirect.location);
  if (consent.status !== 302 || !consent.location) throw new Error(`consent answered ${consent.status}: ${consent.body}`);
  const page = await hop(consent.location, cookie);
  const accountId = /<code>([0-9a-f]{24})<\/code>/.exec(page.body)?.[1] ?? null;
  return { page, accountId };
}

/** Connects both Podium organizations and both HighLevel locations; returns their Account ids (global). */
export async function connectAll(t: AccountsGateway, emus: Emulators) {
  const [orgA, orgB] = emus.podium.organizations;
  const [locationA, locationB] = emus.leadconnector.fixtures.locationIds;
  await connectByOAuth(t, 'PODIUM');
  emus.podium.oauth.signInAs(orgB?.uid ?? '');
  await connectByOAuth(t, 'PODIUM');
  await connectByOAuth(t, 'LEADCONNECTOR');
  emus.leadconnector.oauth.signInAs(locationB ?? '');
  await connectByOAuth(t, 'LEADCONNECTOR');
  const listed = await t.gql<{ accounts: Array<{ id: string; provider: string; providerAccountId: string }> }>('{ accounts { id provider providerAccountId } }');
  const idOf = (provider: string, providerAccountId: string | undefined): string => {
    const found = listed.data?.accounts.find((a) => a.provider === provider && a.providerAccountId === providerAccountId);
    if (!found) throw new Error(`no ${provider} account ${providerAccountId} in ${JSON.stringify(listed)}`);
    return found.id;
  };
  return {
    orgA: orgA!,
    orgB: orgB!,
    locationA: locationA!,
    locationB: locationB!,
    podiumA: idOf('PODIUM', orgA?.uid),
    podiumB: idOf('PODIUM', orgB?.uid),
    lcA: idOf('LEADCONNECTOR', locationA),
    lcB: idOf('LEADCONNECTOR', locationB),
  };
}

/** Creates a Podium webhook to this gateway through one account, with its own secret; resolves with its id. */
export async function podiumWebhook(t: AccountsGateway, account: string, organizationId: string, secret: string): Promise<string> {
  const res = await t.gql<{ createWebhook: { id: string } }>('mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }', {
    i: { provider: 'PODIUM', account, url: `${t.url}/webhooks/podium`, eventTypes: ['message.received'], organizationId, secret },
  });
  if (!res.data) throw new Error(`createWebhook failed: ${JSON.stringify(res.errors)}`);
  return res.data.createWebhook.id;
}

/** Sends a Podium message.received of the organization owning `locationUid`, signed with `secret`; resolves with the answer. */
export async function sendPodium(t: AccountsGateway, locationUid: string, conversationUid: string, secret: string, body: object | null = null): Promise<{ status: number; body: { eventIds?: string[] } }> {
  const rawBody = JSON.stringify(
    body ?? {
      data: { uid: randomUUID(), body: 'Can I move my appointment?', createdAt: new Date().toISOString(), conversation: { uid: conversationUid, channel: { type: 'phone' } }, location: { uid: locationUid } },
      metadata: { eventType: 'message.received', eventUid: randomUUID() },
    },
  );
  const timestamp = String(Date.now());
  const res = await fetch(`${t.url}/webhooks/podium`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'podium-timestamp': timestamp, 'podium-signature': podiumSignature(secret, timestamp, Buffer.from(rawBody)) },
    body: rawBody,
  });
  return { status: res.status, body: (await res.json()) as { eventIds?: string[] } };
}

/** sendPodium that must be accepted; resolves with the stored event ids. */
export async function deliverPodium(...args: Parameters<typeof sendPodium>): Promise<string[]> {
  const res = await sendPodium(...args);
  if (res.status !== 200 || !res.body.eventIds) throw new Error(`the delivery answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.eventIds;
}

export const ACCOUNT_FIELDS = 'id provider name status lastError providerAccountId locationIds fromEnvironment connectedAt';
