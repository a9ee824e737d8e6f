// Child process of bench:fanout: holds many graphql-ws subscribers (or opens a
// storm of connection attempts) so that the gateway's process does none of the
// clients' work. It speaks the graphql-transport-ws protocol directly over `ws`
// (connection_init, subscribe, next): a full client per socket would make this
// process, not the gateway, the bottleneck. Driven over IPC by bench/fanout.ts.
import WebSocket from 'ws';

export type ParentMessage =
  | {
      readonly type: 'connect';
      readonly url: string;
      readonly count: number;
      readonly key: string;
      /** null: connect only (connection_init, no subscription); `subscribe-all` subscribes them later. */
      readonly query: string | null;
      readonly concurrency: number;
    }
  | { readonly type: 'subscribe-all'; readonly query: string }
  | { readonly type: 'storm'; readonly url: string; readonly attempts: number; readonly withinMs: number; readonly key: string }
  | { readonly type: 'report'; readonly eventIds: readonly string[] }
  | { readonly type: 'close' };

export type ChildMessage =
  | { readonly type: 'connected'; readonly open: number; readonly failed: number; readonly firstError: string | null; readonly ms: number }
  | { readonly type: 'subscribed'; readonly count: number }
  | { readonly type: 'stormed'; readonly statuses: Readonly<Record<string, number>>; readonly ms: number }
  | {
      readonly type: 'report';
      /** Per event id: receipt times (epoch ms, sub-ms precision) of every subscriber that received it, and how many received it twice. */
      readonly events: Readonly<Record<string, { readonly times: number[]; readonly duplicates: number }>>;
      readonly open: number;
      readonly closed: Readonly<Record<string, number>>;
      readonly errors: number;
    }
  | { readonly type: 'closed' };

const send = (message: ChildMessage): void => void process.send?.(message);
const epochNow = (): number => performance.timeOrigin + performance.now();

/** The subscription selects the message's `id` first: `{"data":{"messageReceived":{"message":{"id":"…"`. */
const EVENT_ID_PREFIX = '{"id":"';
const sockets: WebSocket[] = [];
const received = new Map<string, { times: number[]; duplicates: number }>();
const closedBy: Record<string, number> = {};
let subscriptionErrors = 0;

function subscriber(url: string, key: string, query: string | null): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    const seen = new Set<string>();
    let subscribed = false;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })));
    ws.on('message', (data) => {
      const at = epochNow();
      const text = data.toString();
      // The event id is read without parsing the whole payload: cheap per socket, and the gateway chose the shape.
      if (text.startsWith('{"id":"1","type":"next"')) {
        const at0 = text.indexOf(EVENT_ID_PREFIX, text.indexOf('"data"'));
        if (at0 < 0) return;
        const from = at0 + EVENT_ID_PREFIX.length;
        const id = text.slice(from, text.indexOf('"', from));
        let entry = received.get(id);
        if (!entry) received.set(id, (entry = { times: [], duplicates: 0 }));
        if (seen.has(id)) entry.duplicates += 1;
        else {
          seen.add(id);
          entry.times.push(at);
        }
        return;
      }
      const message = JSON.parse(text) as { type: string };
      if (message.type === 'connection_ack' && !subscribed) {
        subscribed = true;
        if (query !== null) ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        resolve(ws);
      } else if (message.type === 'error') {
        subscriptionErrors += 1;
      } else if (message.type === 'ping') {
        ws.send(JSON.stringify({ type: 'pong' }));
      }
    });
    ws.on('error', (err) => reject(err));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    ws.on('close', (code) => {
      const name = String(code);
      closedBy[name] = (closedBy[name] ?? 0) + 1;
      if (!subscribed) reject(new Error(`closed ${code} before connection_ack`));
    });
  });
}

async function connect(message: Extract<ParentMessage, { type: 'connect' }>): Promise<void> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  await Promise.all(
    Array.from({ length: message.concurrency }, async () => {
      while (next < message.count) {
        next += 1;
        try {
          sockets.push(await subscriber(message.url, message.key, message.query));
        } catch (err) {
          failed += 1;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  send({ type: 'connected', open: sockets.length, failed, firstError, ms: performance.now() - started });
}

/** Opens `attempts` upgrades spread evenly over `withinMs`, and counts how each ended (HTTP status or close code). */
async function storm(message: Extract<ParentMessage, { type: 'storm' }>): Promise<void> {
  const started = performance.now();
  const statuses: Record<string, number> = {};
  const count = (name: string): void => void (statuses[name] = (statuses[name] ?? 0) + 1);
  const attempts: Promise<void>[] = [];
  for (let i = 0; i < message.attempts; i++) {
    const due = (i * message.withinMs) / message.attempts;
    const wait = due - (performance.now() - started);
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    attempts.push(
      new Promise<void>((resolve) => {
        const ws = new WebSocket(message.url, 'graphql-transport-ws');
        let settled = false;
        /** Counts how the attempt ended, once (terminating a refused attempt also emits an error). */
        const end = (how: string): void => {
          if (settled) return;
          settled = true;
          count(how);
          resolve();
        };
        ws.on('unexpected-response', (_req, res) => {
          end(`http ${res.statusCode}`);
          res.resume();
          ws.terminate();
        });
        ws.on('open', () => {
          end('opened');
          ws.close();
        });
        ws.on('error', (err) => end(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      }),
    );
  }
  await Promise.all(attempts);
  send({ type: 'stormed', statuses, ms: performance.now() - started });
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'connect':
      void connect(message);
      return;
    case 'storm':
      void storm(message);
      return;
    case 'subscribe-all':
      for (const socket of sockets) socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: message.query } }));
      send({ type: 'subscribed', count: sockets.length });
      return;
    case 'report': {
      const events: Record<string, { times: number[]; duplicates: number }> = {};
      for (const id of message.eventIds) events[id] = received.get(id) ?? { times: [], duplicates: 0 };
      const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
      send({ type: 'report', events, open, closed: closedBy, errors: subscriptionErrors });
      return;
    }
    case 'close':
      for (const s of sockets) s.terminate();
      send({ type: 'closed' });
      setTimeout(() => process.exit(0), 50);
      return;
  }
});
