// Shared live subscriptions (src/http/fanout.ts): identical operations share
// one stream, each socket still gets its own subscription id, one client
// leaving does not end the others, and a client that stops reading is closed
// with 4008 without holding back the rest.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { openAcknowledged, until, useTestGateway } from './helpers/gateway.js';

interface Next {
  id: string;
  type: string;
  payload: { data: { messageReceived: { message: { providerId: string; conversation: { contact: { name: string } } } } } };
}

function nexts(socket: WebSocket): Next[] {
  const out: Next[] = [];
  socket.on('message', (m) => {
    const message = JSON.parse(String(m)) as Next;
    if (message.type === 'next') out.push(message);
  });
  return out;
}

const QUERY = 'subscription { messageReceived { message { providerId conversation { contact { name } } } } }';

describe('shared subscriptions', () => {
  it('serves identical subscriptions from one stream, each under its own id, for the upstream calls of one', async () => {
    const t = await useTestGateway();
    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    const sockets = await Promise.all(['a', 'b', 'c'].map(() => openAcknowledged(t.url)));
    const received = sockets.map(nexts);
    sockets.forEach((s, i) => s.send(JSON.stringify({ id: `sub-${i}`, type: 'subscribe', payload: { query: QUERY } })));
    await until(async () => /^gateway_subscription_group_members 3$/m.test(await (await fetch(`${t.url}/metrics`)).text()), 'three members');
    expect(t.gateway.pubsub.listenerCount()).toBe(1);

    t.podium.resetRequests();
    const first = await t.podium.emitMessageEvent('RECEIVED');
    expect(first.deliveries.map((d) => d.status)).toEqual([200]);
    await until(() => received.every((r) => r.length === 1), 'every socket to receive the event');
    expect(received.map((r) => r[0]!.id)).toEqual(['sub-0', 'sub-1', 'sub-2']);
    const payloads = received.map((r) => JSON.stringify(r[0]!.payload));
    expect(new Set(payloads).size).toBe(1);
    expect(first.messageId).toContain(received[0]![0]!.payload.data.messageReceived.message.providerId);
    // The conversation and its contact were looked up once for all three, not once per subscriber.
    const lookups = t.podium.requestCount();
    expect(lookups).toBeGreaterThan(0);
    expect(lookups).toBeLessThanOrEqual(2);

    // One client completes: the others go on receiving.
    sockets[1]!.send(JSON.stringify({ id: 'sub-1', type: 'complete' }));
    await until(async () => /^gateway_subscription_group_members 2$/m.test(await (await fetch(`${t.url}/metrics`)).text()), 'two members');
    await t.podium.emitMessageEvent('RECEIVED');
    await until(() => received[0]!.length === 2 && received[2]!.length === 2, 'the remaining sockets to receive the second event');
    expect(received[1]).toHaveLength(1);
  });

  it('answers a document it has already validated with the same errors, to every sender', async () => {
    const t = await useTestGateway();
    const socket = await openAcknowledged(t.url);
    const errors: Array<{ id: string; code: unknown }> = [];
    socket.on('message', (m) => {
      const message = JSON.parse(String(m)) as { id: string; type: string; payload: Array<{ extensions?: { code?: unknown } }> };
      if (message.type === 'error') errors.push({ id: message.id, code: message.payload[0]?.extensions?.code });
    });
    for (const id of ['x', 'y']) socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription { messageReceived { nope } }' } }));
    await until(() => errors.length === 2, 'both refusals');
    expect(errors).toEqual([
      { id: 'x', code: 'GRAPHQL_VALIDATION_FAILED' },
      { id: 'y', code: 'GRAPHQL_VALIDATION_FAILED' },
    ]);
    expect(t.gateway.pubsub.listenerCount()).toBe(0);
  });

  it('closes a subscriber that stops reading with 4008 and keeps delivering to the others', async () => {
    const t = await useTestGateway({ env: { GATEWAY_WS_MAX_BUFFERED_BYTES: '65536' } });
    const reader = await openAcknowledged(t.url);
    const stalled = await openAcknowledged(t.url);
    const read = nexts(reader);
    const query = 'subscription { messageReceived { message { providerId body } } }';
    for (const socket of [reader, stalled]) socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
    await until(async () => /^gateway_subscription_group_members 2$/m.test(await (await fetch(`${t.url}/metrics`)).text()), 'two members');
    const closed = new Promise<number>((resolve) => stalled.on('close', (code) => resolve(code)));
    // The client stops reading its TCP socket: the kernel buffers fill, then the gateway's.
    (stalled as unknown as { _socket: Socket })._socket.pause();

    const big = 'x'.repeat(60_000);
    let sent = 0;
    const dropped = async (): Promise<boolean> => /^gateway_subscriptions_dropped_total\{reason="slow"\} 1$/m.test(await (await fetch(`${t.url}/metrics`)).text());
    while (!(await dropped())) {
      expect(sent, 'the stalled subscriber should be dropped within 300 large events').toBeLessThan(300);
      const emitted = await t.podium.emitMessageEvent('RECEIVED');
      const body = JSON.parse(emitted.rawBody) as { data: { body: string }; metadata: { eventUid: string } };
      body.data.body = big;
      body.metadata.eventUid = `${body.metadata.eventUid}-big`;
      const raw = JSON.stringify(body);
      expect((await t.webhook('podium', raw, t.podium.signWebhook(raw))).status).toBe(200);
      sent += 1;
    }
    await until(() => read.length >= sent, `the reading subscriber to receive all ${sent} events`, 10_000);
    (stalled as unknown as { _socket: Socket })._socket.resume();
    expect(await closed).toBe(4008);
    await until(async () => /^gateway_subscription_group_members 1$/m.test(await (await fetch(`${t.url}/metrics`)).text()), 'one member left');
  });
});
