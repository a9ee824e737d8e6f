// A predicate compiled once from a zod schema, for the upstream answers every
// query reads (an inbox query checks 111 of them). It accepts a value only
// where the schema would accept it and return it unchanged (loose objects,
// strings with a minimum length, arrays, booleans, finite numbers, unknown,
// nullish): then the value itself is the result. Anything else it cannot
// vouch for answers false, and zod decides (and explains) as before.
import type { z } from 'zod';

type Check = (value: unknown) => boolean;

const never: Check = () => false;
const compiled = new WeakMap<z.ZodType, Check>();

/** The schema's predicate; false means "ask zod", never "invalid" by itself. */
export function fastCheck(schema: z.ZodType): Check {
  let check = compiled.get(schema);
  if (!check) {
    check = compile(schema);
    compiled.set(schema, check);
  }
  return check;
}

interface Def {
  readonly type: string;
  readonly checks?: ReadonlyArray<{ readonly _zod: { readonly def: { readonly check: string; readonly minimum?: number } } }>;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly catchall?: z.ZodType;
  readonly element?: z.ZodType;
  readonly innerType?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function compile(schema: z.ZodType): Check {
  const def = defOf(schema);
  switch (def.type) {
    case 'unknown':
      return () => true;
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'number':
      return def.checks && def.checks.length > 0 ? never : (v) => typeof v === 'number' && Number.isFinite(v);
    case 'string':
      return stringCheck(def);
    case 'optional':
      return orElse(def.innerType, (v) => v === undefined);
    case 'nullable':
      return orElse(def.innerType, (v) => v === null);
    case 'array':
      return arrayCheck(def);
    case 'object':
      return objectCheck(def);
    default:
      return never;
  }
}

function orElse(inner: z.ZodType | undefined, empty: Check): Check {
  if (!inner) return never;
  const check = compile(inner);
  return (v) => empty(v) || check(v);
}

function stringCheck(def: Def): Check {
  let min = 0;
  for (const c of def.checks ?? []) {
    if (c._zod.def.check !== 'min_length' || typeof c._zod.def.minimum !== 'number') return never;
    min = Math.max(min, c._zod.def.minimum);
  }
  return (v) => typeof v === 'string' && v.length >= min;
}

function arrayCheck(def: Def): Check {
  if (!def.element || (def.checks && def.checks.length > 0)) return never;
  const element = compile(def.element);
  return (v) => {
    if (!Array.isArray(v)) return false;
    for (const item of v) if (!element(item)) return false;
    return true;
  };
}

/** Loose objects only: a stripping object returns a copy without the unknown keys, so the value itself would not be its result. */
function objectCheck(def: Def): Check {
  if (!def.shape || !def.catchall || defOf(def.catchall).type !== 'unknown') return never;
  const fields = Object.entries(def.shape).map(([key, schema]) => [key, compile(schema)] as const);
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const record = v as Record<string, unknown>;
    for (const [key, check] of fields) if (!check(record[key])) return false;
    return true;
  };
}
