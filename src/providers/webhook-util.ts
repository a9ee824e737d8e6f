// Small pieces every webhook receiver needs: stable dedupe keys, constant-time
// secret comparison and the "authentic but unprocessable" event.
import { createHash, timingSafeEqual } from 'node:crypto';
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

/** Compares two secrets without leaking where they differ (length differences included). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** The single event a delivery becomes when its shape is not understood. */
export function unprocessable(rawBody: Buffer, providerEventType: string | null, reason: string): ParsedEvent {
  return { eventKey: `raw:${hashKey(rawBody)}`, providerEventType, result: { ok: false, reason } };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

export function strArray(value: unknown): string[] {
  if (typeof value === 'string') return value.length > 0 ? [value] : [];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : [];
}
