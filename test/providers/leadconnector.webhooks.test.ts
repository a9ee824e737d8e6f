// HighLevel webhooks: signature and replay checks on what the emulator signs,
// dedupe keys, unprocessable bodies, real deliveries from the emulator to a
// receiving server, and the read-only Marketplace webhook admin.
import { createPublicKey } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { HIGHLEVEL_ED25519_PUBLIC_KEY, HIGHLEVEL_RSA_PUBLIC_KEY, type LeadConnectorConfig } from '../../src/providers/leadconnector/config.js';
import { UnsupportedError } from '../../src/errors.js';
import type { MessageEventKind } from '../../src/model.js';
import { createLeadConnectorProvider } from '../../src/providers/leadconnector/index.js';
import { createLeadConnectorReceiver } from '../../src/providers/leadconnector/webhooks.js';
import type { WebhookReceiver, WebhookRequest } from '../../src/providers/provider.js';
import { startLeadConnectorEmulator } from '../../src/sandbox/leadconnector/index.js';
import type { ProviderEmulator } from '../../src/sandbox/types.js';

/** Production's policy: a provider with no secret known refuses every delivery. */
const STRICT = { allowUnsignedWebhooks: false } as const;

const ctx = { storedSecrets: async (): Promise<string[]> => [] };
const NOW = new Date('2025-01-28T14:36:00Z');

let emulator: ProviderEmulator<LeadConnectorConfig>;
let receiver: WebhookReceiver;

beforeAll(async () => {
  emulator = await startLeadConnectorEmulator();
  receiver = createLeadConnectorReceiver(emulator.providerConfig(), STRICT);
});
afterAll(async () => {
  await emulator?.close();
});

function inbound(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'InboundMessage',
    locationId: 'l1C08ntBrFjLS0elLIYU',
    attachments: [],
    body: 'This is a test message',
    contactId: 'cI08i1Bls3iTB9bKgFJh',
    contentType: 'text/plain',
    conversationId: 'fcanlLgpbQgQhderivVs',
    dateAdded: '2025-01-28T14:34:59.000Z',
    direction: 'inbound',
    messageType: 'SMS',
    status: 'delivered',
    messageId: 'p1mRSHeLDhAms5q0LMr4',
    timestamp: '2025-01-28T14:35:00Z',
    webhookId: 'abc123xyz',
    ...extra,
  });
}

function request(rawBody: string, headers: Record<string, string>, receivedAt = NOW): WebhookRequest {
  return { headers, rawBody: Buffer.from(rawBody), receivedAt };
}

function parse(rawBody: string): ReturnType<WebhookReceiver['parse']> {
  return receiver.parse(JSON.parse(rawBody), request(rawBody, {}));
}

describe('HighLevel webhook signatures', () => {
  it('accepts a body signed with Ed25519 in x-ghl-signature', async () => {
    const body = inbound();
    const { 'x-ghl-signature': ghl } = emulator.signWebhook(body);
    expect(await receiver.verify(request(body, { 'x-ghl-signature': ghl as string }), ctx)).toEqual({ ok: true });
  });

  it('accepts a body signed with RSA in the legacy x-wh-signature', async () => {
    const body = inbound();
    const { 'x-wh-signature': wh } = emulator.signWebhook(body);
    expect(await receiver.verify(request(body, { 'x-wh-signature': wh as string }), ctx)).toEqual({ ok: true });
  });

  it('rejects a body changed after signing', async () => {
    const headers = emulator.signWebhook(inbound());
    const result = await receiver.verify(request(inbound({ body: 'Send me your password' }), headers), ctx);
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('x-ghl-signature') });
    const { 'x-wh-signature': wh } = headers;
    expect(await receiver.verify(request(inbound({ body: 'Send me your password' }), { 'x-wh-signature': wh as string }), ctx)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('x-wh-signature'),
    });
  });

  it('rejects a bad x-ghl-signature even when x-wh-signature is valid', async () => {
    const body = inbound();
    const { 'x-wh-signature': wh } = emulator.signWebhook(body);
    const forged = emulator.signWebhook(inbound({ webhookId: 'other' }))['x-ghl-signature'] as string;
    const result = await receiver.verify(request(body, { 'x-ghl-signature': forged, 'x-wh-signature': wh as string }), ctx);
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('x-ghl-signature') });
  });

  it('rejects a delivery with neither signature header', async () => {
    expect(await receiver.verify(request(inbound(), {}), ctx)).toMatchObject({ ok: false, reason: expect.stringContaining('neither') });
  });

  it('rejects deliveries signed by another key (HighLevel production keys configured)', async () => {
    const production = createLeadConnectorReceiver({
      webhookPublicKey: HIGHLEVEL_RSA_PUBLIC_KEY,
      webhookEd25519PublicKey: HIGHLEVEL_ED25519_PUBLIC_KEY,
      webhookToleranceMs: 300_000,
    }, STRICT);
    const body = inbound();
    const headers = emulator.signWebhook(body);
    expect((await production.verify(request(body, headers), ctx)).ok).toBe(false);
    expect((await production.verify(request(body, { 'x-wh-signature': headers['x-wh-signature'] as string }), ctx)).ok).toBe(false);
  });

  it('reads an Ed25519 key given as PEM as well as base64 DER', async () => {
    const config = emulator.providerConfig();
    const pem = createPublicKey({ key: Buffer.from(config.webhookEd25519PublicKey, 'base64'), format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const pemReceiver = createLeadConnectorReceiver({ ...config, webhookEd25519PublicKey: pem }, STRICT);
    const body = inbound();
    expect(await pemReceiver.verify(request(body, emulator.signWebhook(body)), ctx)).toEqual({ ok: true });
  });

  it('refuses to start with a key that is not a public key of the right type, naming the variable', () => {
    const config = emulator.providerConfig();
    expect(() => createLeadConnectorReceiver({ ...config, webhookEd25519PublicKey: 'bm90IGEga2V5' }, STRICT)).toThrow(/LEADCONNECTOR_WEBHOOK_ED25519_PUBLIC_KEY/);
    expect(() => createLeadConnectorReceiver({ ...config, webhookPublicKey: config.webhookEd25519PublicKey }, STRICT)).toThrow(
      /LEADCONNECTOR_WEBHOOK_PUBLIC_KEY must be an rsa public key, got ed25519/,
    );
  });
});

