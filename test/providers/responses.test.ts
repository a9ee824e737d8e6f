// Every adapter checks the upstream answers it reads: a 2xx whose body is not
// the documented envelope fails as BAD_RESPONSE naming the endpoint and what
// was missing, at the position of the key it concerned, never as a TypeError.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { createLeadConnectorProvider } from '../../src/providers/leadconnector/index.js';
import { createPodiumProvider } from '../../src/providers/podium/index.js';
import type { Provider, ProviderDeps } from '../../src/providers/provider.js';
import { createSmoochProvider } from '../../src/providers/smooch/index.js';
import { startLeadConnectorEmulator } from '../../src/sandbox/leadconnector/index.js';
import { startPodiumEmulator } from '../../src/sandbox/podium/index.js';
import { startSmoochEmulator } from '../../src/sandbox/smooch/index.js';
import type { ProviderEmulator } from '../../src/sandbox/types.js';

const deps: ProviderDeps = { upstream: { timeoutMs: 2_000, maxRetries: 0 }, publicUrl: 'http://gateway.test', allowUnsignedWebhooks: false };

interface Case {
  readonly name: string;
  start(): Promise<{ emulator: ProviderEmulator<unknown>; provider: Provider; appPath: string }>;
}

const cases: readonly Case[] = [
  {
    name: 'Podium',
    async start() {
      const emulator = await startPodiumEmulator();
      return { emulator, provider: createPodiumProvider(emulator.providerConfig(), deps), appPath: '' };
    },
  },
  {
    name: 'HighLevel',
    async start() {
      const emulator = await startLeadConnectorEmulator();
      return { emulator, provider: createLeadConnectorProvider(emulator.providerConfig(), deps), appPath: '' };
    },
  },
  {
    name: 'Smooch',
    async start() {
      const emulator = await startSmoochEmulator();
      return { emulator, provider: createSmoochProvider(emulator.providerConfig(), deps), appPath: `/v2/apps/${emulator.data.appId}` };
    },
  },
];

describe.each(cases)('$name response validation', (c) => {
  let emulator: ProviderEmulator<unknown>;
  let provider: Provider;
  let appPath: string;
  beforeAll(async () => {
    ({ emulator, provider, appPath } = await c.start());
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.clearFaults());

  const contactPath = (): string => ({ Podium: '/v4/contacts/', HighLevel: '/contacts/', Smooch: `${appPath}/users/` })[c.name] as string;
  const expectedMessage = (): string =>
    ({
      Podium: 'Podium GET /v4/contacts/{identifier} returned a body without data',
      HighLevel: 'HighLevel GET /contacts/{contactId} returned a body without id',
      Smooch: 'Smooch GET /v2/apps/{appId}/users/{id} returned a body without user.id',
    })[c.name] as string;

  it('fails the one contact whose answer is not the documented shape with BAD_RESPONSE, and answers the other', async () => {
    const [first, second] = emulator.fixtures.contactIds;
    emulator.injectFault({ pathPrefix: `${contactPath()}${first}`, status: 200, body: c.name === 'Smooch' ? { user: {} } : {} });
    const [bad, good] = await provider.getContacts([first as string, second as string]);
    expect(bad).toBeInstanceOf(ProviderError);
    expect((bad as ProviderError).failure).toBe('BAD_RESPONSE');
    expect((bad as ProviderError).message).toBe(expectedMessage());
    expect(good).toMatchObject({ id: second });
  });

  it('fails a list whose items lack their ids with BAD_RESPONSE naming the item', async () => {
    const listPath = ({ Podium: '/v4/users', HighLevel: '/conversations/search', Smooch: `${appPath}/conversations/` })[c.name] as string;
    const list = (): Promise<unknown> =>
      c.name === 'Podium'
        ? provider.listUsers({ cursor: null, limit: 5 })
        : c.name === 'HighLevel'
          ? provider.listConversations({ cursor: null, limit: 5 }, {})
          : provider.listMessages(emulator.fixtures.conversationIds[0] as string, { cursor: null, limit: 5 });
    const body = { Podium: { data: [{ name: 'no uid' }] }, HighLevel: { conversations: [{ id: 7 }] }, Smooch: { messages: [{ text: 'x' }] } }[c.name];
    emulator.injectFault({ pathPrefix: listPath, status: 200, body });
    const err = await list().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).failure).toBe('BAD_RESPONSE');
    expect((err as ProviderError).message).toMatch(
      { Podium: /data\[0\]\.uid/, HighLevel: /conversations\[0\]\.id is a number, expected string/, Smooch: /messages\[0\]\.id/ }[c.name] as RegExp,
    );
  });
});
