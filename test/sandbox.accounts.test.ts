// The sandbox's accounts, as `npm start` sets them up: the environment's
// accounts (the first Podium organization and HighLevel location, the Smooch
// app) stay the default, and the emulators' second organization and location
// are connected as stored accounts through the gateway's OAuth flow once it
// listens, so queries, ids and live demo events show several accounts.
import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { decodeId, encodeId } from '../src/ids.js';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { createGateway } from '../src/server.js';
import { gqlAt, mongoTestDb, until } from './helpers/gateway.js';

type AccountRow = { id: string; provider: string; name: string; providerAccountId: string; fromEnvironment: boolean };
type Edges<T> = { edges: Array<{ node: T }> };

/** What src/index.ts does: the sandbox, the gateway on its config, then the emulators' webhooks and accounts. */
async function useSandboxGateway(env: Record<string, string> = {}, prepare: (sandbox: Sandbox) => void = () => undefined) {
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const sandbox = await startSandbox(loadConfig({ NODE_ENV: 'test', GATEWAY_CACHE: 'off', ...env }));
  onTestFinished(() => sandbox.close());
  prepare(sandbox);
  const gateway = createGateway(sandbox.config, { logger });
  onTestFinished(() => gateway.close());
  const url = await gateway.listen(0, '127.0.0.1');
  await sandbox.connect(url);
  const seeded = await sandbox.seedAccounts(url, gateway.accounts, logger);
  // No GATEWAY_API_KEYS, as with `npm start`: every caller is an admin, so no key is sent.
  const post = gqlAt(url);
  const gql = <T>(query: string, variables?: Record<string, unknown>) => post<T>(query, variables, null);
  const accounts = async (): Promise<AccountRow[]> => {
    const res = await gql<{ accounts: AccountRow[] }>('{ accounts { id provider name providerAccountId fromEnvironment } }');
    expect(res.errors).toBeUndefined();
    return res.data!.accounts;
  };
  return { sandbox, gateway, url, seeded, gql, accounts, logs, logger };
}

/** Each emulator's accounts, as it names them. */
function emulated(sandbox: Sandbox, provider: 'PODIUM' | 'LEADCONNECTOR' | 'SMOOCH') {
  return sandbox.emulators.get(provider)!.accounts;
}

