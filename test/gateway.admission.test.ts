// Admission control at the WebSocket upgrade: past the instance's connection
// limit, or a client's own limits, an upgrade is refused with 503 and
// Retry-After, while webhooks and health checks are answered as usual.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defaultMaxConnections } from '../src/http/admission.js';
import { openAcknowledged, until, useTestGateway, type TestGateway } from './helpers/gateway.js';

/** The HTTP status an upgrade attempt got (101 when it became a WebSocket), and its Retry-After. */
function upgrade(t: TestGateway, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | null; socket: WebSocket }> {
  const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ status: 101, retryAfter: null, socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, retryAfter: String(res.headers['retry-after'] ?? '') || null, socket }));
    socket.once('error', reject);
  });
}

describe('WebSocket admission control', () => {
  it('refuses upgrades past the connection limit with 503 and Retry-After, and keeps answering webhooks and health', async () => {
    const t = await useTestGateway({ env: { GATEWAY_WS_MAX_CONNECTIONS: '3' } });
    const open = await Promise.all([1, 2, 3].map(() => openAcknowledged(t.url)));
    const refused = await upgrade(t);
    expect(refused).toMatchObject({ status: 503, retryAfter: '5' });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    // Still in rotation (webhooks, queries), but a load balancer can steer new WebSocket clients elsewhere.
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'at_capacity', checks: { store: 'ok', pubsub: 'ok', websockets: 'at_capacity' }, websockets: { open: 3, limit: 3 } });
    const raw = JSON.stringify({ data: { uid: 'b5de248b-3583-4b65-8ab9-042391b06857', body: 'hi', conversation: { uid: t.podium.fixtures.conversationIds[0] } }, metadata: { eventType: 'message.received', eventUid: 'admission-1' } });
    expect((await t.webhook('podium', raw, t.podium.signWebhook(raw))).status).toBe(200);
    expect(await (await fetch(`${t.url}/metrics`)).text()).toMatch(/gateway_websocket_refused_total\{reason="at_capacity"\} 1/);
    // A closed socket frees its place.
    const closed = new Promise((resolve) => open[0]!.once('close', resolve));
    open[0]!.close();
    await closed;
    let again = await upgrade(t);
    for (let i = 0; i < 20 && again.status !== 101; i++) again = await upgrade(t); // the server sees the close a moment later
    expect(again.status).toBe(101);
    for (const s of [...open, again.socket]) s.close();
    await until(async () => ((await (await fetch(`${t.url}/readyz`)).json()) as { status: string }).status === 'ready', 'readyz to say ready once below the limit');
  });

  it('limits connections per client address from the trusted proxy header', async () => {
    const t = await useTestGateway({ env: { GATEWAY_WS_MAX_CONNECTIONS_PER_CLIENT: '2', GATEWAY_CLIENT_ADDRESS_HEADER: 'X-Forwarded-For' } });
    const a = { 'x-forwarded-for': '203.0.113.7' };
    const first = await upgrade(t, a);
    const second = await upgrade(t, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' });
    expect([first.status, second.status]).toEqual([101, 101]);
    expect((await upgrade(t, a)).status).toBe(503);
    const other = await upgrade(t, { 'x-forwarded-for': '203.0.113.8' });
    expect(other.status).toBe(101);
    for (const s of [first, second, other]) s.socket.close();
  });

  it('limits upgrade attempts per client per second', async () => {
    const t = await useTestGateway({ env: { GATEWAY_WS_CONNECTS_PER_CLIENT_PER_SECOND: '2' } });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await upgrade(t));
    // At most one second boundary falls inside five quick attempts: at most 2 + 2 are admitted.
    expect(results.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(1);
    for (const r of results) r.socket.close();
  });

  it('derives the default limit from the open-file limit, keeping headroom for everything else', () => {
    expect(defaultMaxConnections(20_000)).toBe(18_976);
    expect(defaultMaxConnections(null)).toBe(1_000);
    expect(defaultMaxConnections(1_024)).toBe(1_000);
  });
});
