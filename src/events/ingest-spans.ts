// The spans of one webhook delivery's steps, children of the route's webhook
// span: verify, store, invalidate (the cache, before the 200) and publish
// (after the 200, so it may end after its parent). Each is the step itself when
// tracing is off.
import type { ProviderName } from '../model.js';
import type { VerifyResult } from '../providers/provider.js';
import { Attr, inSpan, markError, SpanKind, tracingEnabled } from '../telemetry/tracer.js';
import type { InsertResult, StoredEvent } from './types.js';

/**
 * The SERVER span of one delivery, `POST /webhooks/<name>`: the answer's status
 * and outcome (`accepted`, or the error the body names). Failed when the
 * answer asks the provider to retry (the store was unreachable).
 */
export function traceDelivery<T extends { readonly status: number; readonly body: Readonly<Record<string, unknown>> }>(
  provider: ProviderName,
  route: string,
  receive: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return receive();
  return inSpan(`POST ${route}`, SpanKind.SERVER, { [Attr.provider]: provider, [Attr.httpMethod]: 'POST', [Attr.httpRoute]: route }, async (span) => {
    const result = await receive();
    if (span) {
      const outcome = typeof result.body.error === 'string' ? result.body.error : 'accepted';
      span.setAttributes({ [Attr.httpStatus]: result.status, [Attr.webhookOutcome]: outcome });
      if (result.status >= 500 || result.status === 429) markError(span, outcome, `answered ${result.status} so the provider retries`);
    }
    return result;
  });
}

/** Marks the span failed when the delivery is not authentic; the reason is the verifier's own. */
export function traceVerify(verify: () => Promise<VerifyResult>): Promise<VerifyResult> {
  if (!tracingEnabled()) return verify();
  return inSpan('webhook.verify', SpanKind.INTERNAL, null, async (span) => {
    const verified = await verify();
    if (span) {
      span.setAttribute(Attr.webhookOutcome, verified.ok ? 'authentic' : 'unauthorized');
      if (!verified.ok) markError(span, 'unauthorized', verified.reason);
    }
    return verified;
  });
}

/** The insert of a delivery's events: how many, and how many were duplicates or unprocessable. */
export function traceStore(events: number, insert: () => Promise<readonly InsertResult[]>): Promise<readonly InsertResult[]> {
  if (!tracingEnabled()) return insert();
  return inSpan('webhook.store', SpanKind.INTERNAL, { [Attr.webhookEvents]: events }, async (span) => {
    const results = await insert();
    span?.setAttributes({
      [Attr.webhookDuplicates]: results.filter((r) => !r.inserted).length,
      [Attr.webhookUnprocessable]: results.filter((r) => r.inserted && r.event.status === 'UNPROCESSABLE').length,
    });
    return results;
  });
}

export function traceInvalidate(invalidate: () => Promise<void>): Promise<void> {
  if (!tracingEnabled()) return invalidate();
  return inSpan('webhook.invalidate', SpanKind.INTERNAL, null, invalidate);
}

export function tracePublish(events: readonly StoredEvent[], publish: () => Promise<void>): Promise<void> {
  if (!tracingEnabled()) return publish();
  return inSpan('webhook.publish', SpanKind.PRODUCER, { [Attr.webhookEvents]: events.length }, publish);
}
