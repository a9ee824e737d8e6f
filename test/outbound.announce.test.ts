// One messageSent per send, through the real gateway and the HighLevel
// emulator: HighLevel reports a message SENT once per status (an
// OutboundMessage webhook for "sent", then one for "delivered"), each stored as
// its own event; only the first reaches subscribers, in whatever order the
// webhooks come, before the send's answer too, and with two instances racing.
// A message the gateway did not send is published as before: every webhook.
// Each test ends on a sentinel event (a message someone else sent), published
// after everything the test waits on, instead of a sleep.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeId, encodeId } from '../src/ids.js';
import type { ProviderEmulator } from '../src/sandbox/types.js';
import { collect, mongoTestDb, until, useTestGateway, type TestGateway, type TestGatewayOptions } from './helpers/gateway.js';
import { AGENT_KEY, conversationOn, KEYS_ENV, send, type Outbound } from './helpers/outbound.js';

interface Heard {
  readonly id: string;
  readonly message: { readonly id: string; readonly status: string };
  readonly outboundMessage: { readonly id: string } | null;
}
const SUBSCRIPTION = 'subscription { messageSent(filter: { provider: LEADCONNECTOR }) { id message { id status } outboundMessage { id } } }';

interface Harness {
  readonly t: TestGateway;
  readonly emulator: ProviderEmulator<unknown>;
  /** Every messageSent the subscriber received so far. */
  heard(): readonly Heard[];
}

async function highLevel(options: TestGatewayOptions = {}): Promise<Harness> {
  const t = await useTestGateway({ env: KEYS_ENV, providers: ['LEADCONNECTOR'], ...options });
  const emulator = t.emulators.LEADCONNECTOR!;
  await emulator.addWebhookTarget(`${t.url}/webhooks/leadconnector`);
  const subscription = collect<{ messageSent: Heard }>(t.ws(AGENT_KEY), SUBSCRIPTION, {}, Number.MAX_SAFE_INTEGER);
  // It never has all it asks for: it ends with the gateway, which is no failure.
  subscription.done.catch(() => undefined);
  await until(() => t.gateway.pubsub.listenerCount() > 0, 'messageSent subscription');
  return { t, emulator, heard: () => subscription.results.map((r) => r.messageSent) };
}

/** Emits a message someone else sent and waits until the subscriber has it: what was published before it has arrived too. */
async function sentinel(h: Harness): Promise<void> {
  const emitted = await h.emulator.emitMessageEvent('SENT');
  const id = encodeId('LEADCONNECTOR', 'Message', emitted.messageId!);
  await until(() => h.heard().some((e) => e.message.id === id), 'the sentinel messageSent');
}

async function statusOf(t: TestGateway, id: string): Promise<string> {
  const res = await t.gql<{ node: { status: string } }>('query($id: ID!) { node(id: $id) { ... on OutboundMessage { status } } }', { id });
  return res.data!.node.status;
}

/** The stored events about one message (its global id), oldest first: every webhook is kept, published or not. */
async function storedAbout(t: TestGateway, messageId: string): Promise<Array<{ id: string; status: string | undefined; published: boolean }>> {
  const raw = decodeId(messageId).providerId;
  const events = await t.gateway.store.listEvents({ provider: 'LEADCONNECTOR' }, { limit: 500, before: null });
  return events
    .filter((e) => e.message?.id === raw)
    .reverse()
    .map((e) => ({ id: encodeId('LEADCONNECTOR', 'StoredEvent', e.id), status: e.message?.status, published: e.published }));
}

const about = (h: Harness, message: string): Heard[] => h.heard().filter((e) => e.message.id === message);

/** An authentic OutboundMessage webhook about the message with HighLevel's `status`, built on one the emulator delivered. */
async function postStatus(h: Harness, message: { readonly id: string; readonly conversationId: string }, status: string): Promise<void> {
  const template = JSON.parse((await templateOf(h)).rawBody) as Record<string, unknown>;
  const rawBody = JSON.stringify({ ...template, messageId: decodeId(message.id).providerId, conversationId: message.conversationId, status, webhookId: randomUUID(), timestamp: new Date().toISOString() });
  const res = await h.t.webhook('leadconnector', rawBody, h.emulator.signWebhook(rawBody));
  expect(res.status).toBe(200);
}

