// The Podium adapter against the Podium emulator: paging with opaque cursors,
// batch lookups (one request per distinct key), retries, timeouts, token
// refresh on 401 and webhook subscription CRUD; plus the emulator's own
// answers to bad requests.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PodiumApiConfig } from '../../src/providers/podium/config.js';
import { withApi } from '../helpers/config.js';
import { ProviderError } from '../../src/errors.js';
import type { ContactRecord, MessageRecord } from '../../src/model.js';
import { createPodiumProvider } from '../../src/providers/podium/index.js';
import type { Provider } from '../../src/providers/provider.js';
import { startPodiumEmulator, type PodiumEmulator } from '../../src/sandbox/podium/index.js';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
let emulator: PodiumEmulator;
let provider: Provider;

function podium(overrides: Partial<PodiumApiConfig> = {}, upstream = { timeoutMs: 2_000, maxRetries: 2 }): Provider {
  return createPodiumProvider(withApi(emulator.providerConfig(), overrides), { upstream, publicUrl: 'http://localhost', allowUnsignedWebhooks: false });
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

beforeAll(async () => {
  emulator = await startPodiumEmulator();
  provider = podium();
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.clearFaults();
  emulator.resetRequests();
});

describe('Podium lists', () => {
  it('pages contacts to the end, each of the 50 exactly once', async () => {
    const seen: ContactRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await provider.listContacts({ cursor, limit: 7 }, {});
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(50);
    expect(new Set(seen.map((c) => c.id))).toEqual(new Set(emulator.fixtures.contactIds));
    expect(emulator.requestCount({ pathPrefix: '/v4/contacts' })).toBe(8);
    // Every contact can be found again by its conversation uids, phone and email.
    expect(seen.every((c) => (c.aliases?.length ?? 0) >= 4)).toBe(true);
  });

  it('keeps the filter across pages though Podium ignores filter params next to a cursor', async () => {
    let total = 0;
    for (const locationId of emulator.fixtures.locationIds) {
      let cursor: string | null = null;
      do {
        const page = await provider.listConversations({ cursor, limit: 10 }, { locationId });
        expect(page.items.every((c) => c.locationId === locationId)).toBe(true);
        total += page.items.length;
        cursor = page.nextCursor;
      } while (cursor);
    }
    expect(total).toBe(100);
    expect(emulator.requests.filter((r) => r.query.includes('cursor=')).every((r) => !r.query.includes('locationUid='))).toBe(true);

    const after = '2025-10-01T00:00:00.000Z';
    const recent = await provider.listContacts({ cursor: null, limit: 100 }, { updatedAfter: after });
    expect(recent.items.length).toBeGreaterThan(0);
    expect(recent.items.length).toBeLessThan(50);
    expect(recent.items.every((c) => c.updatedAt! > after)).toBe(true);
    expect(emulator.requests.at(-1)?.query).toContain('updated_at=2025-10-01T00%3A00%3A00Z');
  });

  it('lists messages newest first; a cursor denotes a position, whatever the limit', async () => {
    const conversationId = emulator.fixtures.conversationIds[10]!;
    const all: MessageRecord[] = [];
    const cursors: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await provider.listMessages(conversationId, { cursor, limit: 2 });
      all.push(...page.items);
      cursor = page.nextCursor;
      if (cursor) cursors.push(cursor);
    } while (cursor);
    expect(all.length).toBeGreaterThan(0);
    const times = all.map((m) => m.createdAt!);
    expect(times).toEqual([...times].sort().reverse());
    expect(all.every((m) => m.conversationId === conversationId && m.id?.startsWith(`${conversationId}/`))).toBe(true);
    if (cursors[0]) {
      const wider = await provider.listMessages(conversationId, { cursor: cursors[0], limit: 100 });
      expect(wider.items.map((m) => m.id)).toEqual(all.slice(2).map((m) => m.id));
    }
  });

  it('lists the 10 users with first + last names', async () => {
    const page = await provider.listUsers({ cursor: null, limit: 100 });
    expect(page.items.map((u) => u.id)).toEqual(emulator.fixtures.userIds);
    expect(page.items.every((u) => u.name === `${u.firstName} ${u.lastName}`)).toBe(true);
    expect(page.nextCursor).toBeNull();
  });
});

