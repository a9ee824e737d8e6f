// Podium webhook receiver: the optional HMAC signature over `<timestamp>.<body>`,
// timestamp tolerance, the dedupe key rules, unprocessable deliveries, and a
// signed delivery from the emulator verified and parsed end to end.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodiumProvider } from '../../src/providers/podium/index.js';
import { createPodiumReceiver } from '../../src/providers/podium/webhooks.js';
import type { VerifyContext, WebhookRequest } from '../../src/providers/provider.js';
import { hashKey } from '../../src/providers/delivery.js';
import { startPodiumEmulator, type PodiumEmulator } from '../../src/sandbox/podium/index.js';

/** Production's policy: a provider with no secret known refuses every delivery. */
const STRICT = { allowUnsignedWebhooks: false } as const;

const receivedAt = new Date('2024-05-01T12:00:00.000Z');
const body = JSON.stringify({ data: { uid: 'm1', conversation: { uid: 'c1' } }, metadata: { eventType: 'message.received', version: '2021.04.01' } });
const noStored: VerifyContext = { storedSecrets: async () => [] };

function sign(secret: string, timestamp: string, raw = body): string {
  return createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex');
}

function request(headers: Record<string, string>, raw = body): WebhookRequest {
  return { headers, rawBody: Buffer.from(raw), receivedAt };
}

describe('Podium webhook signature', () => {
  const receiver = createPodiumReceiver({ webhookSecret: 'configured', webhookToleranceMs: 300_000 }, STRICT);
  const ms = String(receivedAt.getTime());
  const s = String(receivedAt.getTime() / 1000);

  it('accepts a signature over a millisecond timestamp', async () => {
    const result = await receiver.verify(request({ 'podium-timestamp': ms, 'podium-signature': sign('configured', ms) }), noStored);
    expect(result).toEqual({ ok: true });
  });

  it('accepts a seconds timestamp and a sha256= prefix', async () => {
    const headers = { 'podium-timestamp': s, 'podium-signature': `sha256=${sign('configured', s)}` };
    expect(await receiver.verify(request(headers), noStored)).toEqual({ ok: true });
  });

  it('rejects a signature made with another secret or over another body', async () => {
    const wrongSecret = await receiver.verify(request({ 'podium-timestamp': ms, 'podium-signature': sign('other', ms) }), noStored);
    expect(wrongSecret).toEqual({ ok: false, reason: 'podium-signature does not match (checked 1 secret)' });
    const tampered = await receiver.verify(request({ 'podium-timestamp': ms, 'podium-signature': sign('configured', ms) }, `${body} `), noStored);
    expect(tampered.ok).toBe(false);
  });

  it('rejects a delivery without the signature headers', async () => {
    expect(await receiver.verify(request({}), noStored)).toEqual({ ok: false, reason: 'podium-timestamp header is missing' });
    expect(await receiver.verify(request({ 'podium-timestamp': ms }), noStored)).toEqual({ ok: false, reason: 'podium-signature header is missing' });
  });

  it('rejects a stale, a future and a malformed timestamp, saying by how much', async () => {
    const verifyAt = async (timestamp: string) =>
      receiver.verify(request({ 'podium-timestamp': timestamp, 'podium-signature': sign('configured', timestamp) }), noStored);
    expect(await verifyAt(String(receivedAt.getTime() - 10 * 60_000))).toEqual({
      ok: false,
      reason: `podium-timestamp ${receivedAt.getTime() - 600_000} is 10 min old, tolerance 300 s`,
    });
    // The timestamp of Podium's own signature example, in seconds.
    expect(await verifyAt('1620771659')).toEqual({ ok: false, reason: 'podium-timestamp 1620771659 is 3 years old, tolerance 300 s' });
    expect(await verifyAt(String(receivedAt.getTime() + 3 * 3_600_000))).toMatchObject({ ok: false, reason: expect.stringContaining('3 h from now') });
    expect(await verifyAt('2024-05-01T12:00:00Z')).toMatchObject({ ok: false, reason: expect.stringContaining('not Unix time') });
  });

  it('accepts the secret of a webhook created through the gateway, besides the configured one', async () => {
    const stored: VerifyContext = { storedSecrets: async () => ['stored-1', 'stored-2'] };
    expect(await receiver.verify(request({ 'podium-timestamp': ms, 'podium-signature': sign('stored-2', ms) }), stored)).toEqual({ ok: true });
    const storedOnly = createPodiumReceiver({ webhookSecret: null, webhookToleranceMs: 300_000 }, STRICT);
    expect(await storedOnly.verify(request({ 'podium-timestamp': ms, 'podium-signature': sign('stored-1', ms) }), stored)).toEqual({ ok: true });
    expect(await storedOnly.verify(request({}), stored)).toMatchObject({ ok: false });
  });

  it('refuses unsigned deliveries when no secret is known and unsigned ones are not allowed, naming the variable', async () => {
    const unsigned = createPodiumReceiver({ webhookSecret: null, webhookToleranceMs: 300_000 }, STRICT);
    expect(await unsigned.verify(request({}), noStored)).toMatchObject({ ok: false, reason: expect.stringContaining('set PODIUM_WEBHOOK_SECRET') });
  });
});

