// The outbound metrics, registered on the gateway's registry from here so
// src/metrics.ts stays untouched: status changes of sends by provider and
// outcome, and the queue's depth and age.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProviderName } from '../model.js';

export interface OutboundMetrics {
  countOutcome(provider: ProviderName, outcome: string): void;
  observeQueue(depth: number, oldestAgeSeconds: number): void;
}

export function createOutboundMetrics(registry: Registry): OutboundMetrics {
  const sends = new Counter({
    name: 'gateway_sends_total',
    help: 'Outbound messages reaching a status (SENDING, SENT, DELIVERED, READ, FAILED, UNCERTAIN, QUEUED), by provider',
    labelNames: ['provider', 'outcome'],
    registers: [registry],
  });
  const depth = new Gauge({ name: 'gateway_send_queue_depth', help: 'Sends waiting for rate budget (QUEUED)', registers: [registry] });
  const age = new Gauge({ name: 'gateway_send_queue_oldest_seconds', help: 'Age of the oldest queued send, seconds', registers: [registry] });
  return {
    countOutcome: (provider, outcome) => sends.inc({ provider, outcome }),
    observeQueue(d, a) {
      depth.set(d);
      age.set(a);
    },
  };
}
