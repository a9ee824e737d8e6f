// Contact filters are applied by the provider or refused: never ignored. Each
// adapter against its emulator, which implements the documented filter params.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import type { ContactFilter, ContactRecord } from '../../src/model.js';
import { createLeadConnectorProvider } from '../../src/providers/leadconnector/index.js';
import { createPodiumProvider } from '../../src/providers/podium/index.js';
import type { Provider } from '../../src/providers/provider.js';
import { createSmoochProvider } from '../../src/providers/smooch/index.js';
import { startLeadConnectorEmulator } from '../../src/sandbox/leadconnector/index.js';
import { startPodiumEmulator } from '../../src/sandbox/podium/index.js';
import { startSmoochEmulator } from '../../src/sandbox/smooch/index.js';
import type { ProviderEmulator } from '../../src/sandbox/types.js';

const deps = { upstream: { timeoutMs: 5_000, maxRetries: 0 }, publicUrl: 'http://gateway.test', allowUnsignedWebhooks: false };

async function all(provider: Provider, filter: ContactFilter): Promise<ContactRecord[]> {
  const seen: ContactRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await provider.listContacts({ cursor, limit: 20 }, filter);
    seen.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return seen;
}

async function refusal(promise: Promise<unknown>): Promise<GraphQLError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphQLError);
  expect((err as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
  return err as GraphQLError;
}

describe('Podium contact filters', () => {
  let emulator: ProviderEmulator<unknown>;
  let podium: Provider;
  beforeAll(async () => {
    const emu = await startPodiumEmulator();
    emulator = emu;
    podium = createPodiumProvider(emu.providerConfig(), deps);
  });
  afterAll(() => emulator.close());

  it('refuses query and locationId, which GET /v4/contacts cannot filter on, naming them, before any request', async () => {
    emulator.resetRequests();
    expect((await refusal(podium.listContacts({ cursor: null, limit: 5 }, { query: 'Ana' }))).message).toMatch(/^Podium cannot filter contacts by query/);
    const location = emulator.fixtures.locationIds[0] as string;
    expect((await refusal(podium.listContacts({ cursor: null, limit: 5 }, { locationId: location }))).message).toMatch(/^Podium cannot filter contacts by locationId/);
    expect(emulator.requests).toEqual([]);
  });

  it('refuses a conversation locationId that is not a Podium location uid, before any request', async () => {
    emulator.resetRequests();
    const err = await refusal(podium.listConversations({ cursor: null, limit: 5 }, { locationId: '../v4/users' }));
    expect(err.message).toMatch(/filter.locationId must be a Podium location id \(a UUID\)/);
    expect(emulator.requests).toEqual([]);
  });
});

describe('HighLevel contact filters', () => {
  let emulator: ProviderEmulator<unknown>;
  let highLevel: Provider;
  beforeAll(async () => {
    const emu = await startLeadConnectorEmulator();
    emulator = emu;
    highLevel = createLeadConnectorProvider(emu.providerConfig(), deps);
  });
  afterAll(() => emulator.close());

  it('sends updatedAfter as a dateUpdated range and gets only the contacts updated since', async () => {
    const everyone = await all(highLevel, {});
    const times = everyone.map((c) => Date.parse(c.updatedAt ?? '')).sort((a, b) => a - b);
    const median = new Date(times[Math.floor(times.length / 2)] as number).toISOString();
    const recent = await all(highLevel, { updatedAfter: median });
    const expected = everyone.filter((c) => Date.parse(c.updatedAt ?? '') > Date.parse(median));
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(everyone.length);
    expect(recent.map((c) => c.id).sort()).toEqual(expected.map((c) => c.id).sort());
  });

  it('combines updatedAfter with the query', async () => {
    const everyone = await all(highLevel, {});
    const name = (everyone[0]?.name ?? '').split(' ')[0] as string;
    const oldest = everyone.map((c) => c.updatedAt ?? '').sort()[0] as string;
    const byQuery = await all(highLevel, { query: name });
    const both = await all(highLevel, { query: name, updatedAfter: oldest });
    const expected = byQuery.filter((c) => Date.parse(c.updatedAt ?? '') > Date.parse(oldest));
    expect(byQuery.length).toBeLessThan(everyone.length);
    expect(both.map((c) => c.id).sort()).toEqual(expected.map((c) => c.id).sort());
  });

  it('refuses the closed filter on conversations: HighLevel conversations have no closed state', async () => {
    const err = await refusal(highLevel.listConversations({ cursor: null, limit: 5 }, { closed: false }));
    expect(err.message).toBe('HighLevel cannot filter conversations by closed: HighLevel conversations have no closed state');
  });
});

describe('Smooch contact filters', () => {
  let emulator: ProviderEmulator<unknown>;
  let smooch: Provider;
  beforeAll(async () => {
    const emu = await startSmoochEmulator();
    emulator = emu;
    smooch = createSmoochProvider(emu.providerConfig(), deps);
  });
  afterAll(() => emulator.close());

  it('refuses locationId and updatedAfter, which Smooch users cannot be filtered on, before any request', async () => {
    emulator.resetRequests();
    const email = { query: 'someone@example.com' };
    expect((await refusal(smooch.listContacts({ cursor: null, limit: 5 }, { ...email, locationId: 'x' }))).message).toMatch(/^Smooch cannot filter contacts by locationId/);
    expect((await refusal(smooch.listContacts({ cursor: null, limit: 5 }, { ...email, updatedAfter: '2025-01-01T00:00:00Z' }))).message).toMatch(
      /^Smooch cannot filter contacts by updatedAfter/,
    );
    expect(emulator.requests).toEqual([]);
  });
});