describe('Podium webhook parsing', () => {
  const receiver = createPodiumReceiver({ webhookSecret: null, webhookToleranceMs: 300_000 }, STRICT);
  const parse = (payload: unknown) => {
    const raw = JSON.stringify(payload);
    return receiver.parse(JSON.parse(raw), request({}, raw));
  };
  const data = { uid: 'm1', body: 'Hi', conversation: { uid: 'c1', channel: { type: 'phone' } } };

  it('keys an event by eventUid, else event type + message uid, else the body hash', () => {
    expect(parse({ data, metadata: { eventType: 'message.received', eventUid: 'e1' } })[0]?.eventKey).toBe('uid:e1');
    expect(parse({ data, metadata: { event_type: 'message.received', event_uid: 'e1' } })[0]?.eventKey).toBe('uid:e1');
    expect(parse({ data, metadata: { eventType: 'message.received' } })[0]?.eventKey).toBe(`h:${hashKey('message.received', 'm1')}`);
    const noUid = { data: { ...data, uid: null }, metadata: { eventType: 'message.sent' } };
    expect(parse(noUid)[0]).toMatchObject({ eventKey: `raw:${hashKey(Buffer.from(JSON.stringify(noUid)))}`, result: { ok: true } });
  });

  it('stores a non-message event as unprocessable, keeping its type and key', () => {
    expect(parse({ data: { uid: 'k1' }, metadata: { eventType: 'contact.created', eventUid: 'e2' } })).toEqual([
      {
        eventKey: 'uid:e2',
        providerEventType: 'contact.created',
        result: { ok: false, reason: 'Podium event type contact.created is not a message event (message.sent, message.received, message.failed)' },
      },
    ]);
  });

  it('marks bodies it cannot read as unprocessable with the reason', () => {
    const cases: Array<[unknown, string | null, string]> = [
      [[1, 2], null, 'got no metadata object'],
      [{ data }, null, 'got no metadata object'],
      [{ data, metadata: {} }, null, 'no eventType'],
      [{ data: 'x', metadata: { eventType: 'message.sent' } }, 'message.sent', 'no data object'],
      [{ data: { uid: 'm1' }, metadata: { eventType: 'message.sent' } }, 'message.sent', 'no data.conversation.uid'],
    ];
    for (const [payload, providerEventType, reason] of cases) {
      const [event] = parse(payload);
      expect(event).toMatchObject({ providerEventType, result: { ok: false, reason: expect.stringContaining(reason) } });
    }
  });
});

