// `npm run demo`'s replies: the sandbox's demo answers received messages through
// the running gateway's public sendMessage (with an agent key from
// GATEWAY_API_KEYS), so outboundMessageUpdated shows sends reach SENT and
// DELIVERED, and a text to Podium's Lana Landline end FAILED "landline".
import { createClient } from 'graphql-ws';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { demoKey } from '../src/sandbox/demo-replies.js';
import { startSandbox } from '../src/sandbox/index.js';
import { createGateway } from '../src/server.js';
import { until } from './helpers/gateway.js';

const AGENT = 'demo-test-agent-key';
const VIEWER = 'demo-test-viewer-key';

type Update = { outboundMessageUpdated: { outboundMessage: { id: string; provider: string; status: string; failureReason: string | null; idempotencyKey: string } } };

describe('npm run demo replies through sendMessage', () => {
  it('sends replies as the agent: they reach SENT and DELIVERED, and a text to Lana Landline ends FAILED', async () => {
    const logger = pino({ level: 'silent' });
    const sandbox = await startSandbox(loadConfig({ NODE_ENV: 'test', GATEWAY_CACHE: 'off', GATEWAY_API_KEYS: `agent:${AGENT},viewer:${VIEWER}` }));
    onTestFinished(() => sandbox.close());
    const gateway = createGateway(sandbox.config, { logger, outbound: { intervalMs: 50 } });
    onTestFinished(() => gateway.close());
    const url = await gateway.listen(0, '127.0.0.1');
    await sandbox.connect(url);
    for (const emu of sandbox.emulators.values()) emu.setSendDelays({ sentMs: 5, outcomeMs: 10 });

    const client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${VIEWER}` }, retryAttempts: 0, lazy: true });
    onTestFinished(() => client.dispose());
    let connected = false;
    client.on('connected', () => (connected = true));
    const updates: Update['outboundMessageUpdated']['outboundMessage'][] = [];
    const errors: unknown[] = [];
    onTestFinished(
      client.subscribe<Update>(
        { query: 'subscription { outboundMessageUpdated { outboundMessage { id provider status failureReason idempotencyKey } } }' },
        { next: (v) => (v.errors ? errors.push(v.errors) : v.data && updates.push(v.data.outboundMessageUpdated.outboundMessage)), error: (err) => errors.push(err), complete: () => undefined },
      ),
    );
    await until(() => connected, 'the subscriber to connect');
    // The subscribe message follows the acknowledgement at once; give the server a moment to register it.
    await new Promise((r) => setTimeout(r, 100));

    onTestFinished(sandbox.startDemo(logger, 20));
    const reached = (status: string) => updates.filter((u) => u.status === status);
    await until(() => reached('DELIVERED').length > 0 && reached('FAILED').length > 0, 'a reply DELIVERED and one FAILED', 15_000);

    expect(errors).toEqual([]);
    // Every reply went through sendMessage with a fresh key, and reached SENT before it moved on.
    const sent = new Set(reached('SENT').map((u) => u.id));
    expect(reached('DELIVERED').every((u) => sent.has(u.id))).toBe(true);
    expect(new Set(updates.map((u) => u.idempotencyKey)).size).toBe(new Set(updates.map((u) => u.id)).size);
    expect(updates.every((u) => u.idempotencyKey.startsWith('demo-'))).toBe(true);
    expect(reached('FAILED')[0]).toMatchObject({ provider: 'PODIUM', failureReason: 'landline' });
    const upstream = [...sandbox.emulators.values()].reduce((n, e) => n + e.sendCount(), 0);
    expect(upstream).toBeGreaterThanOrEqual(new Set(updates.map((u) => u.id)).size);
  });

  it('sends with an agent key, else an admin key, else none when no keys are configured', () => {
    expect(demoKey(new Map())).toBeNull();
    expect(demoKey(new Map([['v', 'viewer'], ['a', 'admin'], ['g', 'agent']]))).toBe('g');
    expect(demoKey(new Map([['v', 'viewer'], ['a', 'admin']]))).toBe('a');
    expect(demoKey(new Map([['v', 'viewer']]))).toBe('none');
  });
});
