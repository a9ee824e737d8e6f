// Provider conformance: one suite run against Podium, HighLevel and Smooch
// through the real gateway (GraphQL over HTTP, webhooks POSTed to
// /webhooks/<name>) and the provider emulators. What differs per provider lives
// in helpers/conformance.ts; every behaviour asserted here is the same for all.
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createMongoStore } from '../src/events/store/mongo.js';
import type { PublishedEvent } from '../src/events/types.js';
import { encodeId } from '../src/ids.js';
import type { ProviderName } from '../src/model.js';
import type { SmoochEmulator } from '../src/sandbox/smooch/index.js';
import type { ProviderEmulator } from '../src/sandbox/types.js';
import { PROVIDER_CASES, type Delivery, type PagedList, type ProviderCase } from './helpers/conformance.js';
import { collect, startTestGateway, until, useTestGateway, type GraphQLResponse, type TestGateway } from './helpers/gateway.js';

interface Connection {
  edges: Array<{ cursor: string; node: { id: string; providerId: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
}

interface StoredEventNode {
  id: string;
  eventKey: string;
  providerEventType: string | null;
  type: string | null;
  status: string;
  reason: string | null;
  rawBody: string;
  published: boolean;
  message: { providerId: string | null } | null;
}

interface WebhookNode {
  id: string;
  providerId: string;
  provider: string;
  url: string;
  eventTypes: string[];
  hasSecret: boolean;
  editable: boolean;
}

const EVENTS = `query($filter: StoredEventFilter) { messageEvents(filter: $filter, first: 100) { edges { node {
  id eventKey providerEventType type status reason rawBody published message { providerId }
} } } }`;
const WEBHOOK_FIELDS = 'id providerId provider url eventTypes hasSecret editable';
const CONTACT = `query($id: ID!) { contact(id: $id) { providerId } }`;
const NODE = `query($id: ID!) { node(id: $id) { __typename
  ... on Contact { providerId } ... on Conversation { providerId } ... on Message { messageId: providerId } ... on User { providerId }
} }`;

function connectionOf(data: Record<string, unknown> | null): Connection {
  const d = data as { list?: Connection; conversation?: { list: Connection } | null } | null;
  const connection = d?.list ?? d?.conversation?.list;
  if (!connection) throw new Error(`expected a connection at list or conversation.list, got ${JSON.stringify(data)}`);
  return connection;
}

/** Requests the emulator logged at exactly this path. */
function hits(emulator: ProviderEmulator<unknown>, path: string): number {
  return emulator.requests.filter((r) => r.path === path).length;
}

async function storedEvents(t: TestGateway, filter: Record<string, unknown>): Promise<StoredEventNode[]> {
  const res = await t.gql<{ messageEvents: { edges: Array<{ node: StoredEventNode }> } }>(EVENTS, { filter });
  expect(res.errors).toBeUndefined();
  return res.data!.messageEvents.edges.map((e) => e.node);
}

/** Every event the gateway publishes for `provider` from now until the test ends. */
function published(t: TestGateway, provider: ProviderName): PublishedEvent[] {
  const received: PublishedEvent[] = [];
  const unsubscribe = t.gateway.pubsub.subscribe((e) => {
    if (e.provider === provider) received.push(e);
  });
  onTestFinished(unsubscribe);
  return received;
}

describe('provider conformance', () => {
  describe.each(PROVIDER_CASES)('$provider', (p) => {
    let t: TestGateway;
    let emulator: ProviderEmulator<unknown>;
    const post = (d: Delivery, gateway: TestGateway = t) => gateway.webhook(p.webhookPath, d.raw, { ...d.headers });

    beforeAll(async () => {
      t = await startTestGateway({ providers: [p.provider], mongo: true });
      emulator = t.emulators[p.provider]!;
    });
    afterAll(() => t?.close());
    afterEach(() => emulator.clearFaults());

    it('pages every list to the end with each item exactly once, and gives the same page again for an earlier cursor', async () => {
      const lists: readonly PagedList[] = await p.lists(t);
      for (const list of lists) {
        const pages: Array<{ after: string | null; ids: string[]; cursors: string[] }> = [];
        const globalIds: string[] = [];
        let after: string | null = null;
        const bound = Math.ceil(list.expected.length / list.first) + 2;
        for (let i = 0; ; i++) {
          expect(i, `${list.what}: more pages than ${list.expected.length} items in pages of ${list.first} can fill`).toBeLessThan(bound);
          const res: GraphQLResponse = await t.gql(list.query, { ...list.variables, first: list.first, after });
          expect(res.errors, list.what).toBeUndefined();
          const page = connectionOf(res.data);
          expect(page.edges.length, list.what).toBeLessThanOrEqual(list.first);
          expect(page.pageInfo.hasPreviousPage, list.what).toBe(after !== null);
          pages.push({ after, ids: page.edges.map((e) => e.node.providerId), cursors: page.edges.map((e) => e.cursor) });
          globalIds.push(...page.edges.map((e) => e.node.id));
          if (!page.pageInfo.hasNextPage) break;
          expect(page.pageInfo.endCursor, list.what).toBeTruthy();
          after = page.pageInfo.endCursor;
        }
        const seen = pages.flatMap((page) => page.ids);
        expect(seen.length, `${list.what}: items seen`).toBe(list.expected.length);
        expect(new Set(seen).size, `${list.what}: distinct items`).toBe(seen.length);
        expect([...seen].sort(), list.what).toEqual([...list.expected].sort());

        // Going back: the cursor that led to an earlier page leads to the same page again.
        const earlier = pages[Math.min(1, pages.length - 1)]!;
        const again = await t.gql(list.query, { ...list.variables, first: list.first, after: earlier.after });
        expect(again.errors, `${list.what}: again`).toBeUndefined();
        expect(connectionOf(again.data).edges.map((e) => e.node.providerId), `${list.what}: again`).toEqual(earlier.ids);

        // Resuming after an edge in the middle of a page gives the items after it.
        const [, middle] = earlier.cursors;
        if (middle !== undefined) {
          const start = seen.indexOf(earlier.ids[1]!) + 1;
          const rest = await t.gql(list.query, { ...list.variables, first: list.first, after: middle });
          expect(rest.errors, `${list.what}: after an edge`).toBeUndefined();
          expect(connectionOf(rest.data).edges.map((e) => e.node.providerId), `${list.what}: after an edge`).toEqual(seen.slice(start, start + list.first));
        }

        // The newest and the oldest item fetched again by their global ids.
        for (const [index, id] of [0, globalIds.length - 1].map((i) => [i, globalIds[i]] as const)) {
          if (id === undefined) continue;
          const node = await t.gql<{ node: { providerId?: string; messageId?: string } | null }>(NODE, { id });
          expect(node.errors, `${list.what}: node ${index}`).toBeUndefined();
          expect(node.data!.node?.providerId ?? node.data!.node?.messageId, `${list.what}: node ${index}`).toBe(seen[index]);
        }
      }
    });

    it('ends a list whose last page is exactly full: hasNextPage false, no empty page after it', async () => {
      for (const list of await p.lists(t)) {
        if (list.expected.length === 0 || list.expected.length > 100) continue;
        const res = await t.gql(list.query, { ...list.variables, first: list.expected.length, after: null });
        expect(res.errors, list.what).toBeUndefined();
        const page = connectionOf(res.data);
        expect(page.edges.length, `${list.what}: one full page`).toBe(list.expected.length);
        expect(page.pageInfo.hasNextPage, `${list.what}: exactly full`).toBe(false);
      }
    });

    it('filters conversations on closed or refuses the filter, never an empty page that says more follow', async () => {
      const { filter, supported } = p.closedFilter(t);
      const res = await t.gql<{ list: { edges: Array<{ node: { closed: boolean | null } }>; pageInfo: Connection['pageInfo'] } }>(
        `query($filter: ConversationFilter) { list: conversations(provider: ${p.provider}, first: 20, filter: $filter) {
          edges { cursor node { id providerId closed } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`,
        { filter },
      );
      if (!supported) {
        expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(res.errors?.[0]?.message).toMatch(/closed/);
        return;
      }
      expect(res.errors).toBeUndefined();
      const page = res.data!.list;
      expect(page.edges.length > 0 || !page.pageInfo.hasNextPage, 'an empty page must be the last').toBe(true);
      expect(page.edges.every((e) => e.node.closed === true)).toBe(true);
    });

    it('resumes after a mid-page cursor of a newest-first list at the same item when a new message arrived meanwhile', async () => {
      const list = (await p.lists(t)).find((l) => l.conversationId !== undefined)!;
      const first = Math.min(100, list.expected.length);
      const before = connectionOf((await t.gql(list.query, { ...list.variables, first, after: null })).data);
      const mid = Math.floor(first / 2);
      await (emulator as ProviderEmulator<unknown> & { emitMessageEvent: ProviderEmulator<unknown>['emitMessageEvent'] }).emitMessageEvent('RECEIVED', {
        conversationId: list.conversationId!,
      });
      const after = connectionOf((await t.gql(list.query, { ...list.variables, first: 5, after: before.edges[mid - 1]!.cursor })).data);
      expect(after.edges.map((e) => e.node.providerId)).toEqual(before.edges.slice(mid, mid + 5).map((e) => e.node.providerId));
    });

    it('answers null without an error for well-formed ids the provider does not know, and BAD_USER_INPUT for malformed ones', async () => {
      const ids = p.unknownIds(t);
      const res = await t.gql(
        `query($contact: ID!, $conversation: ID!, $message: ID!, $known: ID!, $user: ID!) {
          contact(id: $contact) { id } conversation(id: $conversation) { id } message(id: $message) { id }
          inKnownConversation: message(id: $known) { id } user(id: $user) { id } node(id: $contact) { id }
        }`,
        {
          contact: encodeId(p.provider, 'Contact', ids.contact),
          conversation: encodeId(p.provider, 'Conversation', ids.conversation),
          message: encodeId(p.provider, 'Message', ids.message),
          known: encodeId(p.provider, 'Message', ids.messageInKnownConversation),
          user: encodeId(p.provider, 'User', ids.user),
        },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ contact: null, conversation: null, message: null, inKnownConversation: null, user: null, node: null });

      const base64url = (text: string): string => Buffer.from(text).toString('base64url');
      const notAnId = base64url('not-a-global-id');
      const unknownType = base64url(`${p.provider}:Banana:${ids.contact}`);
      const wrongType = encodeId(p.provider, 'Webhook', ids.contact);
      for (const field of ['contact', 'conversation', 'message', 'user', 'node']) {
        // node takes every type, so only a type that does not exist is wrong for it.
        for (const id of ['garbage!', notAnId, field === 'node' ? unknownType : wrongType]) {
          const bad = await t.gql(`query($id: ID!) { ${field}(id: $id) { id } }`, { id });
          expect(bad.errors?.[0]?.extensions?.code, `${field}(id: ${id})`).toBe('BAD_USER_INPUT');
          expect(bad.data, `${field}(id: ${id})`).toEqual({ [field]: null });
        }
      }
    });

    it('refuses ids the provider could never have issued with BAD_USER_INPUT before any upstream request', async () => {
      const known = emulator.fixtures.conversationIds[0]!;
      const odd: ReadonlyArray<readonly ['Contact' | 'Conversation' | 'Message' | 'User', string]> = [
        ['Contact', '.'],
        ['Contact', '..'],
        ['Conversation', `${known}/..`],
        ['Message', `../${known}`],
        ['Message', `${known}/../x`],
        ['Message', '..'],
        ['User', 'x'.repeat(300)],
        ['Contact', `${known}?limit=100`],
      ];
      emulator.resetRequests();
      for (const [type, providerId] of odd) {
        const field = type.toLowerCase();
        const res = await t.gql(`query($id: ID!) { ${field}(id: $id) { id } }`, { id: encodeId(p.provider, type, providerId) });
        expect(res.errors?.[0]?.extensions?.code, `${type} ${providerId.slice(0, 40)}`).toBe('BAD_USER_INPUT');
      }
      // A 650 KB id is refused by its length, without being decoded or echoed back whole.
      const huge = encodeId(p.provider, 'Contact', 'a'.repeat(650_000));
      const res = await t.gql(`query($id: ID!) { contact(id: $id) { id } }`, { id: huge });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(res).length).toBeLessThan(2_000);
      expect(emulator.requests).toEqual([]);
    });

    it('answers a message id the provider could never have issued as unknown (null) or bad input, never as an internal error', async () => {
      for (const providerId of ['no-conversation-part', 'a/b/c']) {
        const odd = await t.gql(`query($id: ID!) { message(id: $id) { id } }`, { id: encodeId(p.provider, 'Message', providerId) });
        expect(odd.data, providerId).toEqual({ message: null });
        const codes = odd.errors?.map((e) => e.extensions?.code) ?? [];
        expect(codes, `message ${providerId}`).not.toContain('INTERNAL_SERVER_ERROR');
        if (codes.length > 0) expect(codes, `message ${providerId}`).toEqual(['BAD_USER_INPUT']);
      }
    });

    it('retries an upstream 429 once and succeeds; maps persistent 429 to PROVIDER_RATE_LIMITED and 500 to PROVIDER_UNAVAILABLE', async () => {
      const known = emulator.fixtures.contactIds[0]!;
      const path = p.contactPath(t, known);
      const variables = { id: encodeId(p.provider, 'Contact', known) };

      const plain = hits(emulator, path);
      expect((await t.gql(CONTACT, variables)).data).toEqual({ contact: { providerId: known } });
      expect(hits(emulator, path) - plain, 'requests without a fault').toBe(1);

      emulator.injectFault({ pathPrefix: path, status: 429, times: 1, retryAfterSeconds: 0 });
      const before = hits(emulator, path);
      const retried = await t.gql(CONTACT, variables);
      expect(retried.errors).toBeUndefined();
      expect(retried.data).toEqual({ contact: { providerId: known } });
      expect(hits(emulator, path) - before, 'the 429 and one retry').toBe(2);
      expect(emulator.requests.filter((r) => r.path === path).slice(-2).map((r) => r.status)).toEqual([429, 200]);

      const attempts = 1 + t.config.upstream.maxRetries;
      emulator.injectFault({ pathPrefix: path, status: 429, times: 100, retryAfterSeconds: 0 });
      const limitedFrom = hits(emulator, path);
      const limited = await t.gql(CONTACT, variables);
      expect(limited.data).toEqual({ contact: null });
      expect(limited.errors?.[0]?.path).toEqual(['contact']);
      expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', provider: p.provider, upstreamStatus: 429 });
      expect(hits(emulator, path) - limitedFrom, 'attempts before giving up').toBe(attempts);
      emulator.clearFaults();

      emulator.injectFault({ pathPrefix: path, status: 500, times: 100, retryAfterSeconds: 0 });
      const failing = await t.gql(CONTACT, variables);
      expect(failing.data).toEqual({ contact: null });
      expect(failing.errors?.[0]?.extensions).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', provider: p.provider, upstreamStatus: 500 });
    });

    it('answers PROVIDER_UNAVAILABLE naming the timeout when the provider does not answer in time', async () => {
      const quick = await useTestGateway({ providers: [p.provider], env: { GATEWAY_UPSTREAM_TIMEOUT_MS: '200', GATEWAY_UPSTREAM_MAX_RETRIES: '0' } });
      const upstream = quick.emulators[p.provider]!;
      const known = upstream.fixtures.contactIds[0]!;
      const path = p.contactPath(quick, known);
      upstream.injectFault({ pathPrefix: path, hang: true, times: 1 });
      const res = await quick.gql(CONTACT, { id: encodeId(p.provider, 'Contact', known) });
      expect(res.data).toEqual({ contact: null });
      expect(res.errors?.[0]?.extensions?.code).toBe('PROVIDER_UNAVAILABLE');
      expect(res.errors?.[0]?.message).toMatch(/^(Podium|HighLevel|Smooch) did not answer within 200 ms$/);
      expect(hits(upstream, path), 'no retry with GATEWAY_UPSTREAM_MAX_RETRIES=0').toBe(1);

      // Headers arrived, then the body stalled: the same answer, not an internal error.
      upstream.injectFault({ pathPrefix: path, stallBody: true, times: 1 });
      const stalled = await quick.gql(CONTACT, { id: encodeId(p.provider, 'Contact', known) });
      expect(stalled.errors?.[0]?.extensions?.code).toBe('PROVIDER_UNAVAILABLE');
      expect(stalled.errors?.[0]?.message).toMatch(/did not answer within 200 ms$/);
    });

    it('tells a client what failed upstream in plain words, without the upstream body or the request path', async () => {
      const known = emulator.fixtures.contactIds[0]!;
      const path = p.contactPath(t, known);
      emulator.injectFault({ pathPrefix: path, status: 500, times: 10, body: { secret: 'internal-upstream-detail' } });
      const res = await t.gql(CONTACT, { id: encodeId(p.provider, 'Contact', known) });
      emulator.clearFaults();
      expect(res.errors?.[0]?.extensions?.code).toBe('PROVIDER_UNAVAILABLE');
      expect(res.errors?.[0]?.message).toMatch(/^(Podium|HighLevel|Smooch) answered 500$/);
      expect(JSON.stringify(res)).not.toContain('internal-upstream-detail');
      expect(JSON.stringify(res)).not.toContain(known);
    });

    it(`answers a batch of lookups in query order, null for the unknown one, with one upstream request per distinct key`, async () => {
      const [a, b] = p.batchIds(t);
      const type = p.batch.type;
      const field = type === 'Contact' ? 'contact' : 'user';
      const unknown = p.unknownIds(t)[field];
      const query = `query($a: ID!, $u: ID!, $b: ID!) {
        first: ${field}(id: $a) { providerId name }
        unknown: ${field}(id: $u) { providerId name }
        second: node(id: $b) { ... on ${type} { providerId name } }
        again: ${field}(id: $a) { providerId name }
        secondAgain: ${field}(id: $b) { providerId name }
      }`;
      emulator.resetRequests();
      const res = await t.gql<Record<string, { providerId: string; name: string | null } | null>>(query, {
        a: encodeId(p.provider, type, a),
        u: encodeId(p.provider, type, unknown),
        b: encodeId(p.provider, type, b),
      });
      expect(res.errors).toBeUndefined();
      const data = res.data!;
      expect(Object.keys(data)).toEqual(['first', 'unknown', 'second', 'again', 'secondAgain']);
      expect(data.first?.providerId).toBe(a);
      expect(data.unknown).toBeNull();
      expect(data.second?.providerId).toBe(b);
      expect(data.again).toEqual(data.first);
      expect(data.secondAgain).toEqual(data.second);

      const distinct = [a, unknown, b];
      if (p.batch.kind === 'per-key') {
        const { path } = p.batch;
        for (const key of distinct) expect(hits(emulator, path(t, key)), `requests for ${key}`).toBe(1);
        expect(emulator.requests).toHaveLength(distinct.length);
      } else {
        expect(emulator.requests.map((r) => r.path)).toEqual([p.batch.pathPrefix]);
        const asked = new URLSearchParams(emulator.requests[0]!.query).get(p.batch.idsParam)?.split(',') ?? [];
        expect([...asked].sort()).toEqual([...distinct].sort());
      }
    });

    it('stores and publishes an authentic delivery and answers 200, and answers 401 to forged ones, storing nothing', async () => {
      const received = published(t, p.provider);
      const delivery = await p.authentic(t);
      const before = await storedEvents(t, { provider: p.provider });
      for (const forged of p.forgeries(t, delivery)) {
        const res = await post(forged);
        expect(res.status, forged.what).toBe(401);
        expect(res.body.error, forged.what).toBe('unauthorized');
      }
      expect(await storedEvents(t, { provider: p.provider }), 'stored after forged deliveries').toHaveLength(before.length);

      const res = await post(delivery);
      expect(res.status).toBe(200);
      const n = delivery.messageIds.length;
      expect(res.body).toMatchObject({ received: n, duplicates: 0, unprocessable: 0 });
      const after = await storedEvents(t, { provider: p.provider });
      expect(after).toHaveLength(before.length + n);
      const stored = after.slice(0, n);
      for (const event of stored) expect(event).toMatchObject({ status: 'PROCESSED', rawBody: delivery.raw, reason: null });
      expect(stored.map((e) => e.message?.providerId).sort()).toEqual([...delivery.messageIds].sort());
      expect(stored.map((e) => e.id).sort()).toEqual((res.body.eventIds as string[]).map((id) => encodeId(p.provider, 'StoredEvent', id)).sort());
      await until(() => received.length >= n, `${n} published events`);
      expect(received.map((e) => e.eventId).sort()).toEqual([...(res.body.eventIds as string[])].sort());
    });

    it('stores and publishes each event once when the same delivery arrives twice, and says the second was a duplicate', async () => {
      const received = published(t, p.provider);
      const delivery = await p.authentic(t);
      const n = delivery.messageIds.length;
      const before = await storedEvents(t, { provider: p.provider });

      const first = await post(delivery);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ received: n, duplicates: 0 });
      const second = await post(delivery);
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ received: n, duplicates: n, unprocessable: 0 });
      expect(second.body.eventIds).toEqual(first.body.eventIds);

      await until(() => received.length >= n, `${n} published events`);
      // One more full round trip gives any repeated publish the time to show.
      expect((await post(delivery)).body).toMatchObject({ duplicates: n });
      expect(received.map((e) => e.eventId).sort()).toEqual([...(first.body.eventIds as string[])].sort());
      expect(received.map((e) => e.message.id?.split('/').pop()).sort()).toEqual([...delivery.messageIds].sort());

      const after = await storedEvents(t, { provider: p.provider });
      expect(after).toHaveLength(before.length + n);
      for (const event of after.slice(0, n)) expect(event.published).toBe(true);
    });

    it('stores an authentic delivery it cannot process as UNPROCESSABLE with a reason, answers 200 and publishes nothing', async () => {
      const received = published(t, p.provider);
      for (const unknown of p.unknown(t)) {
        const res = await post(unknown);
        expect(res.status, unknown.what).toBe(200);
        expect(res.body, unknown.what).toMatchObject({ received: 1, duplicates: 0, unprocessable: 1 });
        const [event] = (await storedEvents(t, { provider: p.provider, status: 'UNPROCESSABLE' })).filter((e) => e.rawBody === unknown.raw);
        expect(event, unknown.what).toMatchObject({
          status: 'UNPROCESSABLE',
          type: null,
          message: null,
          published: false,
          providerEventType: unknown.providerEventType,
        });
        expect(event!.reason, unknown.what).toBeTruthy();
        if (unknown.providerEventType) expect(event!.reason, unknown.what).toContain(unknown.providerEventType);
      }
      // A message event delivered afterwards is published; nothing before it was.
      const barrier = await p.authentic(t);
      const res = await post(barrier);
      await until(() => received.length >= barrier.messageIds.length, 'the later message event to be published');
      expect(received.map((e) => e.eventId).sort()).toEqual([...(res.body.eventIds as string[])].sort());
    });

    it(`answers ${p.retryStatus}, the status that makes ${p.provider} deliver again, when the store is unreachable, and publishes nothing`, async () => {
      const store = createMongoStore({ url: 'mongodb://127.0.0.1:1/', db: 'x', serverSelectionTimeoutMs: 300 });
      const dead = await useTestGateway({ providers: [p.provider], store });
      const received = published(dead, p.provider);
      const res = await post(await p.authentic(dead), dead);
      expect(res.status).toBe(p.retryStatus);
      expect(res.body.error).toBe('store_unavailable');
      expect(received).toHaveLength(0);
    });

    it('lists webhooks with hasSecret and never the secret, and manages them as the provider allows', async () => {
      await webhookAdmin[p.webhookAdmin](t, p);
    });
  });

  it("delivers each provider's events to the subscription filtered on it only, and all of them to an unfiltered one", async () => {
    const t = await useTestGateway({ providers: PROVIDER_CASES.map((c) => c.provider) });
    for (const c of PROVIDER_CASES) await t.emulators[c.provider]!.addWebhookTarget(`${t.url}/webhooks/${c.webhookPath}`);
    type Received = { messageReceived: { provider: string; type: string; message: { providerId: string } } };
    const query = `subscription($filter: MessageEventFilter) { messageReceived(filter: $filter) { provider type message { providerId } } }`;
    const client = t.ws();
    const filtered = new Map(PROVIDER_CASES.map((c) => [c.provider, collect<Received>(client, query, { filter: { provider: c.provider } })]));
    const everything = collect<Received>(client, query, {}, PROVIDER_CASES.length);
    await until(() => t.gateway.pubsub.listenerCount() === PROVIDER_CASES.length + 1, 'every subscription to register');

    const messageIds = new Map<ProviderName, string>();
    for (const c of PROVIDER_CASES) {
      const emitted = await t.emulators[c.provider]!.emitMessageEvent('RECEIVED');
      expect(emitted.deliveries, c.provider).toEqual([{ url: `${t.url}/webhooks/${c.webhookPath}`, status: 200 }]);
      messageIds.set(c.provider, emitted.messageId?.split('/').pop() ?? '');
    }
    for (const [provider, subscription] of filtered) {
      const [event] = await subscription.done;
      expect(event!.messageReceived).toEqual({ provider, type: 'RECEIVED', message: { providerId: messageIds.get(provider) } });
    }
    const all = await everything.done;
    expect(all.map((e) => `${e.messageReceived.provider}:${e.messageReceived.message.providerId}`).sort()).toEqual(
      [...messageIds].map(([provider, id]) => `${provider}:${id}`).sort(),
    );
    for (const [provider, subscription] of filtered) expect(subscription.results, provider).toHaveLength(1);
  });
});

