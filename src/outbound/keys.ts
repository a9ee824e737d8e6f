// A send's id is derived from its idempotency key: the claim, the replay
// lookup and every later read are then lookups by `_id`, the one lookup a
// MongoDB-compatible store answers without scanning (FerretDB's SQLite backend
// pushes no other filter down).
import { createHash } from 'node:crypto';

/** 24 hex digits, the same on every instance for one (scope, idempotencyKey). */
export function sendIdOf(scope: string, idempotencyKey: string): string {
  return createHash('sha256').update(`${scope}\u0000${idempotencyKey}`).digest('hex').slice(0, 24);
}