describe('HighLevel webhook replay window', () => {
  it.each([
    ['301 s old', -301_000, 'old'],
    ['301 s in the future', 301_000, 'future'],
  ])('rejects an authentic body whose timestamp is %s', async (_, offsetMs, word) => {
    const body = inbound({ timestamp: new Date(NOW.getTime() + offsetMs).toISOString() });
    const result = await receiver.verify(request(body, emulator.signWebhook(body)), ctx);
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining(word) });
  });

  it('accepts a timestamp just inside the window', async () => {
    const recent = inbound({ timestamp: new Date(NOW.getTime() - 299_000).toISOString() });
    expect(await receiver.verify(request(recent, emulator.signWebhook(recent)), ctx)).toEqual({ ok: true });
  });

  it('refuses a signed body without a timestamp: it would be replayable forever', async () => {
    const undated = inbound({ timestamp: undefined });
    expect(await receiver.verify(request(undated, emulator.signWebhook(undated)), ctx)).toEqual({ ok: false, reason: 'no timestamp in the signed body' });
  });

  it('rejects a timestamp that is not a date', async () => {
    const body = inbound({ timestamp: 'yesterday' });
    expect(await receiver.verify(request(body, emulator.signWebhook(body)), ctx)).toMatchObject({
      ok: false,
      reason: 'expected timestamp to be an ISO-8601 date, got "yesterday"',
    });
  });
});