/** Lists the provider's webhooks: each says whether it has a secret, none shows one. */
async function listWebhooks(t: TestGateway, provider: ProviderName, secrets: ReadonlyArray<string | null>): Promise<WebhookNode[]> {
  const res = await t.gql<{ webhooks: WebhookNode[] }>(`query($p: Provider!) { webhooks(provider: $p) { ${WEBHOOK_FIELDS} } }`, { p: provider });
  expect(res.errors).toBeUndefined();
  const hooks = res.data!.webhooks;
  expect(hooks.length).toBeGreaterThan(0);
  for (const hook of hooks) {
    expect(typeof hook.hasSecret).toBe('boolean');
    expect(hook).not.toHaveProperty('secret');
  }
  for (const secret of secrets) if (secret) expect(JSON.stringify(res)).not.toContain(secret);
  const asked = await t.gql(`query($p: Provider!) { webhooks(provider: $p) { id secret } }`, { p: provider });
  expect(asked.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  return hooks;
}

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { ${WEBHOOK_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { ${WEBHOOK_FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteWebhook(id: $id) { ${WEBHOOK_FIELDS} } }`;
const WEBHOOK = `query($id: ID!) { webhook(id: $id) { ${WEBHOOK_FIELDS} } }`;

const webhookAdmin: Record<ProviderCase['webhookAdmin'], (t: TestGateway, p: ProviderCase) => Promise<void>> = {
  // Full CRUD is covered in gateway.admin.test.ts; here only what every provider shares.
  async podium(t) {
    const secret = 'conformance-podium-secret';
    const created = await t.gql<{ createWebhook: WebhookNode }>(CREATE, {
      input: { provider: 'PODIUM', url: 'https://hooks.example.com/conformance', eventTypes: ['review.created'], locationId: t.podium.fixtures.locationIds[0], secret },
    });
    expect(created.errors).toBeUndefined();
    const hooks = await listWebhooks(t, 'PODIUM', [secret, t.podium.providerConfig().webhookSecret]);
    expect(hooks.find((h) => h.providerId === created.data!.createWebhook.providerId)).toMatchObject({ hasSecret: true, editable: true });
    expect((await t.gql(DELETE, { id: created.data!.createWebhook.id })).errors).toBeUndefined();
  },

  async marketplace(t) {
    const hooks = await listWebhooks(t, 'LEADCONNECTOR', []);
    expect(hooks).toHaveLength(1);
    const [hook] = hooks;
    expect(hook).toMatchObject({ provider: 'LEADCONNECTOR', editable: false });
    expect(hook!.url).toMatch(/\/webhooks\/leadconnector$/);
    const attempts = [
      t.gql(CREATE, { input: { provider: 'LEADCONNECTOR', url: 'https://hooks.example.com/hl', eventTypes: ['InboundMessage'] } }),
      t.gql(UPDATE, { id: hook!.id, input: { url: 'https://hooks.example.com/hl' } }),
      t.gql(DELETE, { id: hook!.id }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED_BY_PROVIDER');
      expect(res.errors?.[0]?.message).toContain('Marketplace');
    }
    expect(await listWebhooks(t, 'LEADCONNECTOR', [])).toEqual(hooks);
  },

  async smooch(t, p) {
    const emulator = t.emulators.SMOOCH as SmoochEmulator;
    const sandboxSecret = emulator.providerConfig().webhookSecret;
    const url = `${t.url}/webhooks/smooch`;
    const created = await t.gql<{ createWebhook: WebhookNode }>(CREATE, { input: { provider: 'SMOOCH', url, eventTypes: ['conversation:message'] } });
    expect(created.errors).toBeUndefined();
    const hook = created.data!.createWebhook;
    expect(hook).toMatchObject({ provider: 'SMOOCH', url, eventTypes: ['conversation:message'], hasSecret: true, editable: true });

    // The gateway's own record of the secret Smooch generated.
    const mirrored = await t.gateway.store.getWebhook('SMOOCH', hook.providerId);
    const secret = mirrored?.secret ?? '';
    expect(secret).not.toBe('');
    expect(secret).not.toBe(sandboxSecret);
    const [integrationId, webhookId] = hook.providerId.split('/');
    const upstream = emulator.data.integrations.find((i) => i.id === integrationId)?.webhooks?.find((w) => w.id === webhookId);
    expect(upstream?.secret).toBe(secret);

    const listed = await listWebhooks(t, 'SMOOCH', [secret, sandboxSecret]);
    expect(listed.find((h) => h.providerId === hook.providerId)).toMatchObject({ hasSecret: true });

    const signed = await p.authentic(t);
    const withSecret = { raw: signed.raw, headers: { 'x-api-key': secret } };
    expect((await t.webhook('smooch', withSecret.raw, withSecret.headers)).status).toBe(200);
    // Smooch itself delivers to the new webhook with that secret.
    const emitted = await emulator.emitMessageEvent('RECEIVED');
    expect(emitted.deliveries).toContainEqual({ url, status: 200 });

    const updated = await t.gql<{ updateWebhook: WebhookNode }>(UPDATE, {
      id: hook.id,
      input: { url: `${url}?v=2`, eventTypes: ['conversation:message', 'conversation:message:delivery:failure'] },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateWebhook).toMatchObject({
      providerId: hook.providerId,
      url: `${url}?v=2`,
      eventTypes: ['conversation:message', 'conversation:message:delivery:failure'],
      hasSecret: true,
    });
    expect(upstream).toMatchObject({ target: `${url}?v=2`, triggers: ['conversation:message', 'conversation:message:delivery:failure'] });
    expect((await t.gql<{ webhook: WebhookNode }>(WEBHOOK, { id: hook.id })).data!.webhook).toMatchObject({ url: `${url}?v=2`, hasSecret: true });

    const deleted = await t.gql<{ deleteWebhook: WebhookNode }>(DELETE, { id: hook.id });
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data!.deleteWebhook.providerId).toBe(hook.providerId);
    expect(emulator.data.integrations.some((i) => i.id === integrationId)).toBe(false);
    expect(await t.gateway.store.getWebhook('SMOOCH', hook.providerId)).toBeNull();
    expect((await t.gql<{ webhook: unknown }>(WEBHOOK, { id: hook.id })).data!.webhook).toBeNull();
    // Its secret no longer opens the door.
    const late = await p.authentic(t);
    expect((await t.webhook('smooch', late.raw, { 'x-api-key': secret })).status).toBe(401);
  },
};
