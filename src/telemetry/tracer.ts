// The gateway's side of OpenTelemetry tracing, over @opentelemetry/api only:
// the switch the SDK set-up (sdk.ts) turns on, the span helpers the webhook
// pipeline and the upstream client call, and the attribute names in one place.
// With tracing off every helper is one boolean check: no tracer is asked, no
// span or attribute object is built (the upstream client runs 111 times per
// inbox query).
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { ProviderError } from '../errors.js';
import type { ProviderName } from '../model.js';

export { SpanKind, type Span };

/** The instrumentation scope every gateway span carries. */
export const TRACER_NAME = 'messaging-gateway';

/** Attribute names: OpenTelemetry semantic conventions where one exists, `gateway.*` for ours. */
export const Attr = {
  provider: 'gateway.provider',
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  urlTemplate: 'url.template',
  resendCount: 'http.request.resend_count',
  retries: 'gateway.upstream.retries',
  budgetWaitMs: 'gateway.upstream.rate_budget_wait_ms',
  errorType: 'error.type',
  operationType: 'graphql.operation.type',
  operationName: 'graphql.operation.name',
  transport: 'gateway.graphql.transport',
  errorCount: 'gateway.graphql.error_count',
  errorCodes: 'gateway.graphql.error_codes',
  httpRoute: 'http.route',
  webhookEvents: 'gateway.webhook.events',
  webhookDuplicates: 'gateway.webhook.duplicates',
  webhookUnprocessable: 'gateway.webhook.unprocessable',
  webhookOutcome: 'gateway.webhook.outcome',
} as const;

let enabled = false;

/** Whether spans are recorded: true once an SDK is registered through sdk.ts (or by an embedder). */
export function tracingEnabled(): boolean {
  return enabled;
}

/**
 * Turns the gateway's spans on or off. sdk.ts calls it; an embedder that
 * registers its own global TracerProvider calls it with true.
 */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

/** Asked per span, not cached: a tracer obtained before the SDK registered would stay a no-op. */
function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Starts a span that is not made current (its caller makes it current where the work runs). */
export function startSpan(name: string, kind: SpanKind, attributes?: Attributes): Span {
  return tracer().startSpan(name, { kind, attributes });
}

/** Runs `fn` with `span` as the current span, so spans started inside are its children. */
export function withActiveSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Runs `fn` inside a new current span, ended when `fn` settles; a rejection
 * marks it failed and is rethrown. With tracing off, just `fn(null)`.
 */
export async function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes | null, fn: (span: Span | null) => Promise<T>): Promise<T> {
  if (!enabled) return fn(null);
  return tracer().startActiveSpan(name, { kind, attributes: attributes ?? undefined }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Status ERROR with a message and `error.type` (a provider failure, or the error's name). */
export function markFailed(span: Span, err: unknown, message?: string): void {
  const type = err instanceof ProviderError ? err.failure : err instanceof Error ? err.name : 'Error';
  span.setAttribute(Attr.errorType, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? (err instanceof Error ? err.message : String(err)) });
}

/** Marks a span failed without an exception (an unauthentic webhook, a GraphQL error). */
export function markError(span: Span, type: string, message: string): void {
  span.setAttribute(Attr.errorType, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** What the upstream client reports into its call's span. */
export interface UpstreamTrace {
  /** One attempt's outcome: an HTTP status, or `error` for a timeout or network failure. */
  attempt(outcome: number | 'error'): void;
  /** Time spent waiting for a slot of the rate budget. */
  budgetWait(ms: number): void;
}

/**
 * One CLIENT span per upstream call, retries included (`http.request.resend_count`
 * counts the attempts after the first), named `METHOD route` after the route
 * template, never the concrete path with its ids. Call only when tracingEnabled().
 */
export function traceUpstream<T>(provider: ProviderName, method: string, route: string, fn: (trace: UpstreamTrace) => Promise<T>): Promise<T> {
  const attributes: Attributes = { [Attr.provider]: provider, [Attr.httpMethod]: method, [Attr.urlTemplate]: route };
  return tracer().startActiveSpan(`${method} ${route}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    let attempts = 0;
    const upstream: UpstreamTrace = {
      attempt(outcome) {
        attempts++;
        if (outcome !== 'error') span.setAttribute(Attr.httpStatus, outcome);
        // Failed attempts are events: the span's own status is the call's final outcome.
        if (outcome === 'error' || outcome >= 400) span.addEvent('attempt failed', { [Attr.resendCount]: attempts - 1, [outcome === 'error' ? Attr.errorType : Attr.httpStatus]: outcome === 'error' ? 'network' : outcome });
      },
      budgetWait(ms) {
        span.setAttribute(Attr.budgetWaitMs, Math.round(ms));
      },
    };
    try {
      return await fn(upstream);
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      if (attempts > 1) span.setAttributes({ [Attr.resendCount]: attempts - 1, [Attr.retries]: attempts - 1 });
      else span.setAttribute(Attr.retries, 0);
      span.end();
    }
  });
}
