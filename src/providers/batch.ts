// The one batch-lookup policy every adapter follows (DataLoader's contract):
// one answer per requested key, in key order; null for a key the provider does
// not know; an Error at the position of a key whose lookup failed, the other
// keys still answered. Duplicate keys cost one lookup.
import type { BatchResult } from './provider.js';

/** A group's answers by key; a key it leaves out is unknown (null). */
export type GroupAnswers<T> = ReadonlyMap<string, T | null | Error>;

/**
 * Splits the distinct keys into groups fetched in parallel (one request per
 * key, per conversation, per 100 ids…). A key in no group is unknown: that is
 * how a key the provider could never have issued answers null without a call.
 * A group that throws fails each of its keys.
 */
export async function lookupGrouped<T>(
  keys: readonly string[],
  split: (distinct: readonly string[]) => ReadonlyArray<readonly string[]>,
  fetchGroup: (group: readonly string[]) => Promise<GroupAnswers<T>>,
): Promise<BatchResult<T>> {
  const answers = new Map<string, T | null | Error>();
  await Promise.all(
    split([...new Set(keys)]).map(async (group) => {
      try {
        const found = await fetchGroup(group);
        for (const key of group) answers.set(key, found.get(key) ?? null);
      } catch (err) {
        for (const key of group) answers.set(key, toError(err));
      }
    }),
  );
  return keys.map((key) => answers.get(key) ?? null);
}

/** One lookup per distinct key, in parallel (providers without batch endpoints). */
export function lookupEach<T>(keys: readonly string[], fetchOne: (key: string) => Promise<T | null>): Promise<BatchResult<T>> {
  return lookupGrouped(
    keys,
    (distinct) => distinct.map((key) => [key]),
    async ([key]) => new Map([[key as string, await fetchOne(key as string)]]),
  );
}

/** Groups of at most `size` keys, for search endpoints that take a list of ids. */
export function chunks(size: number): (distinct: readonly string[]) => string[][] {
  return (distinct) => {
    const out: string[][] = [];
    for (let i = 0; i < distinct.length; i += size) out.push(distinct.slice(i, i + size));
    return out;
  };
}

/** Maps what a lookup found, passing "not found" (null) through. */
export function ifFound<R, T>(raw: R | null, map: (raw: R) => T): T | null {
  return raw === null ? null : map(raw);
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
