// Limits come before work, the same on both transports: document size, depth,
// aliases and the upstream cost estimate are refused before any resolver or
// upstream call, with the same codes over HTTP and graphql-ws; oversized bodies
// and messages are refused without being read to the end.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openAcknowledged, useTestGateway, VIEWER_KEY, type TestGateway } from './helpers/gateway.js';

interface WsMessage {
  readonly type: string;
  readonly payload: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } & Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** The first message graphql-ws answers one operation with (next or error). */
async function overWs(t: TestGateway, query: string, key = VIEWER_KEY, variables?: Record<string, unknown>): Promise<{ type: string; errors: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
  const socket = await openAcknowledged(t.url, key);
  const answer = new Promise<WsMessage>((resolve) =>
    socket.on('message', (m) => {
      const message = JSON.parse(String(m)) as WsMessage & { id?: string };
      if (message.id === '1') resolve(message);
    }),
  );
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
  const message = await answer;
  socket.close();
  return { type: message.type, errors: message.type === 'error' ? message.payload : (message.payload.errors ?? []) };
}

const INBOX = `{ conversations(provider: PODIUM, first: 50) { edges { node { id contact { name } assignedUser { name }
  messages(first: 10) { edges { node { id body sender { __typename ... on User { name } ... on Contact { name } } } } } } } } }`;

function deep(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `conversation { messages(first: 1) { edges { node { ${inner} } } } }`;
  return `{ conversations(provider: PODIUM, first: 1) { edges { node { messages(first: 1) { edges { node { ${inner} } } } } } } }`;
}

describe('operation limits', () => {
  it('refuses a query deeper than the limit on HTTP and graphql-ws alike, before any upstream call', async () => {
    const t = await useTestGateway();
    t.podium.resetRequests();
    const http = await t.gql(deep(4), {}, VIEWER_KEY);
    expect(http.status).toBe(400);
    expect(http.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(http.errors?.[0]?.message).toMatch(/depth limit of 10 exceeded/);
    const ws = await overWs(t, deep(4));
    expect(ws.type).toBe('error');
    expect(ws.errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(ws.errors[0]?.message).toMatch(/depth limit of 10 exceeded/);
    expect(t.podium.requestCount()).toBe(0);
  });

  it('refuses more aliases than the limit on both transports', async () => {
    const t = await useTestGateway();
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: node(id: "x") { id }`).join(' ');
    const http = await t.gql(`{ ${aliases} }`);
    expect(http.errors?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(http.errors?.[0]?.message).toMatch(/Aliases limit of 30 exceeded/);
    const ws = await overWs(t, `{ ${aliases} }`);
    expect(ws.errors[0]?.message).toMatch(/Aliases limit of 30 exceeded/);
  });

  it('refuses a document over the token limit as a parse failure on both transports', async () => {
    const t = await useTestGateway();
    const big = `{ ${Array.from({ length: 2_500 }, () => '__typename').join(' ')} }`;
    const http = await t.gql(big);
    expect(http.errors?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    expect(http.errors?.[0]?.message).toMatch(/more that 2000 tokens/);
    const ws = await overWs(t, big);
    expect(ws.errors[0]).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  });

  it('refuses a query whose worst-case upstream calls exceed the budget, naming estimate and limit, and calls nothing', async () => {
    const t = await useTestGateway();
    t.podium.resetRequests();
    const fanOut = `{ conversations(provider: PODIUM, first: 100) { edges { node { messages(first: 100) { edges { node { sender { __typename } } } } } } } }`;
    const http = await t.gql(fanOut);
    expect(http.status).toBe(400);
    expect(http.errors?.[0]?.extensions).toEqual({ code: 'QUERY_TOO_EXPENSIVE', cost: 1 + 100 * (1 + 100), maxCost: 1_000 });
    const ws = await overWs(t, fanOut);
    expect(ws.errors[0]?.extensions).toEqual({ code: 'QUERY_TOO_EXPENSIVE', cost: 10_101, maxCost: 1_000 });
    // Variables count: the same shape is cheap with small pages.
    const vars = await t.gql(
      `query($n: Int) { conversations(provider: PODIUM, first: $n) { edges { node { messages(first: $n) { edges { node { sender { __typename } } } } } } } }`,
      { n: 200 },
    );
    expect(vars.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_EXPENSIVE');
    expect(t.podium.requestCount()).toBe(0);
    // Aliases multiply: 40 cheap lists in one document are 40 lists.
    const aliased = await t.gql(`{ ${Array.from({ length: 25 }, (_, i) => `c${i}: conversations(provider: PODIUM, first: 100) { edges { node { contact { name } } } }`).join(' ')} }`);
    expect(aliased.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_EXPENSIVE', cost: 25 * 101 });
    expect(t.podium.requestCount()).toBe(0);
    // The inbox query a frontend sends fits the default budget.
    const inbox = await t.gql(INBOX);
    expect(inbox.errors).toBeUndefined();
  });

  it('closes a graphql-ws socket that sends a message over the size limit, and keeps serving others', async () => {
    const t = await useTestGateway({ env: { GATEWAY_GRAPHQL_MAX_BYTES: '65536' } });
    const socket = await openAcknowledged(t.url);
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ __typename } # ${'x'.repeat(70_000)}` } }));
    expect(await closed).toBe(1009);
    expect((await overWs(t, '{ __typename }')).type).toBe('next');
  });
});

