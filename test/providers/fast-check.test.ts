// The predicate that spares zod on upstream answers must never accept what zod
// rejects, and must accept what it can vouch for (or the fast path is dead).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fastCheck } from '../../src/providers/fast-check.js';

const entity = z.looseObject({ uid: z.string().min(1), conversation: z.looseObject({ uid: z.string().nullish() }).nullish() });
const many = z.looseObject({ data: z.array(entity), metadata: z.looseObject({ nextCursor: z.string().nullish(), n: z.number().nullish(), more: z.boolean().nullish() }).nullish() });

const values: readonly unknown[] = [
  { data: [] },
  { data: [{ uid: 'a', extra: { deep: [1, 2] } }], metadata: { nextCursor: 'c', n: 3, more: true } },
  { data: [{ uid: 'a', conversation: null }], metadata: null },
  { data: [{ uid: 'a', conversation: { uid: null, x: 1 } }] },
  { data: [{ uid: '' }] },
  { data: [{ uid: 7 }] },
  { data: [{}] },
  { data: [null] },
  { data: [[]] },
  { data: {} },
  { data: [{ uid: 'a', conversation: [] }] },
  { data: [], metadata: { nextCursor: 5 } },
  { data: [], metadata: { more: 'yes' } },
  { data: [], metadata: { n: '1' } },
  [],
  null,
  'data',
  {},
];

describe('fastCheck', () => {
  it.each(values.map((v) => [JSON.stringify(v), v]))('agrees with zod on %s, and what it accepts comes back unchanged', (_, value) => {
    const zod = many.safeParse(value);
    const fast = fastCheck(many)(value);
    expect(fast).toBe(zod.success);
    if (fast) expect(zod.data).toEqual(value);
  });

  it('leaves to zod what it cannot vouch for: a stripping object, a string format, a transform', () => {
    expect(fastCheck(z.object({ id: z.string() }))({ id: 'a' })).toBe(false);
    expect(fastCheck(z.looseObject({ id: z.string().email() }))({ id: 'a@b.c' })).toBe(false);
    expect(fastCheck(z.looseObject({ id: z.string().transform((s) => s.length) }))({ id: 'a' })).toBe(false);
    expect(fastCheck(z.looseObject({ id: z.string().max(3) }))({ id: 'a' })).toBe(false);
  });
});