describe('Podium batch lookups', () => {
  it('answers one result per key in key order, null for an unknown uid, one request per distinct key', async () => {
    const [a, b] = emulator.fixtures.contactIds;
    const contactA = (await provider.getContacts([a!]))[0] as ContactRecord;
    const [conversationUid, phone] = contactA.aliases!;
    emulator.resetRequests();

    const results = await provider.getContacts([a!, UNKNOWN, conversationUid!, b!, a!, phone!]);
    expect(results).toHaveLength(6);
    expect(results.map((r) => (r && !(r instanceof Error) ? r.id : r))).toEqual([a, null, a, b, a, a]);
    expect(emulator.requestCount({ pathPrefix: '/v4/contacts/' })).toBe(5);
  });

  it('looks up conversations, users and messages, with null for unknown ids, malformed message ids included', async () => {
    const [c1, c2] = emulator.fixtures.conversationIds;
    const conversations = await provider.getConversations([c2!, UNKNOWN, c1!]);
    expect(conversations.map((c) => (c && !(c instanceof Error) ? c.id : c))).toEqual([c2, null, c1]);
    expect(conversations[0]).toMatchObject({ contactRef: c2 });

    const users = await provider.getUsers([UNKNOWN, emulator.fixtures.userIds[0]!]);
    expect(users[0]).toBeNull();
    expect(users[1]).toMatchObject({ id: emulator.fixtures.userIds[0], provider: 'PODIUM' });

    const [newest] = (await provider.listMessages(c1!, { cursor: null, limit: 1 })).items;
    emulator.resetRequests();
    const messages = await provider.getMessages([newest!.id!, `${c1}/${UNKNOWN}`, 'not-a-message-key']);
    expect(messages[0]).toEqual(newest);
    expect(messages[1]).toBeNull();
    expect(messages[2]).toBeNull(); // names no Podium message: never sent upstream
    expect(emulator.requestCount()).toBe(2);
  });

  it('fails only the key whose request failed', async () => {
    const [a, b] = emulator.fixtures.userIds;
    emulator.injectFault({ pathPrefix: `/v4/users/${b}`, status: 500, times: 10 });
    const results = await podium({}, { timeoutMs: 2_000, maxRetries: 0 }).getUsers([a!, b!]);
    expect(results[0]).toMatchObject({ id: a });
    expect(results[1]).toBeInstanceOf(ProviderError);
  });
});