describe('graphql-ws answers like HTTP', () => {
  it('reports validation errors with GRAPHQL_VALIDATION_FAILED, not as internal errors', async () => {
    const t = await useTestGateway();
    const typo = await overWs(t, 'subscription { messageSent { idd } }');
    expect(typo.type).toBe('error');
    expect(typo.errors[0]).toMatchObject({ message: expect.stringMatching(/Cannot query field "idd"/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    const badEnum = await overWs(t, 'subscription { messageSent(filter: { provider: NOPE }) { id } }');
    expect(badEnum.errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('gives execution errors their code and no internal extensions', async () => {
    const t = await useTestGateway();
    const bad = await overWs(t, 'subscription { messageSent(filter: { conversationId: "garbage!" }) { id } }');
    expect(bad.errors[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentValue: 'garbage!' });
    const variables = await overWs(t, 'query($n: Int!) { users(provider: PODIUM, first: $n) { edges { cursor } } }', VIEWER_KEY, { n: 'many' });
    expect(variables.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a mutation over graphql-ws with a viewer key, as HTTP does', async () => {
    const t = await useTestGateway();
    const mutation = 'mutation { deleteWebhook(id: "x") { id } }';
    const ws = await overWs(t, mutation);
    expect(ws.errors[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.gql(mutation, {}, VIEWER_KEY)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('with introspection off, refuses introspection and names no fields in suggestions, on both transports', async () => {
    const t = await useTestGateway({ env: { GATEWAY_INTROSPECTION: 'false' } });
    const introspection = '{ __schema { types { name } } }';
    expect((await t.gql(introspection)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await overWs(t, introspection)).errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const typo = '{ conversation(id: "x") { contatc { id } } }';
    for (const answer of [(await t.gql(typo)).errors?.[0], (await overWs(t, typo)).errors[0]]) {
      expect(answer?.message).toBe('Cannot query field "contatc" on type "Conversation".');
    }
  });
});

describe('request bodies', () => {
  it('answers an oversized /graphql body 413 and closes the connection without reading the rest', async () => {
    const t = await useTestGateway();
    const { port } = new URL(t.url);
    const socket = connect(Number(port), '127.0.0.1');
    let response = '';
    socket.on('data', (d) => (response += String(d)));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${50 * 1024 * 1024}\r\n\r\n{"query":"`);
    await ended;
    expect(response).toMatch(/^HTTP\/1.1 413/);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(response).toContain('"code":"PAYLOAD_TOO_LARGE"');
  });

  it('answers 415 with a GraphQL error body for a POST that is not JSON, and 400 for broken JSON', async () => {
    const t = await useTestGateway();
    const text = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{ __typename }' });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] });
    const broken = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it('answers a malformed messageEvents cursor with BAD_USER_INPUT', async () => {
    const t = await useTestGateway();
    const res = await t.gql('{ messageEvents(after: "not-a-cursor") { edges { cursor } } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
