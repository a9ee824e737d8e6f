// Time-ordered positions of outbound changes (`OutboundRecord.seq`): the
// milliseconds, then a per-process counter and a random tail, so positions
// from several instances interleave by time and never collide.
import { randomBytes } from 'node:crypto';

let last = 0;
let counter = 0;
const instance = randomBytes(3).toString('hex');

export function nextSeq(now = Date.now()): string {
  counter = now === last ? counter + 1 : 0;
  last = now;
  return `${now.toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${instance}`;
}

/** A resume cursor as clients see it (opaque). */
export function encodeSeq(seq: string): string {
  return Buffer.from(`outbound:${seq}`, 'utf8').toString('base64url');
}

/** Null for anything that is not a cursor this module issued. */
export function decodeSeq(cursor: string): string | null {
  const text = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^outbound:([0-9a-z]{13}[0-9a-f]{6})$/.exec(text);
  return match ? (match[1] as string) : null;
}