describe('HighLevel webhook parsing', () => {
  it('keys an event by webhookId when there is one', () => {
    expect(parse(inbound())[0]?.eventKey).toBe('webhook:abc123xyz');
  });

  it('keys an event without webhookId by message id and event type, so a redelivery dedupes', () => {
    const a = parse(inbound({ webhookId: undefined, timestamp: '2025-01-28T14:35:00Z' }))[0]?.eventKey;
    const b = parse(inbound({ webhookId: undefined, timestamp: '2025-01-28T14:36:00Z' }))[0]?.eventKey;
    const outbound = parse(inbound({ webhookId: undefined, type: 'OutboundMessage' }))[0]?.eventKey;
    expect(a).toMatch(/^message:[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(outbound).not.toBe(a);
  });

  it('keys an event without webhookId or messageId by its body', () => {
    const a = parse(inbound({ webhookId: undefined, messageId: undefined }))[0]?.eventKey;
    const b = parse(inbound({ webhookId: undefined, messageId: undefined, body: 'Another message' }))[0]?.eventKey;
    expect(a).toMatch(/^raw:[0-9a-f]{64}$/);
    expect(b).toMatch(/^raw:/);
    expect(b).not.toBe(a);
  });

  it('marks an unknown event type unprocessable with a reason', () => {
    const body = JSON.stringify({ type: 'ContactCreate', locationId: 'l1C08ntBrFjLS0elLIYU', id: 'cI08i1Bls3iTB9bKgFJh' });
    expect(parse(body)).toEqual([
      {
        eventKey: expect.stringMatching(/^raw:/),
        providerEventType: 'ContactCreate',
        result: { ok: false, reason: 'expected type InboundMessage, OutboundMessage, or SMS / Email (ProviderOutboundMessage), got "ContactCreate"' },
      },
    ]);
  });

  it('marks bodies of the wrong shape unprocessable', () => {
    expect(parse('[1,2]')[0]?.result).toEqual({ ok: false, reason: 'expected a JSON object, got an array' });
    expect(parse(inbound({ conversationId: undefined }))[0]).toMatchObject({
      providerEventType: 'InboundMessage',
      result: { ok: false, reason: 'expected InboundMessage to carry string conversationId, got none' },
    });
    expect(parse(JSON.stringify({ type: 'SMS', contactId: 'GKBhT6BfwY9mjzXAU3sq', message: 'hi' }))[0]?.result).toEqual({
      ok: false,
      reason: 'expected ProviderOutboundMessage to carry string messageId, got none',
    });
  });

  it('asks HighLevel to retry with 429 and rejects bodies that are not JSON', () => {
    expect(receiver.retryStatus).toBe(429);
    expect(receiver.invalidJson).toBe('reject');
  });
});

describe('HighLevel emulator deliveries', () => {
  it.each<[MessageEventKind, string, string]>([
    ['RECEIVED', 'InboundMessage', 'RECEIVED'],
    ['SENT', 'OutboundMessage', 'SENT'],
    ['FAILED', 'OutboundMessage', 'FAILED'],
  ])('delivers a signed %s event that verifies and parses into that event', async (kind, eventType, status) => {
    const received: Array<{ headers: IncomingHttpHeaders; rawBody: Buffer }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, rawBody: Buffer.concat(chunks) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/leadconnector`;
    await emulator.addWebhookTarget(url);

    const [conversationId] = emulator.fixtures.conversationIds;
    const emitted = await emulator.emitMessageEvent(kind, { conversationId });
    expect(emitted.deliveries).toContainEqual({ url, status: 200 });
    const delivery = received.at(-1);
    if (!delivery) throw new Error('expected the emulator to deliver to the target');
    expect(delivery.headers['x-ghl-signature']).toBeTruthy();
    expect(delivery.headers['x-wh-signature']).toBeTruthy();

    const headers = Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
    const req: WebhookRequest = { headers, rawBody: delivery.rawBody, receivedAt: new Date() };
    expect(await receiver.verify(req, ctx)).toEqual({ ok: true });
    const { 'x-ghl-signature': _dropped, ...legacyOnly } = headers;
    expect(await receiver.verify({ ...req, headers: legacyOnly }, ctx)).toEqual({ ok: true });

    const body = JSON.parse(delivery.rawBody.toString('utf8')) as { webhookId: string };
    expect(receiver.parse(body, req)).toEqual([
      {
        eventKey: `webhook:${body.webhookId}`,
        providerEventType: eventType,
        result: { ok: true, event: { kind, message: expect.objectContaining({ id: emitted.messageId, conversationId, status }) } },
      },
    ]);

    // The new message is what the REST API now serves first.
    const provider = createLeadConnectorProvider(emulator.providerConfig(), { upstream: { timeoutMs: 5_000, maxRetries: 0 }, publicUrl: 'http://gw', allowUnsignedWebhooks: false });
    const page = await provider.listMessages(conversationId as string, { cursor: null, limit: 1 });
    expect(page.items[0]?.id).toBe(emitted.messageId);
  });
});

describe('HighLevel webhook admin', () => {
  const provider = (): ReturnType<typeof createLeadConnectorProvider> =>
    createLeadConnectorProvider(emulator.providerConfig(), { upstream: { timeoutMs: 5_000, maxRetries: 0 }, publicUrl: 'https://gateway.example.com/', allowUnsignedWebhooks: false });
  const marketplace = {
    provider: 'LEADCONNECTOR',
    id: 'marketplace',
    url: 'https://gateway.example.com/webhooks/leadconnector',
    eventTypes: ['InboundMessage', 'OutboundMessage', 'ProviderOutboundMessage'],
    locationId: null,
    organizationId: null,
    disabled: false,
    secret: null,
    editable: false,
    createdAt: null,
    updatedAt: null,
  };

  it('shows the Marketplace app webhook as the one read-only subscription, without calling HighLevel', async () => {
    emulator.resetRequests();
    const { webhooks } = provider();
    expect(webhooks.eventTypes).toEqual(['InboundMessage', 'OutboundMessage', 'ProviderOutboundMessage']);
    expect(await webhooks.list()).toEqual([marketplace]);
    expect(await webhooks.get('marketplace')).toEqual(marketplace);
    expect(await webhooks.get('abc123')).toBeNull();
    expect(emulator.requestCount()).toBe(0);
  });

  it('refuses to create, update or delete subscriptions, pointing at the Marketplace app settings', async () => {
    emulator.resetRequests();
    const { webhooks } = provider();
    const attempts = [
      webhooks.create({ url: 'https://example.com/hook', eventTypes: ['InboundMessage'] }),
      webhooks.update('marketplace', { disabled: true }),
      webhooks.delete('marketplace'),
    ];
    for (const attempt of attempts) {
      const err = await attempt.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedError);
      expect((err as Error).message).toMatch(/Marketplace app \(app settings → Webhook URL/);
    }
    expect(emulator.requestCount()).toBe(0);
  });
});