describe('the sandbox seeds several accounts per provider', () => {
  it('lists the environment accounts as before and the second Podium organization and HighLevel location as stored accounts', async () => {
    const t = await useSandboxGateway();
    const [lcA, lcB] = emulated(t.sandbox, 'LEADCONNECTOR');
    const [orgB] = emulated(t.sandbox, 'PODIUM').slice(1);
    const [app] = emulated(t.sandbox, 'SMOOCH');
    const rows = await t.accounts();
    expect(rows.map(({ provider, name, providerAccountId, fromEnvironment }) => ({ provider, name, providerAccountId, fromEnvironment }))).toEqual([
      // The environment's accounts carry the provider's own name of what they reach, as stored ones do.
      { provider: 'PODIUM', name: 'Wasatch Auto Care', providerAccountId: '', fromEnvironment: true },
      { provider: 'LEADCONNECTOR', name: 'Sandbox Smiles Downtown', providerAccountId: lcA!.providerAccountId, fromEnvironment: true },
      { provider: 'SMOOCH', name: `Smooch app ${app!.providerAccountId} (environment)`, providerAccountId: app!.providerAccountId, fromEnvironment: true },
      { provider: 'PODIUM', name: 'Bonneville Dental', providerAccountId: orgB!.providerAccountId, fromEnvironment: false },
      { provider: 'LEADCONNECTOR', name: 'Sandbox Smiles Uptown', providerAccountId: lcB!.providerAccountId, fromEnvironment: false },
    ]);
    // What seedAccounts reports (and the start-up log shows) is what accounts lists.
    expect(t.seeded.map((a) => encodeId(a.provider, 'Account', a.id))).toEqual(rows.filter((r) => !r.fromEnvironment).map((r) => r.id));
    expect(t.logs).toEqual([]);
  });

  it("answers contacts(account:) of the second Podium organization with that organization's contacts, and the default account's without it", async () => {
    const t = await useSandboxGateway();
    const orgB = (await t.accounts()).find((a) => a.provider === 'PODIUM' && !a.fromEnvironment)!;
    const CONTACTS = 'query($a: ID) { contacts(provider: PODIUM, account: $a, first: 5) { edges { node { id providerId name account { id name } } } } }';
    type Row = { id: string; providerId: string; name: string; account: { id: string; name: string } };
    const ofDefault = await t.gql<{ contacts: Edges<Row> }>(CONTACTS);
    const ofB = await t.gql<{ contacts: Edges<Row> }>(CONTACTS, { a: orgB.id });
    expect(ofDefault.errors).toBeUndefined();
    expect(ofB.errors).toBeUndefined();
    const defaults = ofDefault.data!.contacts.edges.map((e) => e.node);
    const seconds = ofB.data!.contacts.edges.map((e) => e.node);
    const fixtures = t.sandbox.emulators.get('PODIUM')!.fixtures.contactIds;
    expect(defaults.every((c) => fixtures.includes(c.providerId))).toBe(true);
    expect(seconds).toHaveLength(5);
    expect(seconds.some((c) => fixtures.includes(c.providerId))).toBe(false);
    expect(new Set(seconds.map((c) => c.account.name))).toEqual(new Set(['Bonneville Dental']));
    // Ids of B's contacts name B, so lookups by them go to B's token by themselves.
    const bLocal = decodeId(orgB.id).providerId;
    expect(seconds.map((c) => decodeId(c.id).account)).toEqual(seconds.map(() => bLocal));
    expect(defaults.map((c) => decodeId(c.id).account)).toEqual(defaults.map(() => null));

    // B is a dental office, not a second garage: its staff and its messages say so.
    const staff = await t.gql<{ users: Edges<{ email: string | null }>; conversations: Edges<{ messages: Edges<{ body: string | null }> }> }>(
      'query($a: ID) { users(provider: PODIUM, account: $a, first: 5) { edges { node { email } } } conversations(provider: PODIUM, account: $a, first: 5) { edges { node { messages(first: 10) { edges { node { body } } } } } } }',
      { a: orgB.id },
    );
    expect(staff.errors).toBeUndefined();
    expect(staff.data!.users.edges.every((e) => e.node.email?.endsWith('@bonnevilledental.example'))).toBe(true);
    const bodies = staff.data!.conversations.edges.flatMap((e) => e.node.messages.edges.map((m) => m.node.body ?? ''));
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies.filter((b) => /brake|oil change|tires|check engine/i.test(b))).toEqual([]);
  });

  it('delivers demo events of the second Podium organization and HighLevel location on a subscription, with ids naming their accounts', async () => {
    const t = await useSandboxGateway();
    const rows = await t.accounts();
    const storedId = (provider: string): string => decodeId(rows.find((a) => a.provider === provider && !a.fromEnvironment)!.id).providerId;
    const client = createClient({ url: `${t.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    onTestFinished(() => client.dispose());
    type Event = { messageReceived: { provider: string; message: { id: string; account: { name: string }; conversation: { id: string } | null } } };
    const received: Event[] = [];
    const errors: unknown[] = [];
    onTestFinished(
      client.subscribe<Event>(
        { query: 'subscription { messageReceived { provider message { id account { name } conversation { id } } } }' },
        { next: (value) => (value.errors ? errors.push(value.errors) : value.data && received.push(value.data)), error: (err) => errors.push(err), complete: () => undefined },
      ),
    );
    await until(() => t.gateway.pubsub.listenerCount() === 1, 'the subscription to register');
    onTestFinished(t.sandbox.startDemo(t.logger, 10));

    const ofAccount = (provider: string, account: string | null) =>
      received.find((e) => e.messageReceived.provider === provider && decodeId(e.messageReceived.message.id).account === account);
    await until(() => ['PODIUM', 'LEADCONNECTOR'].every((p) => ofAccount(p, storedId(p)) && ofAccount(p, null)), 'received events of both accounts of Podium and HighLevel');
    const podiumB = ofAccount('PODIUM', storedId('PODIUM'))!.messageReceived.message;
    const highLevelB = ofAccount('LEADCONNECTOR', storedId('LEADCONNECTOR'))!.messageReceived.message;
    // The conversation resolves with B's token, and its id names B too.
    expect(podiumB.account.name).toBe('Bonneville Dental');
    expect(decodeId(podiumB.conversation!.id).account).toBe(storedId('PODIUM'));
    expect(highLevelB.account.name).toBe('Sandbox Smiles Uptown');
    expect(decodeId(highLevelB.conversation!.id).account).toBe(storedId('LEADCONNECTOR'));
    expect(ofAccount('PODIUM', null)!.messageReceived.message.account.name).toBe('Wasatch Auto Care');
    expect(errors).toEqual([]);
  });

  it('connects the same accounts again after a restart on a persistent store, replacing their tokens instead of adding accounts', async () => {
    const store = { ...mongoTestDb(), key: randomBytes(32).toString('base64') };
    const env = { MONGODB_URL: store.url, MONGODB_DB: store.db, GATEWAY_ENCRYPTION_KEY: store.key };
    const first = await useSandboxGateway(env);
    const before = await first.accounts();
    await first.gateway.close();

    // New emulators, so the tokens stored by the first start no longer work: only reconnecting makes B answer.
    const second = await useSandboxGateway(env);
    const after = await second.accounts();
    expect(after).toEqual(before);
    expect(after.map((a) => a.provider)).toEqual(['PODIUM', 'LEADCONNECTOR', 'SMOOCH', 'PODIUM', 'LEADCONNECTOR']);
    const orgB = after.find((a) => a.provider === 'PODIUM' && !a.fromEnvironment)!;
    const contacts = await second.gql<{ contacts: Edges<{ name: string }> }>('query($a: ID) { contacts(provider: PODIUM, account: $a, first: 1) { edges { node { name } } } }', { a: orgB.id });
    expect(contacts.errors).toBeUndefined();
    expect(contacts.data!.contacts.edges).toHaveLength(1);
  });

  it('still starts when an account cannot be connected: the others are, and a warning names the one that was not', async () => {
    const t = await useSandboxGateway({}, (sandbox) => sandbox.emulators.get('PODIUM')!.injectFault({ pathPrefix: '/oauth/token', method: 'POST', status: 503, times: 5 }));
    const [orgB] = emulated(t.sandbox, 'PODIUM').slice(1);
    expect(t.seeded.map((a) => [a.provider, a.name])).toEqual([['LEADCONNECTOR', 'Sandbox Smiles Uptown']]);
    const warnings = t.logs.filter((l) => l.msg === 'sandbox account not connected');
    expect(warnings).toMatchObject([{ provider: 'PODIUM', providerAccountId: orgB!.providerAccountId, name: 'Bonneville Dental', err: { message: '/oauth/podium/callback answered 502: Podium did not answer' } }]);
    expect((await t.accounts()).map((a) => a.name)).not.toContain('Bonneville Dental');
    const users = await t.gql<{ users: Edges<{ name: string }> }>('{ users(provider: PODIUM, first: 1) { edges { node { name } } } }');
    expect(users.data?.users.edges).toHaveLength(1);
  });
});
