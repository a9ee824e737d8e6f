// Helpers of the event tests: a gateway with the outbox timings and the store
// and pubsub a test chooses, Podium deliveries the test makes itself, and a
// graphql-ws subscription that records what it receives.
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { inject, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import type { EventStore, PubSub } from '../../src/events/types.js';
import { startPodiumEmulator, type PodiumEmulator } from '../../src/sandbox/podium/index.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../src/server.js';
import { ADMIN_KEY, VIEWER_KEY } from './gateway.js';

export interface EventsGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly podium: PodiumEmulator;
  /** POSTs a signed Podium message.received delivery; resolves with status and body. */
  deliver(eventUid?: string, conversationUid?: string): Promise<{ status: number; body: { eventIds?: string[] } & Record<string, unknown> }>;
  ws(): Client;
}

/** A gateway on the embedded store unless told otherwise; closed when the test ends. */
export async function useEventsGateway(deps: GatewayDeps & { readonly podium?: PodiumEmulator } = {}): Promise<EventsGateway> {
  const podium = deps.podium ?? (await startPodiumEmulator());
  const config = {
    ...loadConfig({ NODE_ENV: 'test', GATEWAY_API_KEYS: `admin:${ADMIN_KEY},viewer:${VIEWER_KEY}`, GATEWAY_SANDBOX: 'false' }),
    podium: podium.providerConfig(),
  };
  const gateway = createGateway(config, deps);
  const url = await gateway.listen(0, '127.0.0.1');
  const clients: Client[] = [];
  onTestFinished(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await gateway.close();
    if (!deps.podium) await podium.close();
  });
  return {
    gateway,
    url,
    podium,
    async deliver(eventUid = randomUUID(), conversationUid = podium.fixtures.conversationIds[0]) {
      const raw = podiumDelivery(eventUid, conversationUid ?? 'conv');
      const res = await fetch(`${url}/webhooks/podium`, { method: 'POST', headers: { 'content-type': 'application/json', ...podium.signWebhook(raw) }, body: raw });
      return { status: res.status, body: (await res.json()) as never };
    },
    ws() {
      const client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${VIEWER_KEY}` }, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    },
  };
}

export function podiumDelivery(eventUid: string, conversationUid: string): string {
  return JSON.stringify({
    data: { uid: randomUUID(), body: `hello ${eventUid}`, createdAt: '2025-03-04T05:06:07.000Z', conversation: { uid: conversationUid, channel: { type: 'phone', identifier: '+15550100' } }, contact: { uid: 'c-1', name: 'Ana' } },
    metadata: { eventType: 'message.received', eventUid },
  });
}

export interface Received {
  readonly eventId: string;
  readonly cursor: string;
}

/** Subscribes to messageReceived (optionally after a cursor) and records event ids and cursors. */
export function record(client: Client, after: string | null = null) {
  const events: Received[] = [];
  const waiters: Array<() => void> = [];
  let failed: unknown = null;
  const unsubscribe = client.subscribe<{ messageReceived: { id: string; cursor: string } }>(
    { query: 'subscription($after: String) { messageReceived(after: $after) { id cursor } }', variables: { after } },
    {
      next: (value) => {
        if (value.errors) failed = value.errors;
        const e = value.data?.messageReceived;
        if (e) events.push({ eventId: Buffer.from(e.id, 'base64url').toString('utf8').split(':').pop() ?? e.id, cursor: e.cursor });
        waiters.splice(0).forEach((w) => w());
      },
      error: (err) => {
        failed = err;
        waiters.splice(0).forEach((w) => w());
      },
      complete: () => undefined,
    },
  );
  return {
    events,
    unsubscribe,
    get error(): unknown {
      return failed;
    },
    /** Resolves once `check` holds (re-checked on every event), or rejects on a subscription error. */
    async until(check: (events: readonly Received[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!check(events)) {
        if (failed) throw new Error(`subscription failed while waiting for ${what}: ${JSON.stringify(failed)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${events.length} events`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

export function mongoDb(): { url: string; db: string } {
  return { url: inject('mongodbUrl'), db: `ev_${randomUUID().replace(/-/g, '').slice(0, 16)}` };
}

export type { EventStore, PubSub };
