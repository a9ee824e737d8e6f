// The emulators' send endpoints over real HTTP: each answers in its provider's
// documented shape, lists the message afterwards, and delivers its provider's
// signed webhooks, sent before delivered or failed; the fault switches
// (latency, an answer lost after the provider accepted, 429 with Retry-After,
// 5xx) and Podium's sliding-window rate limit; upstream send counts.
import { createHmac, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startLeadConnectorEmulator, type LeadConnectorEmulator } from '../src/sandbox/leadconnector/index.js';
import { LANA_LANDLINE, startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { SEND_LIFECYCLE_TRIGGERS, startSmoochEmulator, type SmoochEmulator } from '../src/sandbox/smooch/index.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './helpers/webhook-receiver.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver();
  onTestFinished(() => r.close());
  return r;
}

async function call(url: string, init: RequestInit & { headers: Record<string, string> }): Promise<{ status: number; headers: Headers; body: Json; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Json) : {}, ms: performance.now() - started };
}

// ---------------------------------------------------------------- Podium

async function usePodium(): Promise<{ emu: PodiumEmulator; hooks: WebhookReceiver; api: (path: string, init?: { method?: string; body?: unknown }) => ReturnType<typeof call> }> {
  const emu = await startPodiumEmulator();
  onTestFinished(() => emu.close());
  const hooks = await receiver();
  await emu.addWebhookTarget(`${hooks.url}/podium`);
  const api = (path: string, init: { method?: string; body?: unknown } = {}): ReturnType<typeof call> =>
    call(`${emu.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${emu.providerConfig().api.accessToken}` },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  return { emu, hooks, api };
}

/** A phone conversation of the default organization (not Lana's) and the send body that replies in it. */
async function podiumPhoneReply(api: Awaited<ReturnType<typeof usePodium>>['api'], body = 'Your car is ready.'): Promise<{ conversationUid: string; send: Json }> {
  const list = await api('/v4/conversations?limit=100');
  const conv = (list.body.data as Json[]).find((c) => c.channel.type === 'phone' && c.channel.identifier !== LANA_LANDLINE.phone) as Json;
  return { conversationUid: conv.uid, send: { body, channel: { type: 'phone', identifier: conv.channel.identifier }, locationUid: conv.locationUid } };
}

function podiumSignatureOk(hook: ReceivedWebhook, secret: string): boolean {
  const timestamp = String(hook.headers['podium-timestamp']);
  return createHmac('sha256', secret).update(`${timestamp}.${hook.rawBody}`).digest('hex') === hook.headers['podium-signature'];
}

