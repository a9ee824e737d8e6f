// The types of environment variables, shared by the gateway's config
// (config.ts) and each provider's fragment (providers/<name>/config.ts). Each
// takes the raw string (already trimmed; empty = unset) and says what it expected.
import { ConnectionString } from 'mongodb-connection-string-url';
import { z } from 'zod';

export type Role = 'viewer' | 'agent' | 'admin';

export const text = z.string().min(1);

export function int(min: number, max: number): z.ZodType<number, string> {
  return z
    .string()
    .regex(/^-?\d+$/, { error: (i) => `must be a whole number from ${min} to ${max}, got "${String(i.input)}"` })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be a whole number from ${min} to ${max}` }).max(max, { error: `must be a whole number from ${min} to ${max}` }));
}

// Every on/off variable takes the same words (true/false, 1/0, on/off): env-switch.ts.
export { bool, onOff } from './env-switch.js';

export function url(protocols: readonly string[]): z.ZodType<string, string> {
  return z.string().refine(
    (raw) => {
      try {
        return protocols.includes(new URL(raw).protocol);
      } catch {
        return false;
      }
    },
    { error: (i) => `must be a ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')} URL, got "${redactUrl(String(i.input))}"` },
  );
}
export const httpUrl = url(['http:', 'https:']);

/** Parsed by the driver's own parser, so replica sets, several hosts and mongodb+srv all pass. */
export const mongodbUrl = z.string().refine(
  (raw) => {
    try {
      new ConnectionString(raw);
      return true;
    } catch {
      return false;
    }
  },
  { error: (i) => `must be a mongodb:// or mongodb+srv:// connection string, got "${redactUrl(String(i.input))}"` },
);

export const apiKeys = z.string().transform((raw, ctx) => {
  const keys = new Map<string, Role>();
  raw.split(',').forEach((entry, index) => {
    const pair = entry.trim();
    if (!pair) return;
    const idx = pair.indexOf(':');
    const role = pair.slice(0, Math.max(idx, 0));
    const key = pair.slice(idx + 1);
    if (idx < 1 || !key || (role !== 'viewer' && role !== 'agent' && role !== 'admin')) {
      // Never echo any part of a key: the entry is named by its position only.
      ctx.addIssue({ code: 'custom', message: `entry ${index + 1} must be role:key with role viewer, agent or admin` });
      return;
    }
    keys.set(key, role);
  });
  return keys;
});

export const origins = z.string().transform((raw, ctx) => {
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      ctx.addIssue({ code: 'custom', message: `entries must be origins like https://app.example.com, got "${origin}"` });
    }
  }
  return list;
});

/**
 * OTEL_EXPORTER_OTLP_HEADERS as the OpenTelemetry spec writes it: `key=value`
 * pairs, comma separated, values percent-encoded. Values are never echoed.
 */
export const otlpHeaders = z.string().transform((raw, ctx) => {
  const headers: Record<string, string> = {};
  raw.split(',').forEach((entry, index) => {
    const pair = entry.trim();
    if (!pair) return;
    const idx = pair.indexOf('=');
    const key = pair.slice(0, Math.max(idx, 0)).trim();
    if (idx < 1 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) {
      ctx.addIssue({ code: 'custom', message: `entry ${index + 1} must be name=value with a header name` });
      return;
    }
    try {
      headers[key.toLowerCase()] = decodeURIComponent(pair.slice(idx + 1).trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: `entry ${index + 1} (${key}) has a value that is not valid percent-encoding` });
    }
  });
  return headers;
});

export const ratio = z
  .string()
  .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { error: (i) => `must be a number from 0 to 1, got "${String(i.input)}"` })
  .transform(Number);
/** 32 bytes as base64 (44 characters) or hex (64 characters); never echoed. */
export const encryptionKey = z.string().transform((raw, ctx) => {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(raw) ? Buffer.from(raw, 'base64') : null;
  if (!key || key.length !== 32) {
    ctx.addIssue({ code: 'custom', message: `must be 32 bytes as base64 (44 characters) or hex (64 characters), got ${raw.length} characters` });
    return z.NEVER;
  }
  return key;
});

export const scopeList = z.string().transform((raw) => raw.split(/[\s,]+/).filter(Boolean));

/** Accepts a PEM with literal `\n` escapes (how multi-line values survive .env files). */
export const pem = z.string().transform((v) => v.replace(/\\n/g, '\n'));

/** A URL safe to print: user and password replaced. */
export function redactUrl(raw: string): string {
  return raw.replace(/(\/\/)[^@/]*@/, '$1***@');
}
