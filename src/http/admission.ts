// Admission control for WebSocket upgrades: the process's file descriptors are
// shared by subscribers, webhook deliveries, health checks, upstream calls,
// MongoDB and Redis, and a crowd of browsers (or one client opening sockets in a
// loop) must never take the ones webhooks need. Past the connection limit, or a
// client's own limits, an upgrade is refused with 503 and Retry-After before the
// handshake, counted, and logged once per interval rather than once per socket.
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

export interface AdmissionConfig {
  /** Open WebSocket connections this instance accepts. */
  readonly maxConnections: number;
  /** Per client address; 0 = no limit (the default: behind a proxy every client shares its address). */
  readonly maxConnectionsPerClient: number;
  /** Upgrade attempts per client address per second; 0 = no limit. */
  readonly connectsPerClientPerSecond: number;
  /** Header carrying the client address set by a trusted proxy (e.g. x-forwarded-for); null = the socket's peer. */
  readonly clientAddressHeader: string | null;
}

/** Descriptors kept for everything that is not a subscriber (webhooks, health, upstream, MongoDB, Redis). */
export const DESCRIPTOR_HEADROOM = 1_024;
/** Below this, a process limit is too small to derive from: the configured default stands. */
const SMALLEST_DERIVED_LIMIT = 256;

/** The soft open-files limit of this process (Linux /proc), or null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    const n = Number(soft);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The default connection limit: the open-file limit less the headroom, or 1,000 where it is unknown. */
export function defaultMaxConnections(limit = openFileLimit()): number {
  if (limit === null || limit < SMALLEST_DERIVED_LIMIT + DESCRIPTOR_HEADROOM) return 1_000;
  return limit - DESCRIPTOR_HEADROOM;
}

export type Refusal = 'at_capacity' | 'client_connections' | 'client_rate';

export interface Admission {
  /** null: admitted (call `release` when the socket closes); otherwise why not. */
  admit(req: IncomingMessage): { readonly refused: Refusal | null; readonly release: () => void };
  readonly open: () => number;
  readonly atCapacity: () => boolean;
  readonly limit: number;
}

/** How often a refusal is logged at most. */
const LOG_EVERY_MS = 10_000;

export function createAdmission(config: AdmissionConfig, deps: { readonly registry: Registry; readonly logger: Logger }): Admission {
  const refusals = new Counter({
    name: 'gateway_websocket_refused_total',
    help: 'WebSocket upgrades refused by admission control, by reason',
    labelNames: ['reason'],
    registers: [deps.registry],
  });
  let open = 0;
  const perClient = new Map<string, number>();
  const attempts = new Map<string, { second: number; count: number }>();
  let unlogged = 0;
  let lastLog = 0;

  const clientOf = (req: IncomingMessage): string => {
    const header = config.clientAddressHeader ? req.headers[config.clientAddressHeader] : undefined;
    const forwarded = Array.isArray(header) ? header[0] : header;
    // The proxy appends the address it saw: the last entry is the one it vouches for.
    return forwarded?.split(',').pop()?.trim() || req.socket.remoteAddress || 'unknown';
  };

  function refuse(reason: Refusal): { refused: Refusal; release: () => void } {
    refusals.inc({ reason });
    unlogged++;
    const now = Date.now();
    if (now - lastLog >= LOG_EVERY_MS) {
      deps.logger.warn({ refused: unlogged, reason, open, limit: config.maxConnections }, 'WebSocket upgrades refused by admission control');
      unlogged = 0;
      lastLog = now;
    }
    return { refused: reason, release: () => undefined };
  }

  return {
    limit: config.maxConnections,
    open: () => open,
    atCapacity: () => open >= config.maxConnections,
    admit(req) {
      const client = clientOf(req);
      if (config.connectsPerClientPerSecond > 0) {
        const second = Math.floor(Date.now() / 1000);
        const seen = attempts.get(client);
        const count = seen && seen.second === second ? seen.count + 1 : 1;
        attempts.set(client, { second, count });
        if (attempts.size > 100_000) attempts.clear(); // a scan of spoofed addresses cannot grow it without bound
        if (count > config.connectsPerClientPerSecond) return refuse('client_rate');
      }
      if (open >= config.maxConnections) return refuse('at_capacity');
      const mine = perClient.get(client) ?? 0;
      if (config.maxConnectionsPerClient > 0 && mine >= config.maxConnectionsPerClient) return refuse('client_connections');
      open++;
      perClient.set(client, mine + 1);
      let released = false;
      return {
        refused: null,
        release() {
          if (released) return;
          released = true;
          open--;
          const left = (perClient.get(client) ?? 1) - 1;
          if (left <= 0) perClient.delete(client);
          else perClient.set(client, left);
        },
      };
    },
  };
}
