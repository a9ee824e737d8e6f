// Queries through the real gateway against the Podium emulator: Relay paging,
// global ids, DataLoader batching (upstream requests counted by the emulator),
// auth, and provider failures mapped to error codes with partial data.
import { describe, expect, it } from 'vitest';
import { encodeId } from '../src/ids.js';
import { ADMIN_KEY, VIEWER_KEY, useTestGateway, type GraphQLResponse } from './helpers/gateway.js';

interface Conn<T> {
  edges: Array<{ node: T; cursor: string }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null; hasPreviousPage: boolean };
}

const CONTACTS = `query($first: Int, $after: String) {
  contacts(provider: PODIUM, first: $first, after: $after) {
    edges { cursor node { id providerId name provider } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`;

describe('queries over Podium', () => {
  it('pages contacts to the end with Relay cursors, each contact exactly once, and back again from an earlier cursor', async () => {
    const t = await useTestGateway();
    const seen: string[] = [];
    const cursors: Array<string | null> = [null];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const res: GraphQLResponse<{ contacts: Conn<{ id: string; providerId: string }> }> = await t.gql(CONTACTS, { first: 7, after });
      expect(res.errors).toBeUndefined();
      const page: Conn<{ id: string; providerId: string }> = res.data!.contacts;
      seen.push(...page.edges.map((e) => e.node.providerId));
      expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
      cursors.push(after);
    }
    expect(seen.length).toBe(t.podium.fixtures.contactIds.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(t.podium.fixtures.contactIds));

    // Going back: an earlier cursor gives the same page again.
    const again = await t.gql<{ contacts: Conn<{ providerId: string }> }>(CONTACTS, { first: 7, after: cursors[2] });
    expect(again.data!.contacts.edges.map((e) => e.node.providerId)).toEqual(seen.slice(14, 21));
  });

  it('resumes mid-page from an edge cursor', async () => {
    const t = await useTestGateway();
    const all = await t.gql<{ contacts: Conn<{ providerId: string }> }>(CONTACTS, { first: 10 });
    const third = all.data!.contacts.edges[2]!;
    const rest = await t.gql<{ contacts: Conn<{ providerId: string }> }>(CONTACTS, { first: 5, after: third.cursor });
    expect(rest.data!.contacts.edges.map((e) => e.node.providerId)).toEqual(all.data!.contacts.edges.slice(3, 8).map((e) => e.node.providerId));
  });

  it('rejects first above 100 and a foreign cursor with BAD_USER_INPUT before calling Podium', async () => {
    const t = await useTestGateway();
    t.podium.resetRequests();
    const big = await t.gql(CONTACTS, { first: 101 });
    expect(big.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(big.errors?.[0]?.message).toContain('101');
    const bad = await t.gql(CONTACTS, { first: 5, after: 'not-a-cursor' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(t.podium.requestCount()).toBe(0);
  });

  it('answers a malformed id with BAD_USER_INPUT and an unknown one with null', async () => {
    const t = await useTestGateway();
    const malformed = await t.gql(`{ contact(id: "garbage!") { id } }`);
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const wrongType = await t.gql(`query($id: ID!) { contact(id: $id) { id } }`, {
      id: encodeId('PODIUM', 'User', t.podium.fixtures.userIds[0]!),
    });
    expect(wrongType.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await t.gql(`query($id: ID!, $c: ID!, $u: ID!) { contact(id: $id) { id } conversation(id: $c) { id } user(id: $u) { id } }`, {
      id: encodeId('PODIUM', 'Contact', '00000000-0000-4000-8000-000000000000'),
      c: encodeId('PODIUM', 'Conversation', '00000000-0000-4000-8000-000000000000'),
      u: encodeId('PODIUM', 'User', '00000000-0000-4000-8000-000000000000'),
    });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data).toEqual({ contact: null, conversation: null, user: null });
  });

  it('fetches any entity again through node(id)', async () => {
    const t = await useTestGateway();
    const list = await t.gql<{ conversations: Conn<{ id: string; providerId: string }> }>(
      `{ conversations(provider: PODIUM, first: 1) { edges { node { id providerId } } } }`,
    );
    const conv = list.data!.conversations.edges[0]!.node;
    const res = await t.gql<{ node: { __typename: string; providerId: string } }>(
      `query($id: ID!) { node(id: $id) { __typename ... on Conversation { providerId } } }`,
      { id: conv.id },
    );
    expect(res.data!.node).toEqual({ __typename: 'Conversation', providerId: conv.providerId });
  });

  it("keeps the environment's ids as they were (no account in them) and names its account on every entity", async () => {
    const t = await useTestGateway();
    const [contactId] = t.podium.fixtures.contactIds;
    const res = await t.gql<{ contacts: Conn<{ id: string; providerId: string; account: { id: string; fromEnvironment: boolean } }>; contact: { id: string } | null }>(
      `query($id: ID!) { contacts(provider: PODIUM, first: 3) { edges { node { id providerId account { id fromEnvironment } } } } contact(id: $id) { id } }`,
      { id: encodeId('PODIUM', 'Contact', contactId!) },
    );
    expect(res.errors).toBeUndefined();
    for (const { node } of res.data!.contacts.edges) {
      expect(node.id).toBe(Buffer.from(`PODIUM:Contact:${node.providerId}`).toString('base64url'));
      expect(node.account).toEqual({ id: encodeId('PODIUM', 'Account', 'env'), fromEnvironment: true });
    }
    expect(res.data!.contact?.id).toBe(encodeId('PODIUM', 'Contact', contactId!));
  });

  it('resolves 50 conversations with contact, assignee and 10 messages with senders in one request per distinct entity', async () => {
    const t = await useTestGateway();
    t.podium.resetRequests();
    const res = await t.gql<{
      conversations: Conn<{
        providerId: string;
        contact: { name: string } | null;
        assignedUser: { providerId: string; name: string } | null;
        messages: Conn<{ sender: { __typename: string; providerId?: string } | null }>;
      }>;
    }>(`{
      conversations(provider: PODIUM, first: 50) {
        edges { node {
          providerId
          contact { name }
          assignedUser { providerId name }
          messages(first: 10) { edges { node { id body direction sender {
            __typename
            ... on User { providerId name }
            ... on Contact { providerId name }
            ... on BusinessAuthor { name }
          } } } }
        } }
      }
    }`);
    expect(res.errors).toBeUndefined();
    const conversations = res.data!.conversations.edges.map((e) => e.node);
    expect(conversations).toHaveLength(50);
    const userIds = new Set<string>();
    for (const c of conversations) {
      expect(c.contact?.name).toBeTruthy();
      if (c.assignedUser) userIds.add(c.assignedUser.providerId);
      for (const m of c.messages.edges) if (m.node.sender?.__typename === 'User') userIds.add(m.node.sender.providerId!);
    }
    expect(userIds.size).toBeGreaterThan(1);

    const count = (prefix: string) => t.podium.requests.filter((r) => r.path.startsWith(prefix));
    // One list request, one contact lookup per conversation (Podium has no contact id on a
    // conversation; the contact loader keys by conversation uid and senders reuse it), one
    // lookup per distinct user, one message page per conversation. Nothing twice.
    expect(count('/v4/conversations').filter((r) => r.path === '/v4/conversations')).toHaveLength(1);
    expect(count('/v4/contacts/')).toHaveLength(50);
    expect(count('/v4/users/')).toHaveLength(userIds.size);
    expect(t.podium.requests.filter((r) => /^\/v4\/conversations\/[^/]+\/messages$/.test(r.path))).toHaveLength(50);
    expect(t.podium.requestCount()).toBe(1 + 50 + userIds.size + 50);
    const paths = t.podium.requests.map((r) => r.path + r.query);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('answers a query with no key UNAUTHENTICATED (401) and a viewer mutation FORBIDDEN, calling Podium for neither', async () => {
    const t = await useTestGateway();
    t.podium.resetRequests();
    const anonymous = await t.gql(CONTACTS, { first: 1 }, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const wrong = await t.gql(CONTACTS, { first: 1 }, 'not-a-key');
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const viewer = await t.gql(`mutation { deleteWebhook(id: "x") { id } }`, {}, VIEWER_KEY);
    expect(viewer.status).toBe(403);
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const viewerEvents = await t.gql(`{ messageEvents(first: 1) { edges { cursor } } }`, {}, VIEWER_KEY);
    expect(viewerEvents.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(t.podium.requestCount()).toBe(0);
    const ok = await t.gql(CONTACTS, { first: 1 }, VIEWER_KEY);
    expect(ok.errors).toBeUndefined();
  });

  it('maps Podium failures to error codes and keeps the fields that resolved', async () => {
    const t = await useTestGateway({ env: { GATEWAY_UPSTREAM_MAX_RETRIES: '1' } });
    const [first, second] = t.podium.fixtures.contactIds;
    const query = `query($a: ID!, $b: ID!) { a: contact(id: $a) { providerId } b: contact(id: $b) { providerId } }`;
    const vars = { a: encodeId('PODIUM', 'Contact', first!), b: encodeId('PODIUM', 'Contact', second!) };

    t.podium.injectFault({ pathPrefix: `/v4/contacts/${second}`, status: 503, times: 2 });
    const unavailable = await t.gql<{ a: { providerId: string } | null; b: unknown }>(query, vars);
    expect(unavailable.data!.a).toEqual({ providerId: first });
    expect(unavailable.data!.b).toBeNull();
    expect(unavailable.errors).toHaveLength(1);
    expect(unavailable.errors?.[0]?.path).toEqual(['b']);
    expect(unavailable.errors?.[0]?.extensions?.code).toBe('PROVIDER_UNAVAILABLE');

    t.podium.injectFault({ pathPrefix: `/v4/contacts/${second}`, status: 429, times: 2, retryAfterSeconds: 0 });
    const limited = await t.gql(query, vars);
    expect(limited.errors?.[0]?.extensions?.code).toBe('PROVIDER_RATE_LIMITED');

    t.podium.injectFault({ pathPrefix: `/v4/contacts/${second}`, status: 429, times: 1, retryAfterSeconds: 0 });
    const retried = await t.gql(query, vars);
    expect(retried.errors).toBeUndefined();
    expect(retried.data).toEqual({ a: { providerId: first }, b: { providerId: second } });
  });

  it('answers PROVIDER_NOT_CONFIGURED for a provider without credentials', async () => {
    const t = await useTestGateway();
    const res = await t.gql(`{ users(provider: SMOOCH, first: 1) { edges { cursor } } }`, {}, ADMIN_KEY);
    expect(res.errors?.[0]?.extensions?.code).toBe('PROVIDER_NOT_CONFIGURED');
  });

  it('filters conversations by closed, assignee and contact, following Podium cursors to fill the page', async () => {
    const t = await useTestGateway();
    type Row = { id: string; providerId: string; closed: boolean; assignedUser: { id: string } | null; contact: { id: string } | null };
    const FIELDS = 'id providerId closed assignedUser { id } contact { id }';
    const all = await t.gql<{ conversations: Conn<Row> }>(`{ conversations(provider: PODIUM, first: 100) { edges { node { ${FIELDS} } } pageInfo { hasNextPage } } }`);
    const rows = all.data!.conversations.edges.map((e) => e.node);
    expect(rows).toHaveLength(100);
    expect(all.data!.conversations.pageInfo.hasNextPage).toBe(false);

    const page = async (filter: Record<string, unknown>, first: number) => {
      const ids: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 20; i++) {
        const res: GraphQLResponse<{ conversations: Conn<Row> }> = await t.gql(
          `query($f: ConversationFilter, $first: Int, $after: String) { conversations(provider: PODIUM, first: $first, after: $after, filter: $f) { edges { node { ${FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
          { f: filter, first, after },
        );
        expect(res.errors).toBeUndefined();
        ids.push(...res.data!.conversations.edges.map((e) => e.node.providerId));
        if (!res.data!.conversations.pageInfo.hasNextPage) break;
        after = res.data!.conversations.pageInfo.endCursor;
      }
      return ids;
    };

    const closed = rows.filter((r) => r.closed).map((r) => r.providerId);
    expect(closed.length).toBeGreaterThan(0);
    expect(closed.length).toBeLessThan(100);
    t.podium.resetRequests();
    expect(await page({ closed: true }, 5)).toEqual(closed);
    // Podium cannot filter on closed: the gateway read more than one upstream page to fill pages of 5.
    expect(t.podium.requests.filter((r) => r.path === '/v4/conversations').length).toBeGreaterThan(closed.length / 5);

    const assignee = rows.find((r) => r.assignedUser)!.assignedUser!.id;
    expect(await page({ assignedUserId: assignee }, 7)).toEqual(rows.filter((r) => r.assignedUser?.id === assignee).map((r) => r.providerId));

    const contact = rows[0]!.contact!.id;
    const ofContact = rows.filter((r) => r.contact?.id === contact).map((r) => r.providerId);
    expect(ofContact.length).toBeGreaterThan(1); // seeded contacts have more than one conversation
    expect(await page({ contactId: contact }, 10)).toEqual(ofContact);

    const wrongProvider = await t.gql(`query($c: ID!) { conversations(provider: PODIUM, filter: { contactId: $c }) { edges { cursor } } }`, {
      c: encodeId('SMOOCH', 'Contact', 'x'),
    });
    expect(wrongProvider.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
