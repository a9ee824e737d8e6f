// Traces through the real gateway against the Podium emulator, recorded by the
// OpenTelemetry SDK's InMemorySpanExporter: an operation span per GraphQL
// operation on both transports with the upstream calls as its children
// (provider, route template, status, retries), and a webhook span with its
// verify, store, invalidate and publish steps.
import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeId } from '../src/ids.js';
import { startTelemetry, type Telemetry } from '../src/telemetry/sdk.js';
import { setTracingEnabled } from '../src/telemetry/tracer.js';
import { podiumDelivery } from './helpers/events.js';
import { collect, useTestGateway } from './helpers/gateway.js';

/** The SDK's in-memory exporter, which also lets a test wait for a span that ends after the response. */
class WatchedExporter extends InMemorySpanExporter {
  private waiters: Array<{ name: string; resolve: (span: ReadableSpan) => void }> = [];
  override export(spans: ReadableSpan[], done: Parameters<InMemorySpanExporter['export']>[1]): void {
    super.export(spans, done);
    for (const span of spans) {
      this.waiters = this.waiters.filter((w) => (w.name === span.name ? (w.resolve(span), false) : true));
    }
  }
  /** Resolves with the first span of that name, already exported or still to come. */
  next(name: string): Promise<ReadableSpan> {
    const done = this.getFinishedSpans().find((s) => s.name === name);
    return done ? Promise.resolve(done) : new Promise((resolve) => this.waiters.push({ name, resolve }));
  }
}

const exporter = new WatchedExporter();
let telemetry: Telemetry;

beforeAll(async () => {
  telemetry = await startTelemetry({ kind: 'exporter', exporter, serviceName: 'gateway-test' });
});
afterAll(() => telemetry.shutdown());
beforeEach(() => exporter.reset());

const spanId = (s: ReadableSpan): string => s.spanContext().spanId;
const childrenOf = (parent: ReadableSpan, spans = exporter.getFinishedSpans()): ReadableSpan[] => spans.filter((s) => s.parentSpanContext?.spanId === spanId(parent));
function only(name: string, spans = exporter.getFinishedSpans()): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  expect(found.map((s) => s.name), `spans named ${name} among ${spans.map((s) => s.name).join(', ')}`).toEqual([name]);
  return found[0]!;
}

