// Operations: health, readiness, metrics, CORS, configuration errors and
// graceful shutdown.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { createMemoryPubSub } from '../src/events/pubsub/memory.js';
import type { PubSub } from '../src/events/types.js';
import { openAcknowledged, startTestGateway, until, useTestGateway } from './helpers/gateway.js';

describe('operations', () => {
  it('answers /healthz, /readyz and /metrics with upstream, webhook and GraphQL figures', async () => {
    const t = await useTestGateway({ mongo: true, redis: true });
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', pubsub: 'ok', websockets: 'ok' }, websockets: { open: 0, limit: t.config.websockets.maxConnections } });

    await t.gql(`{ users(provider: PODIUM, first: 2) { edges { cursor } } }`);
    await t.webhook('podium', '{"bad":', t.podium.signWebhook('{"bad":'));
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/gateway_upstream_requests_total\{provider="PODIUM",status="200"\} 1/);
    expect(text).toMatch(/gateway_graphql_operations_total\{operation_type="query",outcome="ok"\} 1/);
    expect(text).toMatch(/gateway_webhooks_total\{provider="PODIUM",outcome="bad_request"\} 1/);
    expect(text).toMatch(/gateway_http_requests_total\{route="\/graphql",method="POST",status="200"\} 1/);
    expect(text).toContain('gateway_http_request_duration_seconds_bucket');
  });

  it('answers JSON 404 for unknown routes and 405 for a GET on a webhook route', async () => {
    const t = await useTestGateway();
    const missing = await fetch(`${t.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
    const get = await fetch(`${t.url}/webhooks/podium`);
    expect(get.status).toBe(405);
  });

  it('allows listed browser origins, refuses others, and keeps CSRF prevention on', async () => {
    const t = await useTestGateway({ env: { GATEWAY_CORS_ORIGINS: 'https://app.example.com' } });
    const preflight = await fetch(`${t.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const evil = await fetch(`${t.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com' } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    // A simple GET with no preflight-forcing header is refused by Apollo's CSRF prevention.
    const csrf = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { authorization: 'Bearer test-viewer-key' } });
    expect(csrf.status).toBe(400);
    const get = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { authorization: 'Bearer test-viewer-key', 'apollo-require-preflight': 'true' },
    });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses to start in production without MONGODB_URL or GATEWAY_API_KEYS, naming both', () => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('MONGODB_URL is required');
    expect(message).toContain('GATEWAY_API_KEYS is required');
    expect(() => loadConfig({ PORT: 'abc', GATEWAY_API_KEYS: 'root:x' })).toThrow(/PORT must be a whole number[\s\S]*role viewer, agent or admin/);
    // Production CORS: no origin unless listed.
    const prod = loadConfig({ NODE_ENV: 'production', MONGODB_URL: 'mongodb://db/', GATEWAY_API_KEYS: 'admin:k' });
    expect(prod.corsOrigins).toEqual([]);
    expect(prod.sandbox).toBe(false);
  });

  it('drains WebSocket connections and closes cleanly on shutdown', async () => {
    const t = await startTestGateway();
    const socket = await openAcknowledged(t.url);
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { messageSent { id } }' } }));
    await until(() => t.gateway.pubsub.listenerCount() === 1, 'the subscription');
    await t.close();
    expect(await closed).toBe(1001); // going away
    expect(t.gateway.pubsub.listenerCount()).toBe(0);
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
  });

  it('finishes publishing acknowledged webhook events before closing the store on shutdown', async () => {
    const inner = createMemoryPubSub();
    let releaseGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (releaseGate = resolve));
    let started: () => void = () => undefined;
    const publishStarted = new Promise<void>((resolve) => (started = resolve));
    const slow: PubSub = {
      ...inner,
      async publish(event) {
        started();
        await gate;
        await inner.publish(event);
      },
    };
    const t = await useTestGateway({ pubsub: slow });
    const received: string[] = [];
    inner.subscribe((e) => received.push(e.eventId));
    const raw = JSON.stringify({ data: { uid: 'b5de248b-3583-4b65-8ab9-042391b06857', body: 'hi', conversation: { uid: t.podium.fixtures.conversationIds[0] } }, metadata: { eventType: 'message.received', eventUid: 'shutdown-1' } });
    const res = await t.webhook('podium', raw, t.podium.signWebhook(raw));
    expect(res.status).toBe(200);
    await publishStarted;
    let closed = false;
    const closing = t.gateway.close().then(() => (closed = true));
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    releaseGate();
    await closing;
    expect(received).toEqual(res.body.eventIds);
  });
});