describe('Podium upstream failures', () => {
  it('retries a 429 after the Retry-After it was given', async () => {
    emulator.injectFault({ pathPrefix: '/v4/users', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const page = await provider.listUsers({ cursor: null, limit: 5 });
    expect(page.items).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('gives up on a persistent 500 with UNAVAILABLE', async () => {
    emulator.injectFault({ pathPrefix: '/v4/conversations', status: 500, times: 10 });
    const err = await failureOf(podium({}, { timeoutMs: 2_000, maxRetries: 1 }).listConversations({ cursor: null, limit: 5 }, {}));
    expect(err.failure).toBe('UNAVAILABLE');
    expect(err.message).toContain('500');
    expect(emulator.requestCount({ pathPrefix: '/v4/conversations' })).toBe(2);
  });

  it('times out a hung request with UNAVAILABLE', async () => {
    emulator.injectFault({ pathPrefix: '/v4/contacts', hang: true });
    const err = await failureOf(podium({}, { timeoutMs: 150, maxRetries: 0 }).listContacts({ cursor: null, limit: 5 }, {}));
    expect(err.failure).toBe('UNAVAILABLE');
    expect(err.message).toBe('Podium did not answer within 150 ms');
    expect(err.detail).toContain('GET /v4/contacts');
  });

  it('times out a response whose body stalls after the headers with UNAVAILABLE, retrying it like any timeout', async () => {
    emulator.injectFault({ pathPrefix: '/v4/users', stallBody: true, times: 1 });
    const page = await podium({}, { timeoutMs: 200, maxRetries: 1 }).listUsers({ cursor: null, limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(emulator.requests.filter((r) => r.path === '/v4/users').map((r) => r.status)).toEqual([200, 200]);

    emulator.resetRequests();
    emulator.injectFault({ pathPrefix: '/v4/users', stallBody: true, times: 1 });
    const err = await failureOf(podium({}, { timeoutMs: 200, maxRetries: 0 }).listUsers({ cursor: null, limit: 2 }));
    expect(err.failure).toBe('UNAVAILABLE');
    expect(err.message).toBe('Podium did not answer within 200 ms');
  });

  it('refreshes an expired access token once for concurrent 401s, then succeeds', async () => {
    const fresh = podium();
    await fresh.listUsers({ cursor: null, limit: 1 });
    emulator.expireAccessToken();
    emulator.resetRequests();
    const users = await fresh.getUsers(emulator.fixtures.userIds.slice(0, 4));
    expect(users.every((u) => u !== null && !(u instanceof Error))).toBe(true);
    expect(emulator.requestCount({ pathPrefix: '/oauth/token' })).toBe(1);
    expect(emulator.requests.filter((r) => r.path.startsWith('/v4/users/')).map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 401, 401, 401, 401]);

    // The refreshed token keeps working, and a second expiry is refreshed again.
    emulator.expireAccessToken();
    expect((await fresh.listUsers({ cursor: null, limit: 1 })).items).toHaveLength(1);
    expect(emulator.requestCount({ pathPrefix: '/oauth/token' })).toBe(2);
  });

  it('starts from a refresh token alone: the first 401 obtains an access token', async () => {
    emulator.resetRequests();
    const fresh = podium({ accessToken: '' });
    const page = await fresh.listUsers({ cursor: null, limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(emulator.requestCount({ pathPrefix: '/oauth/token' })).toBe(1);
  });

  it('answers UNAUTHORIZED without calling the token endpoint when it has no refresh credentials', async () => {
    const stale = podium({ accessToken: 'revoked', refreshToken: null });
    const err = await failureOf(stale.listUsers({ cursor: null, limit: 1 }));
    expect(err.failure).toBe('UNAUTHORIZED');
    expect(err.message).toBe('Podium answered 401');
    expect(err.detail).toContain('unauthenticated');
    expect(emulator.requestCount({ pathPrefix: '/oauth/token' })).toBe(0);
  });

  it('answers UNAUTHORIZED naming the token endpoint when the refresh is refused', async () => {
    const err = await failureOf(podium({ accessToken: 'revoked', refreshToken: 'revoked-too' }).listUsers({ cursor: null, limit: 1 }));
    expect(err.failure).toBe('UNAUTHORIZED');
    expect(err.message).toBe('Podium rejected the credentials and renewing the access token failed');
    expect(err.message).not.toContain(emulator.url);
    expect(err.detail).toContain(`token refresh at ${emulator.url}/oauth/token`);
  });
});

describe('Podium webhook subscriptions', () => {
  it('validates input before calling Podium', () => {
    const base = { url: 'https://example.com/hook', eventTypes: ['message.sent'] };
    expect(provider.webhooks.validateCreate({ ...base })).toEqual([expect.stringContaining('got neither')]);
    expect(provider.webhooks.validateCreate({ ...base, locationId: 'l', organizationId: 'o' })).toEqual([
      expect.stringContaining('got both (locationId "l", organizationId "o")'),
    ]);
    expect(provider.webhooks.validateCreate({ ...base, locationId: 'l' })).toEqual([]);
    expect(provider.webhooks.validateUpdate({})).toEqual([expect.stringContaining('at least one of url, eventTypes, secret, disabled')]);
    expect(provider.webhooks.validateUpdate({ disabled: false })).toEqual([]);
    expect(provider.webhooks.eventTypes).toContain('message.failed');
    expect(provider.webhooks.eventTypes).toHaveLength(26);
  });

  it('creates, reads, updates and deletes a webhook, keeping its secret', async () => {
    const locationId = emulator.fixtures.locationIds[1]!;
    const created = await provider.webhooks.create({
      url: 'https://example.com/podium',
      eventTypes: ['message.sent', 'message.received'],
      locationId,
      secret: 'shh',
    });
    expect(created).toMatchObject({
      provider: 'PODIUM',
      url: 'https://example.com/podium',
      eventTypes: ['message.sent', 'message.received'],
      locationId,
      organizationId: null,
      disabled: false,
      secret: 'shh',
      editable: true,
    });
    expect(await provider.webhooks.get(created.id)).toEqual(created);
    expect((await provider.webhooks.list()).map((w) => w.id)).toContain(created.id);

    const updated = await provider.webhooks.update(created.id, { disabled: true, eventTypes: ['message.failed'] });
    expect(updated).toMatchObject({ id: created.id, disabled: true, eventTypes: ['message.failed'], url: created.url, secret: 'shh', locationId });
    expect(emulator.requests.at(-1)).toMatchObject({ method: 'PUT', path: `/v4/webhooks/${created.id}` });

    expect(await provider.webhooks.delete(created.id)).toMatchObject({ id: created.id });
    expect(await provider.webhooks.get(created.id)).toBeNull();
    expect(await provider.webhooks.update(created.id, { disabled: false })).toBeNull();
    expect(await provider.webhooks.delete(created.id)).toBeNull();
  });

  it('creates a webhook disabled when asked, and reports what Podium refused', async () => {
    const disabled = await provider.webhooks.create({ url: 'https://example.com/off', eventTypes: ['message.sent'], organizationId: null, locationId: emulator.fixtures.locationIds[0]!, disabled: true });
    expect(disabled).toMatchObject({ disabled: true, secret: null });
    await provider.webhooks.delete(disabled.id);

    const err = await failureOf(provider.webhooks.create({ url: 'https://example.com/x', eventTypes: ['message.edited'], locationId: emulator.fixtures.locationIds[0]! }));
    expect(err.failure).toBe('BAD_REQUEST');
    // What Podium said stays in the detail for logs; the message a client sees carries none of the upstream body.
    expect(err.message).toBe('Podium answered 400');
    expect(err.detail).toContain('invalid_request_values');
    expect(err.detail).toContain('message.edited');
  });
});

describe('Podium emulator answers', () => {
  const get = async (path: string, token: string | null = emulator.providerConfig().api.accessToken, headers: Record<string, string> = {}) => {
    const res = await fetch(`${emulator.url}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('refuses a missing or bad bearer token with 401 unauthenticated', async () => {
    expect(await get('/v4/users', null)).toMatchObject({ status: 401, body: { code: 'unauthenticated', moreInfo: expect.any(String) } });
    expect(await get('/v4/users', 'nope')).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
  });

  it('answers bad paging parameters, unknown ids, routes and versions with Podium error codes', async () => {
    expect(await get('/v4/contacts?limit=0')).toMatchObject({ status: 400, body: { code: 'invalid_request_values', message: expect.stringContaining('"0"') } });
    expect(await get('/v4/contacts?limit=101')).toMatchObject({ status: 400, body: { code: 'invalid_request_values' } });
    expect(await get('/v4/contacts?cursor=garbage')).toMatchObject({ status: 400, body: { code: 'invalid_cursor' } });
    const { body } = await get('/v4/users?limit=1');
    const usersCursor = (body.metadata as { nextCursor: string }).nextCursor;
    expect(await get(`/v4/contacts?cursor=${usersCursor}`)).toMatchObject({ status: 400, body: { code: 'invalid_cursor' } });
    expect(await get(`/v4/users/${UNKNOWN}`)).toMatchObject({ status: 404, body: { code: 'resource_not_found' } });
    expect(await get('/v4/nothing')).toMatchObject({ status: 404, body: { code: 'route_not_found' } });
    expect(await get('/v4/users', undefined, { 'podium-version': '2019.01.01' })).toMatchObject({ status: 400, body: { code: 'invalid_header_version' } });
  });

  it('wraps answers in {data, metadata} with url, version and nextCursor, and serves the locations', async () => {
    const { status, body } = await get('/v4/locations?limit=2');
    expect(status).toBe(200);
    expect(body.data).toHaveLength(2);
    expect(body.metadata).toMatchObject({ url: `${emulator.url}/v4/locations?limit=2`, version: '2021.04.01', nextCursor: expect.any(String) });
  });
});
