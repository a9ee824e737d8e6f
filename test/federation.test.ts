// The gateway as an Apollo Federation 2 subgraph: composed with a small CRM
// subgraph (a Customer that references a Contact) by @apollo/composition,
// served by a real federation gateway (Hive Gateway's runtime), queried across
// both; entity references go through the same loaders as direct queries, so
// they cost the same Podium requests. Also: _entities is costed, _service
// follows the introspection setting, inline traces only when configured.
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { describe, expect, it, onTestFinished } from 'vitest';
import { encodeId } from '../src/ids.js';
import { printSubgraphSchema } from '../src/schema.js';
import { ADMIN_KEY, VIEWER_KEY, useTestGateway, type TestGateway } from './helpers/gateway.js';
import { startSupergraph } from './helpers/supergraph.js';

interface Customer {
  readonly id: string;
  readonly name: string;
  readonly contactId: string;
  readonly accountManagerId: string;
}

/** A CRM subgraph of its own: customers that point at this gateway's contacts and users by global id. */
async function startCrmSubgraph(customers: readonly Customer[]): Promise<{ url: string; typeDefs: string }> {
  const typeDefs = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Customer @key(fields: "id") {
      id: ID!
      name: String!
      contact: Contact
      accountManager: User
    }
    type Contact @key(fields: "id", resolvable: false) {
      id: ID!
    }
    type User @key(fields: "id", resolvable: false) {
      id: ID!
    }
    type Query {
      customers: [Customer!]!
    }
  `;
  const server = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: parse(typeDefs),
      resolvers: {
        Query: { customers: () => customers },
        Customer: {
          contact: (c: Customer) => ({ __typename: 'Contact', id: c.contactId }),
          accountManager: (c: Customer) => ({ __typename: 'User', id: c.accountManagerId }),
        },
      },
    }),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  onTestFinished(() => server.stop());
  return { url, typeDefs };
}

/** The supergraph of this gateway and the CRM subgraph, served by Hive Gateway. */
async function startSupergraphWith(t: TestGateway, crm: { url: string; typeDefs: string }): Promise<string> {
  return startSupergraph([
    { name: 'messaging', url: `${t.url}/graphql`, typeDefs: await printSubgraphSchema() },
    { name: 'crm', url: crm.url, typeDefs: crm.typeDefs },
  ]);
}

async function post(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${VIEWER_KEY}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }>; extensions?: Record<string, unknown> } };
}

describe('federation subgraph', () => {
  it('answers a supergraph query across a CRM subgraph and this one with the upstream requests of the same direct query', async () => {
    // The direct query below has 100 aliases: more than the default limits allow.
    const t = await useTestGateway({ providers: ['PODIUM', 'LEADCONNECTOR'], env: { GATEWAY_GRAPHQL_MAX_ALIASES: '120', GATEWAY_GRAPHQL_MAX_TOKENS: '5000' } });
    const highLevel = t.emulators.LEADCONNECTOR!;
    // 50 customers over 25 Podium contacts and 10 HighLevel users: Podium has one request per contact
    // (the loaders' dedupe shows), HighLevel looks users up in batches (the loaders' batching shows).
    const contactIds = t.podium.fixtures.contactIds.slice(0, 25).map((id) => encodeId('PODIUM', 'Contact', id));
    const userIds = (highLevel.fixtures as { userIds: readonly string[] }).userIds.map((id) => encodeId('LEADCONNECTOR', 'User', id));
    const customers: Customer[] = Array.from({ length: 50 }, (_, i) => ({
      id: `cus_${i}`,
      name: `Customer ${i}`,
      contactId: contactIds[i % contactIds.length]!,
      accountManagerId: userIds[i % userIds.length]!,
    }));
    const supergraph = await startSupergraphWith(t, await startCrmSubgraph(customers));
    const count = () => ({ podium: t.podium.requestCount(), highLevel: highLevel.requestCount() });
    const reset = () => {
      t.podium.resetRequests();
      highLevel.resetRequests();
    };

    reset();
    const crossed = await post(supergraph, { query: '{ customers { id name contact { id name emails provider } accountManager { id name role } } }' });
    const federated = count();
    expect(crossed.body.errors).toBeUndefined();
    type Row = { id: string; name: string; contact: Record<string, unknown>; accountManager: Record<string, unknown> };
    const got = (crossed.body.data as { customers: Row[] }).customers;
    expect(got.map((c) => c.name)).toEqual(customers.map((c) => c.name));

    reset();
    const direct = await t.gql<Record<string, Record<string, unknown>>>(
      `{ ${customers.map((c, i) => `c${i}: contact(id: "${c.contactId}") { id name emails provider } u${i}: user(id: "${c.accountManagerId}") { id name role }`).join(' ')} }`,
    );
    const directCount = count();
    expect(direct.errors).toBeUndefined();

    // The same contacts and users, in the customers' order, as this gateway answers them directly.
    expect(got.map((c) => c.contact)).toEqual(customers.map((_, i) => direct.data![`c${i}`]));
    expect(got.map((c) => c.accountManager)).toEqual(customers.map((_, i) => direct.data![`u${i}`]));
    expect(got.map((c) => c.contact.id)).toEqual(customers.map((c) => c.contactId));
    // One Podium request per distinct contact and one HighLevel user search, on both paths.
    expect(directCount).toEqual({ podium: 25, highLevel: 1 });
    expect(federated).toEqual(directCount);
  });

  it('resolves references of every entity type through _entities, null for an unknown one, and Webhook for admins only', async () => {
    const t = await useTestGateway();
    const [conversationId] = t.podium.fixtures.conversationIds;
    const [userId] = t.podium.fixtures.userIds;
    const query = `query($r: [_Any!]!) { _entities(representations: $r) {
      __typename ... on Conversation { id channel } ... on User { id name } ... on Contact { id } ... on Webhook { id }
    } }`;
    const representations = [
      { __typename: 'Conversation', id: encodeId('PODIUM', 'Conversation', conversationId!) },
      { __typename: 'User', id: encodeId('PODIUM', 'User', userId!) },
      { __typename: 'Contact', id: encodeId('PODIUM', 'Contact', '00000000-0000-4000-8000-000000000000') },
    ];
    const res = await post(`${t.url}/graphql`, { query, variables: { r: representations } });
    expect(res.body.errors).toBeUndefined();
    const entities = (res.body.data as { _entities: Array<Record<string, unknown> | null> })._entities;
    expect(entities[0]).toMatchObject({ __typename: 'Conversation', id: representations[0]!.id });
    expect(entities[1]).toMatchObject({ __typename: 'User', id: representations[1]!.id });
    expect(entities[2]).toBeNull();

    const webhook = { __typename: 'Webhook', id: encodeId('PODIUM', 'Webhook', '00000000-0000-4000-8000-000000000000') };
    const asViewer = await post(`${t.url}/graphql`, { query, variables: { r: [webhook] } });
    expect(asViewer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const malformed = await post(`${t.url}/graphql`, { query, variables: { r: [{ __typename: 'Contact', id: 'garbage!' }] } });
    expect(malformed.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('costs _entities by its representations and refuses an expensive one before any Podium request', async () => {
    const t = await useTestGateway();
    const id = encodeId('PODIUM', 'Conversation', t.podium.fixtures.conversationIds[0]!);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Conversation { messages(first: 100) { edges { node { id sender { __typename } } } } }
    } }`;
    t.podium.resetRequests();
    // Per representation: 1 load + 1 page + 100 senders = 102; 10 of them exceed the default 1,000.
    const res = await post(`${t.url}/graphql`, { query, variables: { r: Array.from({ length: 10 }, () => ({ __typename: 'Conversation', id })) } });
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_EXPENSIVE', cost: 1020, maxCost: 1000 });
    expect(t.podium.requestCount()).toBe(0);

    const one = await post(`${t.url}/graphql`, { query, variables: { r: [{ __typename: 'Conversation', id }] } });
    expect(one.body.errors).toBeUndefined();
  });

  it('serves _service (the subgraph SDL) only where introspection is on', async () => {
    const open = await useTestGateway();
    const sdl = await post(`${open.url}/graphql`, { query: '{ _service { sdl } }' });
    expect((sdl.body.data as { _service: { sdl: string } })._service.sdl).toContain('type Contact');
    expect((sdl.body.data as { _service: { sdl: string } })._service.sdl).toMatch(/@key\(fields: "id"\)/);

    const closed = await useTestGateway({ env: { GATEWAY_INTROSPECTION: 'false' } });
    const refused = await post(`${closed.url}/graphql`, { query: '{ _service { sdl } }' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refused.body.errors?.[0]?.message).toContain('npm run schema:subgraph');
  });

  it('adds an inline trace (ftv1) only when GATEWAY_FEDERATION_TRACES is on and the caller holds an admin key', async () => {
    const header = { 'apollo-federation-include-trace': 'ftv1' };
    const query = { query: '{ __typename }' };
    const off = await useTestGateway();
    expect((await post(`${off.url}/graphql`, query, { ...header, authorization: `Bearer ${ADMIN_KEY}` })).body.extensions?.ftv1).toBeUndefined();

    const on = await useTestGateway({ env: { GATEWAY_FEDERATION_TRACES: 'true' } });
    expect((await post(`${on.url}/graphql`, query, { ...header, authorization: `Bearer ${ADMIN_KEY}` })).body.extensions?.ftv1).toEqual(expect.any(String));
    expect((await post(`${on.url}/graphql`, query, header)).body.extensions?.ftv1).toBeUndefined();
  });
});
