// kill -9 of a gateway process in the middle of a webhook burst, while another
// instance runs on the same store and Redis: every event the dead process
// acknowledged still reaches the other instance's subscribers, each once (its
// outbox takes over what the dead one stored and never published or never
// recorded as published; the subscription drops a second publish).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { createRedisPubSub } from '../src/events/pubsub/redis.js';
import { createMongoStore } from '../src/events/store/index.js';
import { startPodiumEmulator } from '../src/sandbox/podium/index.js';
import { mongoDb, podiumDelivery, record, useEventsGateway } from './helpers/events.js';

const SECRET = 'crash-test-podium-secret';

/** The real entry point on the shared store and Redis; resolves with its URL once it listens. */
async function startProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) if (/^(PODIUM|LEADCONNECTOR|SMOOCH|MONGODB|REDIS|GATEWAY)_/.test(key)) delete base[key];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === 'gateway listening') resolve((entry.url as string).replace(/\/graphql$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
  return { child, url };
}

/** A TCP proxy to Redis that can stop forwarding commands: publishes then hang, as in a process stuck between the 200 and the publish. */
async function freezableProxy(target: string): Promise<{ url: string; freeze(): void }> {
  const { hostname, port } = new URL(target);
  let frozen = false;
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.push(client, upstream);
    client.on('data', (data) => {
      if (!frozen) upstream.write(data);
    });
    upstream.on('data', (data) => client.write(data));
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    sockets.forEach((s) => s.destroy());
    server.close();
  });
  return { url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`, freeze: () => (frozen = true) };
}

describe('a gateway killed mid-burst', () => {
  it('loses no acknowledged event and delivers each once through the instance that lives on', { timeout: 90_000 }, async () => {
    const podium = await startPodiumEmulator({ webhookSecret: SECRET });
    onTestFinished(() => podium.close());
    const { url, db } = mongoDb();
    // A short lease, so the survivor takes over the dead process's claims within the test.
    const survivor = await useEventsGateway({ store: createMongoStore({ url, db }), pubsub: createRedisPubSub(inject('redisUrl')), outbox: { intervalMs: 50, graceMs: 100, leaseMs: 1_000 }, podium });
    const received = record(survivor.ws());
    // The subscription is live once a first event arrives.
    const first = await survivor.deliver();
    await received.until((events) => events.some((e) => e.eventId === first.body.eventIds![0]), 'the subscription to be live');

    const api = podium.providerConfig().api;
    const proxy = await freezableProxy(inject('redisUrl'));
    const doomed = await startProcess({
      NODE_ENV: 'test',
      PORT: '0',
      LOG_LEVEL: 'info',
      GATEWAY_SANDBOX: 'false',
      GATEWAY_API_KEYS: 'admin:crash-admin-key',
      MONGODB_URL: url,
      MONGODB_DB: db,
      REDIS_URL: proxy.url,
      // Nothing before its 200 waits on Redis then.
      GATEWAY_CACHE: 'off',
      PODIUM_API_URL: api.apiUrl,
      PODIUM_ACCESS_TOKEN: api.accessToken,
      PODIUM_WEBHOOK_SECRET: SECRET,
    });
    const acked: string[] = [];
    let sent = 0;
    const post = async (): Promise<void> => {
      while (sent < 200 && doomed.child.signalCode === null) {
        sent += 1;
        const raw = podiumDelivery(randomUUID(), podium.fixtures.conversationIds[0] ?? 'conv');
        try {
          const res = await fetch(`${doomed.url}/webhooks/podium`, { method: 'POST', headers: { 'content-type': 'application/json', ...podium.signWebhook(raw) }, body: raw });
          const body = (await res.json()) as { eventIds?: string[] };
          if (res.status === 200) acked.push(...(body.eventIds ?? []));
          // From here on its publishes hang: what it acknowledges next is stored and never published.
          if (acked.length >= 20) proxy.freeze();
          // Killed mid-burst: the acknowledgements so far are what must not be lost.
          if (acked.length >= 40 && doomed.child.signalCode === null) doomed.child.kill('SIGKILL');
        } catch {
          // The process is gone: this delivery was never acknowledged, a provider would retry it.
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, post));
    expect(doomed.child.signalCode === 'SIGKILL' || doomed.child.exitCode === null).toBe(true);
    expect(acked.length).toBeGreaterThanOrEqual(40);

    await received.until((events) => acked.every((id) => events.some((e) => e.eventId === id)), `all ${acked.length} acknowledged events`, 30_000);
    const counts = new Map<string, number>();
    for (const e of received.events) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1);
    expect(acked.filter((id) => counts.get(id) !== 1)).toEqual([]);
  });
});