describe('Podium emulator deliveries', () => {
  let emulator: PodiumEmulator;
  const received: Array<{ path: string; headers: IncomingHttpHeaders; rawBody: Buffer }> = [];
  const target = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, rawBody: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });

  beforeAll(async () => {
    emulator = await startPodiumEmulator({ seed: 7 });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await emulator.close();
    await new Promise<void>((resolve) => target.close(() => resolve()));
  });

  it('delivers a signed message webhook that the receiver verifies and parses, and the message is then readable', async () => {
    const { port } = target.address() as AddressInfo;
    await emulator.addWebhookTarget(`http://127.0.0.1:${port}/hook`);
    const conversationId = emulator.fixtures.conversationIds[3]!;
    const emitted = await emulator.emitMessageEvent('RECEIVED', { conversationId });
    expect(emitted.deliveries).toEqual([{ url: `http://127.0.0.1:${port}/hook`, status: 200 }]);
    const delivery = received.at(-1)!;
    expect(delivery.rawBody.toString()).toBe(emitted.rawBody);
    expect(delivery.headers['podium-timestamp']).toMatch(/^\d{13}$/);

    const config = emulator.providerConfig();
    const provider = createPodiumProvider(config, { upstream: { timeoutMs: 2_000, maxRetries: 1 }, publicUrl: 'http://localhost', allowUnsignedWebhooks: false });
    const req: WebhookRequest = {
      headers: { 'podium-timestamp': String(delivery.headers['podium-timestamp']), 'podium-signature': String(delivery.headers['podium-signature']) },
      rawBody: delivery.rawBody,
      receivedAt: new Date(),
    };
    expect(await provider.receiver.verify(req, noStored)).toEqual({ ok: true });
    const [event] = provider.receiver.parse(JSON.parse(emitted.rawBody), req);
    expect(event).toMatchObject({
      eventKey: expect.stringMatching(/^uid:[0-9a-f-]{36}$/),
      providerEventType: 'message.received',
      result: { ok: true, event: { kind: 'RECEIVED', message: { id: emitted.messageId, conversationId, direction: 'INBOUND', sender: { kind: 'CONTACT' } } } },
    });
    const [stored] = await provider.getMessages([emitted.messageId!]);
    expect(stored).toMatchObject({ id: emitted.messageId, direction: 'INBOUND', status: 'RECEIVED' });
    const [newest] = (await provider.listMessages(conversationId, { cursor: null, limit: 1 })).items;
    expect(newest?.id).toBe(emitted.messageId);
  });

  it('sends each event only to webhooks subscribed to it, signed with that webhook\'s secret', async () => {
    const { port } = target.address() as AddressInfo;
    const provider = createPodiumProvider(emulator.providerConfig(), { upstream: { timeoutMs: 2_000, maxRetries: 1 }, publicUrl: 'http://localhost', allowUnsignedWebhooks: false });
    const onlySent = await provider.webhooks.create({
      url: `http://127.0.0.1:${port}/sent-only`,
      eventTypes: ['message.sent'],
      organizationId: null,
      locationId: emulator.fixtures.locationIds[0]!,
      secret: 'sent-only-secret',
    });
    const failed = await emulator.emitMessageEvent('FAILED');
    expect(failed.deliveries.map((d) => d.url)).not.toContain(onlySent.url);
    const parsed = provider.receiver.parse(JSON.parse(failed.rawBody), request({}, failed.rawBody));
    expect(parsed[0]?.result).toMatchObject({ ok: true, event: { kind: 'FAILED', message: { status: 'FAILED', direction: 'OUTBOUND', failureReason: expect.any(String) } } });

    const [inLocation] = (await provider.listConversations({ cursor: null, limit: 1 }, { locationId: emulator.fixtures.locationIds[0]! })).items;
    const sent = await emulator.emitMessageEvent('SENT', { conversationId: inLocation!.id });
    expect(sent.deliveries.map((d) => d.url)).toContain(onlySent.url);
    const delivery = received.find((r) => r.path === '/sent-only' && r.rawBody.toString() === sent.rawBody)!;
    const timestamp = String(delivery.headers['podium-timestamp']);
    expect(delivery.headers['podium-signature']).toBe(sign('sent-only-secret', timestamp, sent.rawBody));

    const timestampMs = Date.now();
    const headers = emulator.signWebhook(failed.rawBody, { timestampMs });
    expect(headers).toEqual({ 'podium-timestamp': String(timestampMs), 'podium-signature': sign('sandbox-podium-secret', String(timestampMs), failed.rawBody) });
    await provider.webhooks.delete(onlySent.id);
  });
});
