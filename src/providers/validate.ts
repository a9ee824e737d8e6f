// Checks an upstream answer against the zod schema of its envelope before an
// adapter reads it, so a body that is not the documented shape fails as
// BAD_RESPONSE saying what was expected and what came instead, never as a
// TypeError deep inside a normalizer. Schemas are loose: unknown fields pass.
// zod itself runs only to explain a rejection: a plain predicate compiled once
// per schema (fast-check.ts) accepts the answers zod would accept, without
// zod's copy of every object it checks.
import type { z } from 'zod';
import { ProviderError } from '../errors.js';
import type { ProviderName } from '../model.js';
import { isRecord } from './guards.js';
import { fastCheck } from './fast-check.js';
import { PROVIDER_LABELS } from './labels.js';

/**
 * `route` is the endpoint's template (`GET /v4/contacts/{identifier}`), never
 * the path with ids in it. The result is the body, typed as the caller's raw
 * interface (the schema checks the fields adapters rely on, not every field).
 */
export function readBody<T>(provider: ProviderName, route: string, schema: z.ZodType, body: unknown): T {
  if (fastCheck(schema)(body)) return body as T;
  const result = schema.safeParse(body);
  if (result.success) return result.data as T;
  const issue = result.error.issues[0];
  const path = (issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol');
  const expected = issue?.code === 'invalid_type' ? `expected ${issue.expected}` : (issue?.message ?? 'an unexpected shape').toLowerCase();
  throw new ProviderError(provider, 'BAD_RESPONSE', `${PROVIDER_LABELS[provider]} ${route} returned ${problem(body, path, expected)}`);
}

function problem(body: unknown, path: ReadonlyArray<string | number>, expected: string): string {
  if (path.length === 0) return `${describe(body)}, ${expected}`;
  const name = path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
  const value = path.reduce<unknown>((v, p) => (isRecord(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[p] : undefined), body);
  if (value === undefined) return `a body without ${name}`;
  return `a body whose ${name} is ${describe(value)}, ${expected}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
