// Authenticating webhook deliveries: constant-time secret comparison (also
// used for the gateway's own API keys).
import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets without leaking where they differ (length differences included). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
