// sendMessage through the real gateway against every emulator: a reply in a
// conversation and a message to a contact reach the provider once, and the
// provider's own webhooks carry the OutboundMessage to DELIVERED (or FAILED
// with the provider's reason); the same key replays without a second upstream
// send, and another input under it is IDEMPOTENCY_KEY_REUSED.
import { describe, expect, it } from 'vitest';
import type { ProviderName } from '../src/model.js';
import { LANA_LANDLINE } from '../src/sandbox/podium/data.js';
import type { PodiumEmulator } from '../src/sandbox/podium/index.js';
import { SEND_LIFECYCLE_TRIGGERS, type SmoochEmulator } from '../src/sandbox/smooch/index.js';
import { createCustomIntegration } from '../src/sandbox/smooch/routes.js';
import { until, useTestGateway, type TestGateway } from './helpers/gateway.js';
import { AGENT_KEY, conversationOn, KEYS_ENV, send, type Outbound } from './helpers/outbound.js';

const WEBHOOK_PATH: Record<ProviderName, string> = { PODIUM: 'podium', LEADCONNECTOR: 'leadconnector', SMOOCH: 'smooch' };

async function gateway(provider: ProviderName): Promise<TestGateway> {
  const t = await useTestGateway({ env: KEYS_ENV, providers: [provider] });
  const target = `${t.url}/webhooks/${WEBHOOK_PATH[provider]}`;
  // Smooch delivers a send's delivery triggers only to webhooks subscribed to them.
  if (provider === 'SMOOCH') createCustomIntegration((t.emulators.SMOOCH as SmoochEmulator).data, 'Sends', { target, triggers: [...SEND_LIFECYCLE_TRIGGERS] }, 'sandbox-smooch-secret');
  else await t.emulators[provider]!.addWebhookTarget(target);
  return t;
}

const sendCount = (t: TestGateway, provider: ProviderName): number => t.emulators[provider]!.sendCount();

async function statusOf(t: TestGateway, id: string): Promise<Outbound> {
  const res = await t.gql<{ node: Outbound }>('query($id: ID!) { node(id: $id) { ... on OutboundMessage { id status failureReason message { id direction body } } } }', { id });
  return res.data!.node;
}

/** Podium publishes no delivered event (a delivered item only reads so when fetched): its sends end SENT. */
const CASES: ReadonlyArray<{ provider: ProviderName; channel?: string; settles: string }> = [
  { provider: 'PODIUM', channel: 'SMS', settles: 'SENT' },
  { provider: 'LEADCONNECTOR', channel: 'SMS', settles: 'DELIVERED' },
  { provider: 'SMOOCH', settles: 'DELIVERED' },
];

