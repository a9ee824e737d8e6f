// Names a newcomer reaches for: HIGHLEVEL for the provider whose value is
// LEADCONNECTOR gets a did-you-mean, and every on/off variable takes the same
// words (true/false, 1/0, on/off).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { providerAlias } from '../src/providers/aliases.js';
import { useTestGateway } from './helpers/gateway.js';

describe('HIGHLEVEL as a provider value', () => {
  it('answers a query naming HIGHLEVEL with a hint towards LEADCONNECTOR, inline and as a variable', async () => {
    const t = await useTestGateway({ providers: ['PODIUM', 'LEADCONNECTOR'] });
    const inline = await t.gql('{ contacts(provider: HIGHLEVEL, first: 1) { edges { cursor } } }');
    expect(inline.errors?.[0]?.message).toContain('Value "HIGHLEVEL" does not exist in "Provider" enum.');
    expect(inline.errors?.[0]?.message).toContain('Did you mean "LEADCONNECTOR"?');
    const variable = await t.gql('query($p: Provider!) { conversations(provider: $p, first: 1) { edges { cursor } } }', { p: 'HIGHLEVEL' });
    expect(variable.errors?.[0]?.message).toContain('Did you mean "LEADCONNECTOR"?');
    // A value that is no known alias gets no hint.
    const other = await t.gql('{ contacts(provider: TWILIO, first: 1) { edges { cursor } } }');
    expect(other.errors?.[0]?.message).not.toContain('LEADCONNECTOR');
  });

  it('keeps the hint where suggestions are hidden (introspection off)', async () => {
    const t = await useTestGateway({ providers: ['PODIUM', 'LEADCONNECTOR'], env: { GATEWAY_INTROSPECTION: 'off' } });
    const res = await t.gql('{ contacts(provider: HighLevel, first: 1) { edges { cursor } } }');
    expect(res.errors?.[0]?.message).toMatch(/^Value "HighLevel" does not exist in "Provider" enum\. Did you mean "LEADCONNECTOR"\?/);
  });

  it('knows the spellings people use', () => {
    expect(['HIGHLEVEL', 'HighLevel', 'high-level', 'GHL'].map(providerAlias)).toEqual(['LEADCONNECTOR', 'LEADCONNECTOR', 'LEADCONNECTOR', 'LEADCONNECTOR']);
    expect(providerAlias('PODIUM')).toBeNull();
  });
});

describe('on/off variables', () => {
  it('take true/false, 1/0 and on/off alike, whichever word the variable was documented with', () => {
    const on = loadConfig({ GATEWAY_DEMO: 'on', GATEWAY_INTROSPECTION: 'ON', GATEWAY_CACHE: 'true', GATEWAY_EXPLORER: '1', GATEWAY_CONSOLE: 'On' });
    expect([on.demo, on.introspection, on.cache.enabled, on.explorer, on.console]).toEqual([true, true, true, true, true]);
    const off = loadConfig({ GATEWAY_DEMO: 'off', GATEWAY_INTROSPECTION: 'false', GATEWAY_CACHE: '0', GATEWAY_EXPLORER: 'false', GATEWAY_CONSOLE: 'off', GATEWAY_SANDBOX: 'off', PODIUM_ACCESS_TOKEN: 't' });
    expect([off.demo, off.introspection, off.cache.enabled, off.explorer, off.console, off.sandbox]).toEqual([false, false, false, false, false, false]);
  });

  it('names the accepted words for a value that is none of them', () => {
    expect(() => loadConfig({ GATEWAY_CACHE: 'maybe' })).toThrow('GATEWAY_CACHE must be true, false, 1 or 0, got "maybe"');
  });
});
