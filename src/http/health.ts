// GET /healthz (the process answers), /readyz (503 until the store can serve:
// reachable, indexes in place, a durable write accepted; and the pubsub answers)
// and /metrics (Prometheus text). Reasons are shown without credentials.
// An instance at its WebSocket limit stays ready (200: it still takes webhooks
// and queries) but says "at_capacity" in the body, so a load balancer can send
// new WebSocket clients elsewhere.
import type { FastifyPluginAsync } from 'fastify';
import type { EventStore, PubSub } from '../events/types.js';
import type { GatewayMetrics } from '../metrics.js';
import { redact } from '../events/redact.js';
import { withDeadline } from '../deadline.js';
import type { Admission } from './admission.js';

export interface HealthRouteOptions {
  readonly store: EventStore;
  readonly pubsub: PubSub;
  readonly metrics: GatewayMetrics;
  readonly admission: Admission;
  /** How long /readyz waits for each dependency. @default 2_000 (ms) */
  readonly readyTimeoutMs?: number;
}

export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, options) => {
  const { store, pubsub, metrics } = options;
  const timeoutMs = options.readyTimeoutMs ?? 2_000;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const check = async (ping: () => Promise<void>): Promise<string> => {
      try {
        await withDeadline(ping(), timeoutMs);
        return 'ok';
      } catch (err) {
        return redact(err instanceof Error ? err.message : 'unreachable');
      }
    };
    const [storeCheck, pubsubCheck] = await Promise.all([check(() => store.ping()), check(() => pubsub.ping())]);
    const atCapacity = options.admission.atCapacity();
    const checks = { store: storeCheck, pubsub: pubsubCheck, websockets: atCapacity ? 'at_capacity' : 'ok' };
    const ok = storeCheck === 'ok' && pubsubCheck === 'ok';
    const websockets = { open: options.admission.open(), limit: options.admission.limit };
    return reply.code(ok ? 200 : 503).send({ status: ok ? (atCapacity ? 'at_capacity' : 'ready') : 'not_ready', checks, websockets });
  });

  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
};

