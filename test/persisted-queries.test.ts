// Persisted operations through the real gateway: automatic persisted queries
// (Apollo's APQ protocol; registered documents shared through Redis by every
// instance) and trusted documents (GATEWAY_TRUSTED_DOCUMENTS), which refuse
// anything unlisted on HTTP and graphql-ws alike, before any upstream call.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import { sha256Hex } from '../src/graphql/trusted-documents.js';
import { startPodiumEmulator } from '../src/sandbox/podium/index.js';
import { VIEWER_KEY, startTestGateway, useTestGateway, type TestGateway } from './helpers/gateway.js';

const CONTACTS = 'query FirstContacts { contacts(provider: PODIUM, first: 2) { edges { node { id name } } } }';
const USERS = 'query FirstUsers { users(provider: PODIUM, first: 2) { edges { node { id } } } }';

interface Answer {
  readonly status: number;
  readonly data?: Record<string, unknown> | null;
  readonly errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** POSTs a GraphQL request with the persisted-query extension (and the document, when given). */
async function persisted(t: TestGateway, hash: string, query?: string): Promise<Answer> {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${VIEWER_KEY}` },
    body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
  });
  return { status: res.status, ...((await res.json()) as Omit<Answer, 'status'>) };
}

/** One operation over graphql-ws: its first result, or the errors it was refused with. */
function overWs(client: Client, payload: { query: string; extensions?: Record<string, unknown> }): Promise<Omit<Answer, 'status'>> {
  return new Promise((resolve, reject) => {
    const dispose = client.subscribe(payload, {
      next: (result) => {
        dispose();
        resolve(result as Omit<Answer, 'status'>);
      },
      error: (err) => (Array.isArray(err) ? resolve({ errors: err }) : reject(err instanceof Error ? err : new Error(JSON.stringify(err)))),
      complete: () => undefined,
    });
  });
}

function manifestFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'trusted-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('automatic persisted queries', () => {
  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, then runs it by hash alone once registered', async () => {
    const t = await useTestGateway();
    const hash = sha256Hex(CONTACTS);
    const unknown = await persisted(t, hash);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');

    const registered = await persisted(t, hash, CONTACTS);
    expect(registered.errors).toBeUndefined();
    const byHash = await persisted(t, hash);
    expect(byHash.errors).toBeUndefined();
    expect(byHash.data).toEqual(registered.data);

    const mismatch = await persisted(t, hash, USERS);
    expect(mismatch.status).toBe(400);
  });

  it('shares registered queries through Redis: a second instance runs by hash what the first was sent', async () => {
    // Both instances on one key prefix of their own, as one deployment would be.
    const env = { GATEWAY_CACHE_PREFIX: `apq-${randomUUID().slice(0, 8)}` };
    const first = await useTestGateway({ redis: true, env });
    const second = await startTestGateway({ redis: true, env, podium: first.podium });
    onTestFinished(() => second.close());
    const hash = sha256Hex(CONTACTS);

    expect((await persisted(second, hash)).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await persisted(first, hash, CONTACTS)).errors).toBeUndefined();
    // Apollo stores the registration without waiting for it; wait until Redis has it rather than for a time.
    let answer: Answer = await persisted(second, hash);
    for (let i = 0; i < 50 && answer.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND'; i++) {
      await new Promise((r) => setImmediate(r));
      answer = await persisted(second, hash);
    }
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toMatchObject({ contacts: { edges: expect.any(Array) } });
  });
});

describe('trusted documents', () => {
  it('runs listed operations by document or by hash and refuses unlisted ones with PERSISTED_QUERY_NOT_LISTED, on HTTP', async () => {
    const manifest = {
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: sha256Hex(CONTACTS), name: 'FirstContacts', type: 'query', body: CONTACTS }],
    };
    const t = await useTestGateway({ env: { GATEWAY_TRUSTED_DOCUMENTS: manifestFile(manifest) } });

    const byDocument = await t.gql(CONTACTS, undefined, VIEWER_KEY);
    expect(byDocument.errors).toBeUndefined();
    // Listed: no registration round trip needed.
    const byHash = await persisted(t, sha256Hex(CONTACTS));
    expect(byHash.errors).toBeUndefined();
    expect(byHash.data).toEqual(byDocument.data);

    // GET too: refused before Apollo, and a listed hash alone runs its document.
    const get = (params: Record<string, string>) =>
      fetch(`${t.url}/graphql?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${VIEWER_KEY}`, 'apollo-require-preflight': 'true' } });
    const unlistedGet = await get({ query: USERS });
    expect(unlistedGet.status).toBe(400);
    expect(((await unlistedGet.json()) as Answer).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_LISTED');
    const listedGet = await get({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256Hex(CONTACTS) } }) });
    expect(((await listedGet.json()) as Answer).data).toEqual(byDocument.data);
    t.podium.resetRequests();
    const unlisted = await t.gql(USERS, undefined, VIEWER_KEY);
    expect(unlisted.status).toBe(400);
    expect(unlisted.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_LISTED');
    const unlistedHash = await persisted(t, sha256Hex(USERS), USERS);
    expect(unlistedHash.status).toBe(400);
    expect(unlistedHash.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_LISTED');
    // A listed hash does not carry another document in with it.
    const smuggled = await persisted(t, sha256Hex(CONTACTS), USERS);
    expect(smuggled.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_LISTED');
    expect(t.podium.requestCount()).toBe(0);
  });

  it('holds graphql-ws to the same list (a plain hash-to-document map)', async () => {
    const t = await useTestGateway({ env: { GATEWAY_TRUSTED_DOCUMENTS: manifestFile({ [sha256Hex(CONTACTS)]: CONTACTS }) } });
    const client = t.ws();

    const listed = await overWs(client, { query: CONTACTS });
    expect(listed.errors).toBeUndefined();
    expect(listed.data).toMatchObject({ contacts: { edges: expect.any(Array) } });
    const byHash = await overWs(client, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(CONTACTS) } } });
    expect(byHash.data).toEqual(listed.data);

    t.podium.resetRequests();
    const unlisted = await overWs(client, { query: USERS });
    expect(unlisted.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_LISTED');
    const subscription = await overWs(client, { query: 'subscription { messageReceived { id } }' });
    expect(subscription.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_LISTED');
    expect(t.podium.requestCount()).toBe(0);
  });

  it('refuses to start with a manifest whose ids are not the hashes of their documents, naming the entry', async () => {
    const file = manifestFile({ [sha256Hex(USERS)]: CONTACTS });
    const podium = await startPodiumEmulator();
    onTestFinished(() => podium.close());
    await expect(startTestGateway({ podium, env: { GATEWAY_TRUSTED_DOCUMENTS: file } })).rejects.toThrow(/GATEWAY_TRUSTED_DOCUMENTS: .*entry 1: id [0-9a-f]{64} is not the SHA-256 of its document/);
    await expect(startTestGateway({ podium, env: { GATEWAY_TRUSTED_DOCUMENTS: `${file}.missing` } })).rejects.toThrow(/GATEWAY_TRUSTED_DOCUMENTS: cannot read/);
  });
});