const templates = new WeakMap<Harness, Promise<{ rawBody: string }>>();
/** One OutboundMessage webhook of a message someone else sent (emitted once per harness). */
function templateOf(h: Harness): Promise<{ rawBody: string }> {
  let template = templates.get(h);
  if (!template) templates.set(h, (template = h.emulator.emitMessageEvent('SENT')));
  return template;
}

async function sendReply(h: Harness, key: string): Promise<Outbound & { conversationId: string }> {
  const conversation = await conversationOn(h.t, 'LEADCONNECTOR', 'SMS');
  const res = await send(h.t, { to: { conversationId: conversation.id }, body: `Your car is ready (${key})`, idempotencyKey: key });
  expect(res.data?.sendMessage.userErrors).toEqual([]);
  return { ...res.data!.sendMessage.outboundMessage!, conversationId: decodeId(conversation.id).providerId };
}

describe('one messageSent per send (HighLevel reports SENT once per status)', () => {
  it('publishes the "sent" webhook of a send with its OutboundMessage, and stores but never publishes the "delivered" one', async () => {
    const h = await highLevel();
    const sent = await sendReply(h, 'announce-1');
    await until(async () => (await statusOf(h.t, sent.id)) === 'DELIVERED', 'the send DELIVERED');
    await h.emulator.sendsSettled();
    await sentinel(h);

    const stored = await storedAbout(h.t, sent.message!.id);
    expect(stored.map((e) => e.status)).toEqual(['SENT', 'DELIVERED']);
    expect(about(h, sent.message!.id)).toEqual([{ id: stored[0]!.id, message: { id: sent.message!.id, status: 'SENT' }, outboundMessage: { id: sent.id } }]);
    // The repeat is settled for the outbox too: no sweep publishes it later.
    expect(stored.every((e) => e.published)).toBe(true);
  });

  it('gives a subscription resumed from before the send its one messageSent, not the stored repeat (MongoDB)', async () => {
    const h = await highLevel({ mongo: true });
    const first = await h.emulator.emitMessageEvent('SENT');
    await until(() => h.heard().length > 0, 'the first messageSent');
    const cursor = await h.t.gql<{ messageEvents: { edges: Array<{ cursor: string }> } }>('{ messageEvents(first: 1) { edges { cursor } } }');
    const after = cursor.data!.messageEvents.edges[0]!.cursor;
    expect(first.messageId).toBeTruthy();
    const sent = await sendReply(h, 'announce-resume');
    await until(async () => (await statusOf(h.t, sent.id)) === 'DELIVERED', 'the send DELIVERED');
    await h.emulator.sendsSettled();
    await sentinel(h);
    expect((await storedAbout(h.t, sent.message!.id)).map((e) => e.status)).toEqual(['SENT', 'DELIVERED']);
    // Resumed: the send's messageSent and the sentinel's, and nothing more (the repeat would come between them).
    const query = 'subscription($after: String) { messageSent(filter: { provider: LEADCONNECTOR }, after: $after) { id message { id status } outboundMessage { id } } }';
    const resumed = collect<{ messageSent: Heard }>(h.t.ws(AGENT_KEY), query, { after }, 2);
    const events = (await resumed.done).map((r) => r.messageSent);
    expect(events[0]).toMatchObject({ message: { id: sent.message!.id, status: 'SENT' }, outboundMessage: { id: sent.id } });
    expect(events[1]!.message.id).not.toBe(sent.message!.id);
  });

  it('publishes the first of the webhooks when "delivered" comes before "sent", and the send stays DELIVERED', async () => {
    const h = await highLevel();
    await templateOf(h);
    // The emulator's own webhooks stay away; this test delivers them by hand, in the other order.
    h.emulator.setSendDelays({ sentMs: 600_000 });
    const sent = await sendReply(h, 'announce-2');
    expect(sent.status).toBe('SENT');
    await postStatus(h, { id: sent.message!.id, conversationId: sent.conversationId }, 'delivered');
    await postStatus(h, { id: sent.message!.id, conversationId: sent.conversationId }, 'sent');
    await sentinel(h);

    expect(await statusOf(h.t, sent.id)).toBe('DELIVERED');
    const stored = await storedAbout(h.t, sent.message!.id);
    expect(stored.map((e) => e.status)).toEqual(['DELIVERED', 'SENT']);
    expect(about(h, sent.message!.id)).toEqual([{ id: stored[0]!.id, message: { id: sent.message!.id, status: 'DELIVERED' }, outboundMessage: { id: sent.id } }]);
  });

  it('counts a "sent" webhook that came before the send\'s answer as the announcement, and publishes no "delivered" after it', async () => {
    const h = await highLevel();
    h.emulator.setSendDelays({ sentMs: 0, outcomeMs: 800 });
    // HighLevel takes the message and sends "sent" before it answers the POST.
    h.emulator.injectFault({ ...h.emulator.sendRequests, afterHandling: true, delayMs: 300 });
    const sent = await sendReply(h, 'announce-3');
    await until(async () => (await statusOf(h.t, sent.id)) === 'DELIVERED', 'the send DELIVERED');
    await h.emulator.sendsSettled();
    await sentinel(h);

    const stored = await storedAbout(h.t, sent.message!.id);
    expect(stored.map((e) => e.status)).toEqual(['SENT', 'DELIVERED']);
    // Published before the answer named the message, so it may not link the send yet.
    expect(about(h, sent.message!.id).map((e) => e.id)).toEqual([stored[0]!.id]);
  });

  it('publishes one messageSent when two instances race the two webhooks of one send', async () => {
    const db = mongoTestDb();
    const shared = { redis: true, env: { ...KEYS_ENV, MONGODB_URL: db.url, MONGODB_DB: db.db } };
    const a = await highLevel(shared);
    const b = await highLevel(shared);
    await Promise.all([templateOf(a), templateOf(b)]);
    a.emulator.setSendDelays({ sentMs: 600_000 });
    const sent = await sendReply(a, 'announce-race');
    const message = { id: sent.message!.id, conversationId: sent.conversationId };
    await Promise.all([postStatus(a, message, 'sent'), postStatus(b, message, 'delivered')]);
    await sentinel(a);
    await sentinel(b);

    expect((await storedAbout(a.t, sent.message!.id)).map((e) => e.status).sort()).toEqual(['DELIVERED', 'SENT']);
    expect(about(a, sent.message!.id)).toHaveLength(1);
    expect(about(b, sent.message!.id)).toEqual(about(a, sent.message!.id));
  });

  it('still publishes the messageFailed that follows a send\'s messageSent, both linking the send', async () => {
    const h = await highLevel();
    const failed = collect<{ messageFailed: Heard }>(h.t.ws(AGENT_KEY), SUBSCRIPTION.replace('messageSent', 'messageFailed'));
    await until(() => h.t.gateway.pubsub.listenerCount() > 1, 'messageFailed subscription');
    h.emulator.failNextDeliveries(1, 'undelivered');
    const sent = await sendReply(h, 'announce-failed');
    const [event] = await failed.done;
    await sentinel(h);

    expect(event!.messageFailed).toMatchObject({ message: { id: sent.message!.id, status: 'FAILED' }, outboundMessage: { id: sent.id } });
    expect(about(h, sent.message!.id)).toEqual([{ id: expect.any(String), message: { id: sent.message!.id, status: 'SENT' }, outboundMessage: { id: sent.id } }]);
    expect(await statusOf(h.t, sent.id)).toBe('FAILED');
  });

  it('publishes every webhook of a message the gateway did not send, as before', async () => {
    const h = await highLevel();
    const emitted = await h.emulator.emitMessageEvent('SENT');
    const body = JSON.parse(emitted.rawBody) as { conversationId: string };
    const id = encodeId('LEADCONNECTOR', 'Message', emitted.messageId!);
    await postStatus(h, { id, conversationId: body.conversationId }, 'delivered');
    await sentinel(h);

    expect(about(h, id).map((e) => [e.message.status, e.outboundMessage])).toEqual([
      ['SENT', null],
      ['DELIVERED', null],
    ]);
  });
});
