// What a webhook delivery becomes when the provider gives no event id or the
// shape is not understood: stable dedupe keys and the unprocessable event.
import { createHash } from 'node:crypto';
import type { ParsedEvent } from './provider.js';

/** sha256 hex of the parts joined by NUL; used where a provider gives no event id. */
export function hashKey(...parts: ReadonlyArray<string | Buffer>): string {
  const h = createHash('sha256');
  parts.forEach((p, i) => {
    if (i > 0) h.update('\0');
    h.update(p);
  });
  return h.digest('hex');
}

/** The single event a delivery becomes when its shape is not understood. */
export function unprocessable(rawBody: Buffer, providerEventType: string | null, reason: string): ParsedEvent {
  return { eventKey: `raw:${hashKey(rawBody)}`, providerEventType, result: { ok: false, reason } };
}
