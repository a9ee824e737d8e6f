// loadConfig: one zod schema over the environment, one error naming every bad
// variable, nothing secret echoed; and what a provider's configured parts mean.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('lists every bad value in one error: booleans only true/false/1/0, enumerations checked', () => {
    const problems = problemsOf({ GATEWAY_SANDBOX: 'yes', LOG_LEVEL: 'loud', PORT: '99999', GATEWAY_GRAPHQL_MAX_DEPTH: 'deep' });
    expect(problems).toEqual([
      'PORT must be a whole number from 0 to 65535',
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
      'GATEWAY_SANDBOX must be true, false, 1 or 0, got "yes"',
      'GATEWAY_GRAPHQL_MAX_DEPTH must be a whole number from 1 to 100, got "deep"',
    ]);
    expect(loadConfig({ GATEWAY_SANDBOX: '0', PODIUM_ACCESS_TOKEN: 't' }).sandbox).toBe(false);
    expect(loadConfig({ GATEWAY_SANDBOX: 'true' }).sandbox).toBe(true);
  });

  it('reads the event retention and the subscriber socket bound, with their bounds', () => {
    const defaults = loadConfig({});
    expect(defaults.eventRetentionMs).toBe(7 * 86_400_000);
    expect(defaults.wsMaxBufferedBytes).toBe(4 * 1024 * 1024);
    const set = loadConfig({ GATEWAY_EVENT_RETENTION_DAYS: '30', GATEWAY_WS_MAX_BUFFERED_BYTES: '65536' });
    expect([set.eventRetentionMs, set.wsMaxBufferedBytes]).toEqual([30 * 86_400_000, 65_536]);
    expect(problemsOf({ GATEWAY_EVENT_RETENTION_DAYS: '0', GATEWAY_WS_MAX_BUFFERED_BYTES: '100' })).toEqual([
      expect.stringMatching(/^GATEWAY_WS_MAX_BUFFERED_BYTES must be a whole number from 16384 to/),
      expect.stringMatching(/^GATEWAY_EVENT_RETENTION_DAYS must be a whole number from 1 to 3650/),
    ]);
  });

  it('accepts replica-set and SRV MongoDB URLs through the driver parser and never prints a password', () => {
    for (const url of ['mongodb://user:pass@db1,db2,db3/?replicaSet=rs0', 'mongodb+srv://user:pass@cluster0.example.net/gateway?retryWrites=true']) {
      expect(loadConfig({ MONGODB_URL: url }).mongodbUrl).toBe(url);
    }
    const problems = problemsOf({ MONGODB_URL: 'postgres://user:s3cr3t@db1/', REDIS_URL: 'http://user:hunter2@redis' });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toMatch(/s3cr3t|hunter2/);
    expect(problems[0]).toMatch(/^MONGODB_URL must be a mongodb:\/\/ or mongodb\+srv:\/\/ connection string, got "postgres:\/\/\*\*\*@db1\/"$/);
  });

  it('names a malformed API key entry by position without echoing any part of it', () => {
    const problems = problemsOf({ GATEWAY_API_KEYS: 'viewer:fine,rooot:supersecretkey123' });
    expect(problems).toEqual(['GATEWAY_API_KEYS entry 2 must be role:key with role viewer, agent or admin']);
  });

  it('enables a provider from its webhook secret alone, with no API part, and starts the sandbox only for missing API parts', () => {
    const config = loadConfig({ PODIUM_WEBHOOK_SECRET: 'whsec' });
    expect(config.podium).toEqual({ api: null, webhookSecret: 'whsec', webhookToleranceMs: 300_000 });
    expect(config.sandbox).toBe(true);
    const real = loadConfig({ PODIUM_ACCESS_TOKEN: 'token', SMOOCH_WEBHOOK_SECRET: 'x' });
    expect(real.podium?.api?.accessToken).toBe('token');
    expect(real.smooch).toEqual({ api: null, webhookSecret: 'x' });
    expect(real.sandbox).toBe(false);
  });

  it('turns unsigned webhooks and introspection off in production unless asked for', () => {
    const base = { NODE_ENV: 'production', MONGODB_URL: 'mongodb://db/', GATEWAY_API_KEYS: 'admin:k' };
    expect(loadConfig(base)).toMatchObject({ allowUnsignedWebhooks: false, introspection: false });
    expect(loadConfig({ ...base, GATEWAY_WEBHOOKS_ALLOW_UNSIGNED: 'true' }).allowUnsignedWebhooks).toBe(true);
    expect(loadConfig({})).toMatchObject({ allowUnsignedWebhooks: true, introspection: true });
  });
});
