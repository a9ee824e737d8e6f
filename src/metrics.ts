// Prometheus metrics of one gateway instance (own registry, so several
// gateways in one process, as in tests, do not share counters).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OperationPlugin } from './graphql/pipeline.js';
import type { UpstreamCall } from './providers/http.js';

export type WebhookOutcome =
  | 'accepted'
  | 'duplicate'
  | 'unprocessable'
  | 'unauthorized'
  | 'bad_request'
  | 'too_large'
  | 'store_unavailable';

export interface GatewayMetrics {
  readonly registry: Registry;
  observeHttp(route: string, method: string, status: number, seconds: number): void;
  observeGraphQL(operationType: string, outcome: 'ok' | 'error', seconds: number): void;
  observeUpstream(call: UpstreamCall): void;
  countWebhook(provider: string, outcome: WebhookOutcome, events?: number): void;
  /** Slots left in a provider credential's rate budget after its latest call. */
  observeRateBudget(provider: string, remaining: number): void;
  readonly wsConnections: Gauge;
  readonly subscriptions: Gauge;
  /** Events handed to the pubsub, by who published them: the ingest after its 200, or the outbox sweep. */
  countPublished(path: 'ingest' | 'outbox', events: number): void;
  countPublishFailure(): void;
  /** Events a subscription replayed from the store (after a cursor, or after a pubsub outage). */
  countReplayed(events: number): void;
  /** A subscription ended because its client did not keep up. */
  countSlowSubscriber(): void;
}

export function createMetrics(): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' });
  return { registry, ...requestMetrics(registry), ...upstreamMetrics(registry), ...eventMetrics(registry) };
}

/** HTTP requests and GraphQL operations. */
function requestMetrics(registry: Registry): Pick<GatewayMetrics, 'observeHttp' | 'observeGraphQL'> {
  const httpRequests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const gqlRequests = new Counter({
    name: 'gateway_graphql_operations_total',
    help: 'GraphQL operations by type and outcome',
    labelNames: ['operation_type', 'outcome'],
    registers: [registry],
  });
  const gqlDuration = new Histogram({
    name: 'gateway_graphql_operation_duration_seconds',
    help: 'GraphQL operation duration by type',
    labelNames: ['operation_type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    observeHttp(route, method, status, seconds) {
      httpRequests.inc({ route, method, status: String(status) });
      httpDuration.observe({ route }, seconds);
    },
    observeGraphQL(operationType, outcome, seconds) {
      gqlRequests.inc({ operation_type: operationType, outcome });
      gqlDuration.observe({ operation_type: operationType }, seconds);
    },
  };
}

/** Calls to the providers' APIs and what is left of their rate budgets. */
function upstreamMetrics(registry: Registry): Pick<GatewayMetrics, 'observeUpstream' | 'observeRateBudget'> {
  const upstream = new Counter({
    name: 'gateway_upstream_requests_total',
    help: 'Provider API calls by provider and status (error = timeout or network failure)',
    labelNames: ['provider', 'status'],
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Provider API call duration by provider',
    labelNames: ['provider'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateBudget = new Gauge({
    name: 'gateway_upstream_rate_budget_remaining',
    help: "Requests left in the provider credential's rate budget (shared by every instance when REDIS_URL is set)",
    labelNames: ['provider'],
    registers: [registry],
  });
  // One label object per provider and outcome, made on first use: an inbox query makes 111 calls.
  const callLabels = new Map<string, Map<number | 'error', { provider: string; status: string }>>();
  const durationLabels = new Map<string, { provider: string }>();
  return {
    observeUpstream(call) {
      let byOutcome = callLabels.get(call.provider);
      if (!byOutcome) callLabels.set(call.provider, (byOutcome = new Map()));
      let labels = byOutcome.get(call.outcome);
      if (!labels) byOutcome.set(call.outcome, (labels = { provider: call.provider, status: String(call.outcome) }));
      let duration = durationLabels.get(call.provider);
      if (!duration) durationLabels.set(call.provider, (duration = { provider: call.provider }));
      upstream.inc(labels);
      upstreamDuration.observe(duration, call.durationMs / 1000);
    },
    observeRateBudget(provider, remaining) {
      rateBudget.set({ provider }, remaining);
    },
  };
}

type EventMetrics = Pick<GatewayMetrics, 'countWebhook' | 'countPublished' | 'countPublishFailure' | 'countReplayed' | 'countSlowSubscriber' | 'wsConnections' | 'subscriptions'>;

/** Webhooks in, events published, and the sockets and subscriptions they go out on. */
function eventMetrics(registry: Registry): EventMetrics {
  const webhooks = new Counter({
    name: 'gateway_webhooks_total',
    help: 'Webhook events by provider and outcome (requests for rejected deliveries)',
    labelNames: ['provider', 'outcome'],
    registers: [registry],
  });
  const wsConnections = new Gauge({
    name: 'gateway_websocket_connections',
    help: 'Open graphql-ws connections',
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'gateway_subscriptions',
    help: 'Active GraphQL subscriptions',
    registers: [registry],
  });
  const published = new Counter({
    name: 'gateway_events_published_total',
    help: 'Stored events handed to the pubsub, by path (ingest = right after the 200, outbox = the sweep)',
    labelNames: ['path'],
    registers: [registry],
  });
  const publishFailures = new Counter({
    name: 'gateway_event_publish_failures_total',
    help: 'Publishes the pubsub refused (the outbox retries them)',
    registers: [registry],
  });
  const replayed = new Counter({
    name: 'gateway_subscription_replayed_events_total',
    help: 'Events subscriptions replayed from the store (resume after a cursor, catch-up after a pubsub outage)',
    registers: [registry],
  });
  const slowSubscribers = new Counter({
    name: 'gateway_subscriptions_dropped_total',
    help: 'Subscriptions ended because the client did not read its events (buffer full)',
    labelNames: ['reason'],
    registers: [registry],
  });
  return {
    countWebhook(provider, outcome, events = 1) {
      webhooks.inc({ provider, outcome }, events);
    },
    countPublished(path, events) {
      if (events > 0) published.inc({ path }, events);
    },
    countPublishFailure() {
      publishFailures.inc();
    },
    countReplayed(events) {
      if (events > 0) replayed.inc(events);
    },
    countSlowSubscriber() {
      slowSubscribers.inc({ reason: 'slow' });
    },
    wsConnections,
    subscriptions,
  };
}

/**
 * The operation pipeline's step: every operation, on either transport, counted
 * by type and outcome with its duration (to its answer; a subscription's to
 * its stream being set up).
 */
export function graphqlMetricsPlugin(metrics: GatewayMetrics): OperationPlugin {
  return {
    onOperation() {
      const started = performance.now();
      let operationType = 'unknown';
      return {
        onResolved({ operation }) {
          operationType = operation.operation;
        },
        onResult(errors) {
          metrics.observeGraphQL(operationType, errors?.length ? 'error' : 'ok', (performance.now() - started) / 1000);
        },
      };
    },
  };
}