const INBOX = `query Inbox {
  conversations(provider: PODIUM, first: 3) {
    edges { node { id contact { name } assignedUser { name } messages(first: 2) { edges { node { body } } } } }
  }
}`;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('traces of GraphQL operations', () => {
  it('gives a query an operation span whose children are its upstream calls, named by route template with provider and status', async () => {
    const t = await useTestGateway();
    t.podium.resetRequests();
    const res = await t.gql(INBOX);
    expect(res.errors).toBeUndefined();

    const op = only('query Inbox');
    expect(op.kind).toBe(SpanKind.SERVER);
    expect(op.attributes).toMatchObject({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'Inbox', 'gateway.graphql.transport': 'http' });
    expect(op.status.code).toBe(SpanStatusCode.UNSET);
    expect(op.resource.attributes['service.name']).toBe('gateway-test');

    const upstream = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    // One span per request the emulator answered, each a direct child of the operation.
    expect(upstream).toHaveLength(t.podium.requestCount());
    expect(childrenOf(op)).toHaveLength(upstream.length);
    for (const span of upstream) {
      expect(span.spanContext().traceId).toBe(op.spanContext().traceId);
      expect(span.attributes).toMatchObject({ 'gateway.provider': 'PODIUM', 'http.request.method': 'GET', 'http.response.status_code': 200, 'gateway.upstream.retries': 0 });
      const route = String(span.attributes['url.template']);
      expect(span.name).toBe(`GET ${route}`);
      // Templates, never concrete paths: no conversation uid in a name or a route.
      expect(route).not.toMatch(UUID);
    }
    const routes = new Set(upstream.map((s) => s.attributes['url.template']));
    expect(routes).toContain('/v4/conversations');
    expect(routes).toContain('/v4/conversations/{uid}/messages');
    expect(routes).not.toContain('(unnamed route)');
  });

  it('names the upstream calls of HighLevel and Smooch by route template too, ids left out', async () => {
    const t = await useTestGateway({ providers: ['LEADCONNECTOR', 'SMOOCH'] });
    const smoochUser = t.emulators.SMOOCH!.fixtures.contactIds[0]!;
    const messages = 'edges { node { id contact { name } messages(first: 2) { edges { node { body } } } } }';
    const res = await t.gql(`query Both($user: ID!) {
      hl: conversations(provider: LEADCONNECTOR, first: 2) { ${messages} }
      sc: conversations(provider: SMOOCH, first: 2, filter: { contactId: $user }) { ${messages} }
    }`, { user: encodeId('SMOOCH', 'Contact', smoochUser) });
    expect(res.errors).toBeUndefined();

    const upstream = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    const byProvider = (p: string) => new Set(upstream.filter((s) => s.attributes['gateway.provider'] === p).map((s) => s.name));
    expect(byProvider('LEADCONNECTOR')).toEqual(new Set(['GET /conversations/search', 'GET /conversations/{conversationId}/messages', 'GET /contacts/{contactId}']));
    expect(byProvider('SMOOCH')).toContain('GET /v2/apps/{appId}/conversations');
    expect(byProvider('SMOOCH')).toContain('GET /v2/apps/{appId}/conversations/{id}/messages');
    const ids = [smoochUser, ...t.emulators.SMOOCH!.fixtures.conversationIds, ...t.emulators.LEADCONNECTOR!.fixtures.conversationIds];
    for (const span of upstream) {
      expect(span.attributes['http.response.status_code']).toBe(200);
      for (const id of ids) expect(span.name).not.toContain(id);
    }
  });

  it('records a retried upstream call on one span: the final status, the resend count and the failed attempt', async () => {
    const t = await useTestGateway();
    t.podium.injectFault({ pathPrefix: '/v4/users', status: 503 });
    const res = await t.gql('query People { users(provider: PODIUM, first: 2) { edges { node { name } } } }');
    expect(res.errors).toBeUndefined();

    const call = only('GET /v4/users');
    expect(call.attributes).toMatchObject({ 'http.response.status_code': 200, 'http.request.resend_count': 1, 'gateway.upstream.retries': 1 });
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    expect(call.events.map((e) => [e.name, e.attributes?.['http.response.status_code']])).toEqual([['attempt failed', 503]]);
    expect(call.parentSpanContext?.spanId).toBe(spanId(only('query People')));
  });

  it('marks the upstream span and the operation span failed, with the error code, when retries run out', async () => {
    const t = await useTestGateway({ env: { GATEWAY_UPSTREAM_MAX_RETRIES: '1' } });
    t.podium.injectFault({ pathPrefix: '/v4/users', status: 500, times: 5 });
    const res = await t.gql('query People { users(provider: PODIUM, first: 2) { edges { node { name } } } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('PROVIDER_UNAVAILABLE');

    const call = only('GET /v4/users');
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.attributes).toMatchObject({ 'http.response.status_code': 500, 'gateway.upstream.retries': 1, 'error.type': 'UNAVAILABLE' });
    const op = only('query People');
    expect(op.status.code).toBe(SpanStatusCode.ERROR);
    expect(op.attributes).toMatchObject({ 'gateway.graphql.error_count': 1, 'gateway.graphql.error_codes': ['PROVIDER_UNAVAILABLE'] });
  });

  it('records request errors: a document that does not parse and an id that is not one', async () => {
    const t = await useTestGateway();
    await t.gql('query Broken { users(');
    const broken = only('GraphQL Operation');
    expect(broken.status.code).toBe(SpanStatusCode.ERROR);
    expect(broken.attributes['gateway.graphql.error_codes']).toEqual(['GRAPHQL_PARSE_FAILED']);

    exporter.reset();
    const res = await t.gql('query Lookup { node(id: "not-an-id") { id } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const lookup = only('query Lookup');
    expect(lookup.attributes['gateway.graphql.error_codes']).toEqual(['BAD_USER_INPUT']);
    expect(childrenOf(lookup)).toEqual([]);
  });

  it('traces graphql-ws operations: a query with its upstream children, a refused document, a subscription', async () => {
    const t = await useTestGateway();
    const client = t.ws();
    t.podium.resetRequests();
    const [people] = await collect<{ users: { edges: unknown[] } }>(client, 'query WsPeople { users(provider: PODIUM, first: 2) { edges { node { name } } } }').done;
    expect(people?.users.edges).toHaveLength(2);
    const op = only('query WsPeople');
    expect(op.attributes).toMatchObject({ 'graphql.operation.type': 'query', 'gateway.graphql.transport': 'ws' });
    expect(childrenOf(op).map((s) => [s.name, s.attributes['http.response.status_code']])).toEqual([['GET /v4/users', 200]]);
    expect(t.podium.requestCount()).toBe(1);

    await expect(collect(client, 'query WsBad { nope }').done).rejects.toThrow(/nope/);
    const refused = exporter.getFinishedSpans().filter((s) => s.attributes['gateway.graphql.transport'] === 'ws' && s.status.code === SpanStatusCode.ERROR);
    expect(refused.map((s) => s.attributes['gateway.graphql.error_codes'])).toEqual([['GRAPHQL_VALIDATION_FAILED']]);

    // The subscription's span covers setting it up; the event that arrives afterwards proves it is set up.
    const live = collect<{ messageReceived: { id: string } }>(client, 'subscription Live { messageReceived { id } }');
    const raw = podiumDelivery(randomUUID(), t.podium.fixtures.conversationIds[0]!);
    const delivered = await exporter.next('subscription Live').then(() => t.webhook('podium', raw, t.podium.signWebhook(raw)));
    expect(delivered.status).toBe(200);
    expect((await live.done)[0]?.messageReceived.id).toBeTruthy();
    const sub = only('subscription Live');
    expect(sub.attributes).toMatchObject({ 'graphql.operation.type': 'subscription', 'graphql.operation.name': 'Live', 'gateway.graphql.transport': 'ws' });
    expect(sub.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('builds no spans while tracing is off, even with an SDK registered', async () => {
    const t = await useTestGateway();
    setTracingEnabled(false);
    try {
      const res = await t.gql(INBOX);
      expect(res.errors).toBeUndefined();
      const raw = podiumDelivery(randomUUID(), t.podium.fixtures.conversationIds[0]!);
      expect((await t.webhook('podium', raw, t.podium.signWebhook(raw))).status).toBe(200);
      await t.gateway.close(); // drains the publish started after the 200
    } finally {
      setTracingEnabled(true);
    }
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('traces of webhooks', () => {
  it('gives a delivery a webhook span with verify, store, invalidate and publish as its children', async () => {
    const t = await useTestGateway();
    const raw = podiumDelivery(randomUUID(), t.podium.fixtures.conversationIds[0]!);
    const res = await t.webhook('podium', raw, t.podium.signWebhook(raw));
    expect(res.status).toBe(200);
    // Publishing runs after the 200, so its span may end after the response.
    await exporter.next('webhook.publish');

    const delivery = only('POST /webhooks/podium');
    expect(delivery.kind).toBe(SpanKind.SERVER);
    expect(delivery.attributes).toMatchObject({ 'gateway.provider': 'PODIUM', 'http.route': '/webhooks/podium', 'http.response.status_code': 200, 'gateway.webhook.outcome': 'accepted' });
    const steps = childrenOf(delivery);
    expect(steps.map((s) => s.name).sort()).toEqual(['webhook.invalidate', 'webhook.publish', 'webhook.store', 'webhook.verify']);
    expect(only('webhook.verify').attributes['gateway.webhook.outcome']).toBe('authentic');
    expect(only('webhook.store').attributes).toMatchObject({ 'gateway.webhook.events': 1, 'gateway.webhook.duplicates': 0, 'gateway.webhook.unprocessable': 0 });
    expect(only('webhook.publish').attributes['gateway.webhook.events']).toBe(1);

    exporter.reset();
    expect((await t.webhook('podium', raw, t.podium.signWebhook(raw))).body.duplicates).toBe(1);
    expect(only('webhook.store').attributes['gateway.webhook.duplicates']).toBe(1);
  });

  it('marks the verify span failed for a delivery with a bad signature, and has no store span', async () => {
    const t = await useTestGateway();
    const raw = podiumDelivery(randomUUID(), t.podium.fixtures.conversationIds[0]!);
    const res = await t.webhook('podium', raw, { ...t.podium.signWebhook(raw), 'podium-signature': 'f'.repeat(64) });
    expect(res.status).toBe(401);

    const delivery = only('POST /webhooks/podium');
    expect(delivery.attributes).toMatchObject({ 'http.response.status_code': 401, 'gateway.webhook.outcome': 'unauthorized' });
    const verify = only('webhook.verify');
    expect(verify.parentSpanContext?.spanId).toBe(spanId(delivery));
    expect(verify.status.code).toBe(SpanStatusCode.ERROR);
    expect(verify.attributes).toMatchObject({ 'gateway.webhook.outcome': 'unauthorized', 'error.type': 'unauthorized' });
    expect(exporter.getFinishedSpans().map((s) => s.name)).not.toContain('webhook.store');
  });
});
