// Reading JSON nobody vouched for (webhook bodies, upstream answers): narrow
// an unknown value without trusting its declared shape.

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string, else null: providers send "" where they mean "none". */
export function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** The distinct non-empty strings among `values`, in order. */
export function present(...values: unknown[]): string[] {
  return [...new Set(values.map(str).filter((v): v is string => v !== null))];
}

/** One string or a list of them, empty strings dropped. */
export function strArray(value: unknown): string[] {
  if (typeof value === 'string') return value.length > 0 ? [value] : [];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : [];
}