describe('Podium POST /v4/messages', () => {
  it('answers the message, lists it newest first in its conversation, and delivers a signed message.sent, then reads delivered', async () => {
    const { emu, hooks, api } = await usePodium();
    const { conversationUid, send } = await podiumPhoneReply(api);
    const res = await api('/v4/messages', { method: 'POST', body: send });
    expect(res.status).toBe(200);
    const message = res.body.data as Json;
    expect(message).toMatchObject({ body: send.body, failureReason: null, conversation: { uid: conversationUid, channel: send.channel }, location: { uid: send.locationUid } });
    expect(message.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.metadata.url).toBe(`${emu.url}/v4/messages`);

    const listed = await api(`/v4/conversations/${conversationUid}/messages?limit=1`);
    expect(listed.body.data[0]).toMatchObject({ uid: message.uid, body: send.body });
    expect((await api(`/v4/conversations/${conversationUid}`)).body.data.lastItemAt).toBe(message.createdAt);

    const [sent] = await hooks.waitFor(1);
    expect(sent!.body).toMatchObject({ data: { uid: message.uid, body: send.body, conversation: { uid: conversationUid } }, metadata: { eventType: 'message.sent' } });
    expect(podiumSignatureOk(sent!, emu.providerConfig().webhookSecret as string)).toBe(true);
    await emu.sendsSettled();
    expect(hooks.received).toHaveLength(1); // Podium has no delivered event
    const after = await api(`/v4/conversations/${conversationUid}/messages/${message.uid}`);
    expect(after.body.data.items[0].deliveryStatus).toBe('delivered');
    expect(emu.sendCount()).toBe(1);
  });

  it('ends a text to Lana Landline in message.failed with failureReason "landline", after message.sent', async () => {
    const { emu, hooks, api } = await usePodium();
    const lana = (await api(`/v4/contacts/${encodeURIComponent(LANA_LANDLINE.phone)}`)).body.data as Json;
    expect(lana.name).toBe(LANA_LANDLINE.name);
    const locationUid = emu.fixtures.locationIds[0];
    const res = await api('/v4/messages', { method: 'POST', body: { body: 'Your estimate is ready', channel: { type: 'phone', identifier: LANA_LANDLINE.phone }, locationUid } });
    expect(res.status).toBe(200);
    const hooksSeen = await hooks.waitFor(2);
    expect(hooksSeen.map((h) => (h.body as Json).metadata.eventType)).toEqual(['message.sent', 'message.failed']);
    const failed = (hooksSeen[1]!.body as Json).data;
    expect(failed).toMatchObject({ uid: res.body.data.uid, failureReason: 'landline', contact: { name: LANA_LANDLINE.name, uid: lana.uid }, sender: { uid: null } });
    const listed = await api(`/v4/conversations/${res.body.data.conversation.uid}/messages?limit=1`);
    expect(listed.body.data[0]).toMatchObject({ uid: res.body.data.uid, failureReason: 'landline' });
  });

  it('opens a closed conversation for a new phone number, and refuses bad requests with invalid_request_values, storing nothing', async () => {
    const { emu, hooks, api } = await usePodium();
    const locationUid = emu.fixtures.locationIds[1];
    const opened = await api('/v4/messages', { method: 'POST', body: { body: 'Welcome!', channel: { type: 'phone', identifier: '(801) 555-7777' }, locationUid, contactName: 'New Person' } });
    expect(opened.status).toBe(200);
    const conv = (await api(`/v4/conversations/${opened.body.data.conversation.uid}`)).body.data as Json;
    expect(conv).toMatchObject({ closed: true, contactName: 'New Person', locationUid, channel: { type: 'phone', identifier: '+18015557777' } });
    expect((await api('/v4/conversations?limit=1')).body.data[0].uid).toBe(conv.uid);
    expect((await api('/v4/contacts/+18015557777')).body.data.name).toBe('New Person');

    for (const [body, says] of [
      [{ channel: { type: 'phone', identifier: '+18015557777' }, locationUid }, 'body is required'],
      [{ body: 'x', channel: { type: 'sms', identifier: '+18015557777' }, locationUid }, 'channel.type must be one of phone, email'],
      [{ body: 'x', channel: { type: 'email', identifier: 'not-an-email' }, locationUid }, 'channel.identifier must be a valid email address'],
      [{ body: 'x', channel: { type: 'phone', identifier: '+18015557777' }, locationUid: '00000000-0000-0000-0000-000000000000' }, 'is not a location this token can access'],
    ] as const) {
      const refused = await api('/v4/messages', { method: 'POST', body });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'invalid_request_values' });
      expect(refused.body.message).toContain(says);
    }
    expect((await api(`/v4/conversations/${conv.uid}/messages`)).body.data).toHaveLength(1);
    await emu.sendsSettled();
    expect(hooks.received).toHaveLength(1);
    expect(emu.sendCount()).toBe(5);
  });

  it('answers 429 with Retry-After and 503 on switched faults without storing, and counts each as an upstream send', async () => {
    const { emu, hooks, api } = await usePodium();
    const { conversationUid, send } = await podiumPhoneReply(api);
    emu.injectFault({ ...emu.sendRequests, status: 429, retryAfterSeconds: 7 });
    emu.injectFault({ ...emu.sendRequests, status: 503 });
    const limited = await api('/v4/messages', { method: 'POST', body: send });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.body).toMatchObject({ code: 'rate_limit' });
    const down = await api('/v4/messages', { method: 'POST', body: send });
    expect(down.status).toBe(503);
    const before = (await api(`/v4/conversations/${conversationUid}/messages?limit=1`)).body.data[0].uid;
    expect(before).not.toBe(limited.body.data?.uid);
    // A read is not a send: the fault stays on sends.
    emu.injectFault({ ...emu.sendRequests, status: 500 });
    expect((await api(`/v4/conversations/${conversationUid}`)).status).toBe(200);
    expect(emu.sendCount()).toBe(2);
    await emu.sendsSettled();
    expect(hooks.received).toHaveLength(0);
  });

  it('accepts and stores a send whose answer never comes (afterHandling + hang), so the client times out while the message exists', async () => {
    const { emu, hooks, api } = await usePodium();
    const { conversationUid, send } = await podiumPhoneReply(api, 'Held answer');
    emu.injectFault({ ...emu.sendRequests, afterHandling: true, hang: true });
    const token = emu.providerConfig().api.accessToken;
    const timedOut = fetch(`${emu.url}/v4/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(send),
      signal: AbortSignal.timeout(300),
    });
    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' });
    const listed = await api(`/v4/conversations/${conversationUid}/messages?limit=1`);
    expect(listed.body.data[0].body).toBe('Held answer');
    const [sent] = await hooks.waitFor(1);
    expect((sent!.body as Json).data.uid).toBe(listed.body.data[0].uid);
    expect(emu.sendCount()).toBe(1);
  });

  it('holds a send answer with latency or an after-accept delay, leaving other routes fast', async () => {
    const { emu, api } = await usePodium();
    const { send } = await podiumPhoneReply(api);
    emu.setLatency(400, emu.sendRequests);
    const slow = await api('/v4/messages', { method: 'POST', body: send });
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(390);
    expect((await api('/v4/users?limit=1')).ms).toBeLessThan(390);
    emu.setLatency(0, emu.sendRequests);
    emu.injectFault({ ...emu.sendRequests, afterHandling: true, delayMs: 400 });
    const late = await api('/v4/messages', { method: 'POST', body: send });
    expect(late.status).toBe(200);
    expect(late.ms).toBeGreaterThanOrEqual(390);
    expect(late.body.data.body).toBe(send.body);
  });
});

describe('Podium sliding-window rate limit', () => {
  it('never admits more than N requests of an organization in any window, reads and sends alike, and says when to retry', async () => {
    const { emu, api } = await usePodium();
    const { send } = await podiumPhoneReply(api);
    emu.setRateLimit({ max: 5, windowMs: 1_000 });
    const admitted: number[] = [];
    const started = Date.now();
    let refused: Awaited<ReturnType<typeof call>> | null = null;
    for (let i = 0; Date.now() - started < 1_600; i++) {
      const res = i % 2 === 0 ? await api('/v4/users?limit=1') : await api('/v4/messages', { method: 'POST', body: send });
      if (res.status === 429) refused ??= res;
      else admitted.push(Date.now());
      if (res.status === 429) await new Promise((r) => setTimeout(r, 50));
    }
    expect(refused?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused?.body).toMatchObject({ code: 'rate_limit' });
    expect(admitted.length).toBeGreaterThan(5); // the window slid on
    // By the emulator's own clock: when the client got an answer says nothing exact about when it was admitted.
    const admittedAt = emu.requests.filter((r) => r.status !== 429 && r.status !== 0 && r.at >= started).map((r) => r.at);
    expect(admittedAt).toHaveLength(admitted.length);
    for (let i = 0; i + 5 < admittedAt.length; i++) expect(admittedAt[i + 5]! - admittedAt[i]!).toBeGreaterThanOrEqual(1_000);
  });

  it('counts each organization on its own: the other organization\'s token still gets through', async () => {
    const { emu, api } = await usePodium();
    const [, other] = emu.organizations;
    emu.oauth.signInAs(other!.uid);
    const { clientId, clientSecret } = emu.oauthConfig();
    const redirectUri = 'http://127.0.0.1:9/callback';
    const consent = await fetch(`${emu.url}/oauth/authorize?client_id=${clientId}&response_type=code&redirect_uri=${encodeURIComponent(redirectUri)}`, { redirect: 'manual' });
    const code = new URL(consent.headers.get('location') as string).searchParams.get('code');
    const grant = await call(`${emu.url}/oauth/token`, { method: 'POST', headers: {}, body: JSON.stringify({ client_id: clientId, client_secret: clientSecret, grant_type: 'authorization_code', code, redirect_uri: redirectUri }) });
    emu.setRateLimit({ max: 2, windowMs: 60_000 });
    expect([(await api('/v4/users?limit=1')).status, (await api('/v4/users?limit=1')).status, (await api('/v4/users?limit=1')).status]).toEqual([200, 200, 429]);
    const theirs = await call(`${emu.url}/v4/users?limit=1`, { headers: { authorization: `Bearer ${grant.body.access_token}` } });
    expect(theirs.status).toBe(200);
  });

  it('defaults to Podium\'s documented 300 requests per minute', async () => {
    const { emu, api } = await usePodium();
    emu.setRateLimit();
    const statuses: number[] = [];
    for (let i = 0; i < 301; i += 25) {
      const batch = await Promise.all(Array.from({ length: Math.min(25, 301 - i) }, () => api('/v4/locations?limit=1')));
      statuses.push(...batch.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(300);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    emu.setRateLimit(null);
    expect((await api('/v4/locations?limit=1')).status).toBe(200);
  });
});

// ---------------------------------------------------------------- HighLevel

async function useLeadConnector(): Promise<{ emu: LeadConnectorEmulator; hooks: WebhookReceiver; api: (path: string, init?: { method?: string; body?: unknown; version?: string }) => ReturnType<typeof call> }> {
  const emu = await startLeadConnectorEmulator();
  onTestFinished(() => emu.close());
  const hooks = await receiver();
  await emu.addWebhookTarget(`${hooks.url}/leadconnector`);
  const api = (path: string, init: { method?: string; body?: unknown; version?: string } = {}): ReturnType<typeof call> =>
    call(`${emu.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${emu.providerConfig().api.token}`, version: init.version ?? '2021-04-15' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  return { emu, hooks, api };
}

describe('HighLevel POST /conversations/messages', () => {
  it('answers {conversationId, messageId, status}, lists the message first, and delivers signed OutboundMessage sent, then delivered', async () => {
    const { emu, hooks, api } = await useLeadConnector();
    const contactId = emu.fixtures.contactIds[3]!;
    const res = await api('/conversations/messages', { method: 'POST', body: { type: 'SMS', contactId, message: 'See you at 3pm', attachments: ['https://files.example.com/map.png'] } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ conversationId: expect.any(String), messageId: expect.stringMatching(/^[A-Za-z0-9]{20}$/), status: 'pending' });
    const page = await api(`/conversations/${res.body.conversationId}/messages?limit=1`);
    expect(page.body.messages.messages[0]).toMatchObject({ id: res.body.messageId, body: 'See you at 3pm', direction: 'outbound', messageType: 'TYPE_SMS', source: 'api', attachments: ['https://files.example.com/map.png'] });
    const location = emu.providerConfig().api.locationId;
    const search = await api(`/conversations/search?locationId=${location}&contactId=${contactId}`);
    expect(search.body.conversations[0]).toMatchObject({ id: res.body.conversationId, lastMessageBody: 'See you at 3pm', lastMessageDirection: 'outbound' });

    const seen = await hooks.waitFor(2);
    expect(seen.map((h) => [(h.body as Json).type, (h.body as Json).status, (h.body as Json).messageId])).toEqual([
      ['OutboundMessage', 'sent', res.body.messageId],
      ['OutboundMessage', 'delivered', res.body.messageId],
    ]);
    const key = createPublicKey({ key: Buffer.from(emu.providerConfig().webhookEd25519PublicKey as string, 'base64'), format: 'der', type: 'spki' });
    for (const h of seen) expect(verify(null, Buffer.from(h.rawBody), key, Buffer.from(String(h.headers['x-ghl-signature']), 'base64'))).toBe(true);
    expect((await api(`/conversations/messages/${res.body.messageId}`)).body.status).toBe('delivered');
    expect(emu.sendCount()).toBe(1);
  });

  it('reports a delivery switched to fail as OutboundMessage status failed, and refuses bad sends with HighLevel errors', async () => {
    const { emu, hooks, api } = await useLeadConnector();
    emu.failNextDeliveries();
    const res = await api('/conversations/messages', { method: 'POST', body: { type: 'SMS', contactId: emu.fixtures.contactIds[0], message: 'hello' } });
    const seen = await hooks.waitFor(2);
    expect(seen.map((h) => (h.body as Json).status)).toEqual(['sent', 'failed']);
    expect((await api(`/conversations/messages/${res.body.messageId}`)).body.status).toBe('failed');

    expect((await api('/conversations/messages', { method: 'POST', body: { type: 'Fax', contactId: 'x', message: 'x' } })).body).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity' });
    expect((await api('/conversations/messages', { method: 'POST', body: { type: 'SMS', contactId: 'nope', message: 'x' } })).body).toMatchObject({ statusCode: 400, message: 'Contact not found' });
    expect((await api('/conversations/messages', { method: 'POST', body: { type: 'SMS', contactId: emu.fixtures.contactIds[0] } })).status).toBe(400);
    expect((await api('/conversations/messages', { method: 'POST', version: '2021-07-28', body: { type: 'SMS', contactId: emu.fixtures.contactIds[0], message: 'x' } })).status).toBe(400);
    emu.injectFault({ ...emu.sendRequests, status: 429, retryAfterSeconds: 3 });
    const limited = await api('/conversations/messages', { method: 'POST', body: { type: 'SMS', contactId: emu.fixtures.contactIds[0], message: 'x' } });
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '3']);
    await emu.sendsSettled();
    expect(hooks.received).toHaveLength(2);
    expect(emu.sendCount()).toBe(6);
  });
});

// ---------------------------------------------------------------- Smooch

async function useSmooch(): Promise<{ emu: SmoochEmulator; hooks: WebhookReceiver; secret: string; api: (path: string, init?: { method?: string; body?: unknown }) => ReturnType<typeof call> }> {
  const emu = await startSmoochEmulator();
  onTestFinished(() => emu.close());
  const hooks = await receiver();
  const { appId, keyId, secret } = emu.providerConfig().api;
  const api = (path: string, init: { method?: string; body?: unknown } = {}): ReturnType<typeof call> =>
    call(`${emu.url}/v2/apps/${appId}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}` },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const made = await api('/integrations', { method: 'POST', body: { type: 'custom', webhooks: [{ target: `${hooks.url}/smooch`, triggers: SEND_LIFECYCLE_TRIGGERS }] } });
  return { emu, hooks, secret: made.body.integration.webhooks[0].secret as string, api };
}

describe('Smooch POST /v2/apps/{appId}/conversations/{id}/messages', () => {
  it('answers 201 {messages}, keeps the metadata in lists and webhooks, and delivers conversation:message, then delivery:channel and delivery:user', async () => {
    const { emu, hooks, secret, api } = await useSmooch();
    const conversationId = emu.fixtures.conversationIds[2]!;
    const res = await api(`/conversations/${conversationId}/messages`, { method: 'POST', body: { author: { type: 'business' }, content: { type: 'text', text: 'On its way!' }, metadata: { outboundId: 'out-1' } } });
    expect(res.status).toBe(201);
    const [message] = res.body.messages as Json[];
    expect(message).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{24}$/), author: { type: 'business' }, content: { type: 'text', text: 'On its way!' }, source: { type: 'api:conversations' }, metadata: { outboundId: 'out-1' } });
    const listed = await api(`/conversations/${conversationId}/messages`);
    expect((listed.body.messages as Json[]).at(-1)).toEqual(message);
    expect((await api(`/conversations/${conversationId}`)).body.conversation.lastUpdatedAt).toBe(message!.received);

    const seen = await hooks.waitFor(3);
    const events = seen.map((h) => (h.body as Json).events[0] as Json);
    expect(events.map((e) => e.type)).toEqual(['conversation:message', 'conversation:message:delivery:channel', 'conversation:message:delivery:user']);
    expect(events[0]!.payload.message).toMatchObject({ id: message!.id, metadata: { outboundId: 'out-1' } });
    expect(events.slice(1).map((e) => e.payload.message.id)).toEqual([message!.id, message!.id]);
    expect(seen.every((h) => h.headers['x-api-key'] === secret)).toBe(true);
    expect(emu.sendCount()).toBe(1);
  });

  it('reports a delivery switched to fail as delivery:failure, and refuses an over-long text (4,096 characters at most) without storing it', async () => {
    const { emu, hooks, api } = await useSmooch();
    const conversationId = emu.fixtures.conversationIds[4]!;
    emu.failNextDeliveries(1, 'The number is unreachable');
    await api(`/conversations/${conversationId}/messages`, { method: 'POST', body: { author: { type: 'business' }, content: { type: 'text', text: 'hi' } } });
    const seen = await hooks.waitFor(2);
    expect(seen.map((h) => (h.body as Json).events[0].type)).toEqual(['conversation:message', 'conversation:message:delivery:failure']);
    expect((seen[1]!.body as Json).events[0].payload.error).toEqual({ code: 'uncategorized_error', message: 'The number is unreachable' });

    const before = (await api(`/conversations/${conversationId}/messages`)).body.messages.length as number;
    const long = await api(`/conversations/${conversationId}/messages`, { method: 'POST', body: { author: { type: 'business' }, content: { type: 'text', text: 'x'.repeat(4097) } } });
    expect(long.status).toBe(400);
    expect(long.body.errors[0]).toMatchObject({ code: 'bad_request' });
    expect((await api(`/conversations/${conversationId}/messages`, { method: 'POST', body: { author: { type: 'business' }, content: { type: 'text', text: 'x'.repeat(4096) } } })).status).toBe(201);
    expect((await api('/conversations/ffffffffffffffffffffffff/messages', { method: 'POST', body: { author: { type: 'business' }, content: { type: 'text', text: 'x' } } })).status).toBe(404);
    expect((await api(`/conversations/${conversationId}/messages`)).body.messages.length).toBe(before + 1);
    expect(emu.sendCount()).toBe(4);
  });
});