describe.each(CASES)('sendMessage through $provider', ({ provider, channel, settles }) => {
  it('replies in a conversation once, and follows the provider webhooks to where they end', async () => {
    const t = await gateway(provider);
    const conversation = await conversationOn(t, provider, channel);
    const res = await send(t, { to: { conversationId: conversation.id }, body: `Your car is ready (${provider})`, idempotencyKey: 'reply-1' });
    expect(res.errors).toBeUndefined();
    const sent = res.data!.sendMessage.outboundMessage!;
    expect(res.data!.sendMessage.userErrors).toEqual([]);
    expect(sent).toMatchObject({ provider, status: 'SENT', idempotencyKey: 'reply-1', body: `Your car is ready (${provider})`, conversation: { id: conversation.id } });
    expect(sent.message).toMatchObject({ direction: 'OUTBOUND', body: `Your car is ready (${provider})` });
    expect(sendCount(t, provider)).toBe(1);
    await t.emulators[provider]!.sendsSettled();
    await until(async () => (await statusOf(t, sent.id)).status === settles, `${provider} send ${settles}`);
    // The same key and input, later: the same OutboundMessage, no second send.
    const again = await send(t, { to: { conversationId: conversation.id }, body: `Your car is ready (${provider})`, idempotencyKey: 'reply-1' });
    expect(again.data!.sendMessage.outboundMessage).toMatchObject({ id: sent.id, status: settles });
    const reused = await send(t, { to: { conversationId: conversation.id }, body: 'Something else', idempotencyKey: 'reply-1' });
    expect(reused.data!.sendMessage).toEqual({ outboundMessage: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'], message: expect.any(String) }] });
    expect(sendCount(t, provider)).toBe(1);
  });

  it('messages a contact on a channel, the provider picking the conversation', async () => {
    const t = await gateway(provider);
    const conversation = await conversationOn(t, provider, channel);
    const res = await send(t, { to: { contact: { contactId: conversation.contactId, channel: conversation.channel } }, body: 'A new message', idempotencyKey: 'contact-1' });
    expect(res.errors).toBeUndefined();
    expect(res.data!.sendMessage.userErrors).toEqual([]);
    const sent = res.data!.sendMessage.outboundMessage!;
    expect(sent).toMatchObject({ status: 'SENT', channel: conversation.channel, contact: { id: conversation.contactId } });
    expect(sent.conversation?.id).toEqual(expect.any(String));
    expect(sendCount(t, provider)).toBe(1);
  });
});

describe('sendMessage lifecycle', () => {
  it("looks a conversation's recipient up once: its own messages' webhooks leave it cached, a contact change drops it", async () => {
    const t = await useTestGateway({ env: { ...KEYS_ENV, GATEWAY_CACHE: 'on', GATEWAY_CACHE_PREFIX: `recipient${Date.now()}` }, providers: ['PODIUM'] });
    const podium = t.emulators.PODIUM as PodiumEmulator;
    await podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    const lookups = (): number => podium.requestCount({ method: 'GET', pathPattern: /^\/v4\/conversations\/[^/]+$/ });
    const before = lookups();
    // Only the status asked back: resolving the answer's conversation would read the conversation itself, which the send changed.
    const reply = (key: string) =>
      t.gql<{ sendMessage: { outboundMessage: { status: string } | null } }>('mutation($i: SendMessageInput!) { sendMessage(input: $i) { outboundMessage { status } } }', { i: { to: { conversationId: conversation.id }, body: `Reply ${key}`, idempotencyKey: `recipient-${key}` } }, AGENT_KEY);
    for (const key of ['first', 'second']) {
      expect((await reply(key)).data!.sendMessage.outboundMessage).toEqual({ status: 'SENT' });
      // Its message.sent webhook is stored (and bumps the conversation) before the next send.
      await podium.sendsSettled();
    }
    expect(lookups() - before).toBe(1);
    // A contact webhook (a rename, say) drops it: the next send looks the recipient up again.
    const raw = JSON.stringify({ data: { uid: 'c0ffee00-0000-4000-8000-000000000001', name: 'Renamed' }, metadata: { eventType: 'contact.updated', eventUid: `evt-${Date.now()}` } });
    const hook = await fetch(`${t.url}/webhooks/podium`, { method: 'POST', headers: { 'content-type': 'application/json', ...podium.signWebhook(raw) }, body: raw });
    expect(hook.status).toBe(200);
    expect((await reply('third')).data!.sendMessage.outboundMessage).toEqual({ status: 'SENT' });
    expect(lookups() - before).toBe(2);
    expect(sendCount(t, 'PODIUM')).toBe(3);
  });

  it("ends a text to a landline FAILED with Podium's reason", async () => {
    const t = await gateway('PODIUM');
    const contacts = await t.gql<{ contacts: { edges: Array<{ node: { id: string; phones: string[] } }> } }>('{ contacts(provider: PODIUM, first: 100) { edges { node { id phones } } } }');
    const lana = contacts.data!.contacts.edges.map((e) => e.node).find((c) => c.phones.includes(LANA_LANDLINE.phone));
    expect(lana).toBeDefined();
    const res = await send(t, { to: { contact: { contactId: lana!.id, channel: 'SMS' } }, body: 'Your appointment is tomorrow', idempotencyKey: 'lana-1' });
    const sent = res.data!.sendMessage.outboundMessage!;
    await t.podium.sendsSettled();
    await until(async () => (await statusOf(t, sent.id)).status === 'FAILED', 'landline send FAILED');
    expect((await statusOf(t, sent.id)).failureReason).toMatch(/landline/i);
  });

  it("drops the conversation's cached messages before the mutation answers, without waiting for a webhook", async () => {
    // No webhook target: only the send itself can make the cached list stale.
    const t = await useTestGateway({ env: { ...KEYS_ENV, GATEWAY_CACHE: 'on' } });
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    const LIST = 'query($id: ID!) { conversation(id: $id) { messages(first: 5) { edges { node { body outboundMessage { id status } } } } } }';
    type List = { conversation: { messages: { edges: Array<{ node: { body: string; outboundMessage: { id: string; status: string } | null } }> } } };
    await t.gql<List>(LIST, { id: conversation.id });
    t.podium.resetRequests();
    await t.gql<List>(LIST, { id: conversation.id });
    expect(t.podium.requestCount({ method: 'GET' })).toBe(0);
    const res = await send(t, { to: { conversationId: conversation.id }, body: 'Fresh from the cache', idempotencyKey: 'cache-1' });
    const sent = res.data!.sendMessage.outboundMessage!;
    const after = await t.gql<List>(LIST, { id: conversation.id });
    expect(after.data!.conversation.messages.edges[0]!.node).toEqual({ body: 'Fresh from the cache', outboundMessage: { id: sent.id, status: 'SENT' } });
  });

  it('carries attachments where the provider does (HighLevel) and a subject on email (Podium)', async () => {
    const lc = await gateway('LEADCONNECTOR');
    const sms = await conversationOn(lc, 'LEADCONNECTOR', 'SMS');
    const withFile = await lc.gql<{ sendMessage: { outboundMessage: { status: string; message: { attachments: Array<{ url: string }> } | null } } }>(
      'mutation($i: SendMessageInput!) { sendMessage(input: $i) { outboundMessage { status message { attachments { url } } } } }',
      { i: { to: { conversationId: sms.id }, body: 'Your invoice', attachments: [{ url: 'https://files.example.com/invoice.pdf' }], idempotencyKey: 'file-1' } },
      AGENT_KEY,
    );
    expect(withFile.data!.sendMessage.outboundMessage).toEqual({ status: 'SENT', message: { attachments: [{ url: 'https://files.example.com/invoice.pdf' }] } });

    const podium = await gateway('PODIUM');
    const email = await conversationOn(podium, 'PODIUM', 'EMAIL');
    const mailed = await send(podium, { to: { conversationId: email.id }, subject: 'Your appointment', body: 'See you at 9', idempotencyKey: 'mail-1' });
    expect(mailed.data!.sendMessage.userErrors).toEqual([]);
    expect(mailed.data!.sendMessage.outboundMessage).toMatchObject({ status: 'SENT', channel: 'EMAIL' });
  });
});
