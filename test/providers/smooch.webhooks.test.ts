// Smooch webhook receiver: X-API-Key verification, and normalization of the
// documented v1.1 and v2 payloads (one table row per example).
import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/model.js';
import type { ParsedEvent, VerifyContext, WebhookRequest } from '../../src/providers/provider.js';
import { normalizeSmoochConversation, smoochChannel, unixSecondsToIso } from '../../src/providers/smooch/normalize.js';
import { createSmoochReceiver } from '../../src/providers/smooch/webhooks.js';

/** Production's policy: a provider with no secret known refuses every delivery. */
const STRICT = { allowUnsignedWebhooks: false } as const;

const receiver = createSmoochReceiver({ webhookSecret: 'configured-secret' }, STRICT);

function request(rawBody: string, headers: Record<string, string> = {}): WebhookRequest {
  return { headers, rawBody: Buffer.from(rawBody), receivedAt: new Date('2024-05-01T12:00:00.000Z') };
}

function parse(body: unknown): readonly ParsedEvent[] {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return receiver.parse(JSON.parse(raw), request(raw));
}

const blank = {
  provider: 'SMOOCH',
  locationId: null,
  body: null,
  attachments: [],
  email: null,
  sender: null,
  failureReason: null,
  callDurationSeconds: null,
} as const;

// Verbatim from Smooch's "Receiving Messages" guide: note there is no `conversation` and no `version`.
const seedAppUser = `{
    "trigger": "message:appUser",
    "app": {
        "_id": "5698edbf2a43bd081be982f1"
    },
    "messages":[{
        "_id": "55c8c1498590aa1900b9b9b1",
        "text": "Hi! Do you have time to chat?",
        "role": "appUser",
        "authorId": "c7f6e6d6c3a637261bd9656f",
        "name": "Steve",
        "received": 1444348338.704,
        "metadata": {},
        "actions": [],
        "source": {
            "type": "messenger"
        }
    }],
    "appUser": {
        "_id": "c7f6e6d6c3a637261bd9656f",
        "userId": "bob@example.com",
        "properties": {},
        "signedUpAt": "2015-10-06T03:38:02.346Z",
        "clients": [
          {
            "active": true,
            "appVersion": "1.0",
            "id": "5A7F8343-DF41-46A8-96EC-8583FCB422FB",
            "lastSeen": "2016-03-09T19:09:01.431Z",
            "platform": "ios",
            "pushNotificationToken": "<...>",
            "info": {
              "appName": "ShellApp",
              "devicePlatform": "x86_64",
              "os": "iPhone OS",
              "osVersion": "9.2"
            }
          }
        ]
    }
}`;

const v11AppMaker = {
  trigger: 'message:appMaker',
  app: { _id: '5698edbf2a43bd081be982f1' },
  messages: [
    {
      _id: '55c8c1498590aa1900b9b9c2',
      text: 'Sure, how can we help?',
      role: 'appMaker',
      authorId: '5698edbf2a43bd081be982f1',
      name: 'Acme Support',
      avatarUrl: 'https://acme.example.com/logo.png',
      received: 1444348400.5,
      source: { type: 'api' },
    },
    {
      _id: '55c8c1498590aa1900b9b9c3',
      role: 'appMaker',
      name: 'Acme Support',
      mediaUrl: 'https://acme.example.com/hours.png',
      mediaType: 'image/png',
      received: 1444348400.5,
      source: { type: 'api' },
    },
  ],
  appUser: { _id: 'c7f6e6d6c3a637261bd9656f', userId: 'bob@example.com' },
  conversation: { _id: 'a1b2c3d4e5f60718293a4b5c' },
  version: 'v1.1',
};

const v11DeliveryFailure = {
  trigger: 'message:delivery:failure',
  app: { _id: '5698edbf2a43bd081be982f1' },
  appUser: { _id: 'c7f6e6d6c3a637261bd9656f' },
  conversation: { _id: 'a1b2c3d4e5f60718293a4b5c' },
  destination: { type: 'whatsapp' },
  message: { _id: '583c97d2e4d6e2ba006b7c31' },
  isFinalEvent: true,
  error: { code: 'unauthorized', underlyingError: { message: 'Invalid OAuth access token.', code: 190 } },
  timestamp: 1480349392.103,
  version: 'v1.1',
};

const v1DeliveryFailure = {
  trigger: 'delivery:failure',
  app: { _id: '5698edbf2a43bd081be982f1' },
  appUser: { _id: 'c7f6e6d6c3a637261bd9656f' },
  destination: { type: 'twilio' },
  messages: [{ _id: '583c97d2e4d6e2ba006b7c40', text: 'Your table is ready', role: 'appMaker' }],
  error: { code: 'bad_request' },
  timestamp: 1480349392.103,
};

const v2Envelope = { app: { id: '5ebee0975ac5304b664a12fa' }, webhook: { id: '5f4eaef81e3dcc117c7ba48a', version: 'v2' } };

// The spec's conversation:message example.
const v2UserMessageEvent = {
  id: '5f74a0d52b5315fc007e798a',
  createdAt: '2020-09-30T15:14:29.834Z',
  type: 'conversation:message',
  payload: {
    conversation: { id: 'f52b01137aa6c250bc7251fa', type: 'personal' },
    message: {
      id: '5f74c7d84a146f3abd72af1d',
      received: '2020-09-30T18:00:56.820Z',
      author: {
        userId: '26508c10541a4b0ff472e5e2',
        avatarUrl: 'https://s3.amazonaws.com/avatar.jpg',
        displayName: 'Steve Rogers',
        type: 'user',
        user: { id: '26508c10541a4b0ff472e5e2', externalId: '912382197', authenticated: true },
      },
      content: { type: 'text', text: 'hello' },
      source: { integrationId: '5ec69c6e12dda33be985cb1a', originalMessageId: '374', type: 'telegram' },
    },
  },
};

const v2BusinessMessageEvent = {
  id: '5f74a0d52b5315fc007e7990',
  createdAt: '2020-09-30T18:01:10.100Z',
  type: 'conversation:message',
  payload: {
    conversation: { id: 'f52b01137aa6c250bc7251fa', type: 'personal' },
    message: {
      id: '5f74c7e64a146f3abd72af2a',
      received: '2020-09-30T18:01:10.090Z',
      author: { type: 'business', displayName: 'Acme Support', avatarUrl: 'https://acme.example.com/logo.png' },
      content: { type: 'image', mediaUrl: 'https://media.example.com/menu.jpg', mediaType: 'image/jpeg', text: 'Our menu' },
      source: { type: 'api:conversations' },
    },
  },
};

// The spec's conversation:message:delivery:failure example.
const v2FailureEvent = {
  id: '5f74a0d52b5315fc007e798b',
  createdAt: '2020-09-30T15:14:29.834Z',
  type: 'conversation:message:delivery:failure',
  payload: {
    conversation: { id: 'f52b01137aa6c250bc7251fa', type: 'personal' },
    user: { id: '26508c10541a4b0ff472e5e2', externalId: '912382197', authenticated: false },
    destination: { type: 'twilio', integrationId: '5ecc061987d4d413774a8131' },
    message: { id: '5f74be6256be263abf0ffd5f' },
    isFinalEvent: true,
    error: { code: 'uncategorized_error', message: 'Unsupported message type `form`' },
  },
};

const v2ReadEvent = {
  id: '5f74a0d52b5315fc007e798c',
  createdAt: '2020-09-30T18:02:00.000Z',
  type: 'conversation:read',
  payload: {
    conversation: { id: 'f52b01137aa6c250bc7251fa', type: 'personal' },
    activity: { type: 'conversation:read', author: { type: 'user', userId: '26508c10541a4b0ff472e5e2' } },
  },
};

const steveInbound: MessageRecord = {
  ...blank,
  id: 'f52b01137aa6c250bc7251fa/5f74c7d84a146f3abd72af1d',
  conversationId: 'f52b01137aa6c250bc7251fa',
  contactRef: '26508c10541a4b0ff472e5e2',
  direction: 'INBOUND',
  status: 'RECEIVED',
  channel: 'OTHER',
  body: 'hello',
  sender: { kind: 'CONTACT', contactRef: '26508c10541a4b0ff472e5e2', name: 'Steve Rogers' },
  createdAt: '2020-09-30T18:00:56.820Z',
};

const v2Failed: MessageRecord = {
  ...blank,
  id: 'f52b01137aa6c250bc7251fa/5f74be6256be263abf0ffd5f',
  conversationId: 'f52b01137aa6c250bc7251fa',
  contactRef: '26508c10541a4b0ff472e5e2',
  direction: 'OUTBOUND',
  status: 'FAILED',
  channel: 'SMS',
  failureReason: 'uncategorized_error: Unsupported message type `form`',
  createdAt: '2020-09-30T15:14:29.834Z',
};

interface Row {
  readonly name: string;
  readonly body: unknown;
  readonly expected: ReadonlyArray<ParsedEvent>;
}

const rows: Row[] = [
  {
    name: 'the guide’s v1.1 message:appUser example (no conversation, no version)',
    body: seedAppUser,
    expected: [
      {
        eventKey: 'message:appUser:55c8c1498590aa1900b9b9b1',
        providerEventType: 'message:appUser',
        result: {
          ok: true,
          event: {
            kind: 'RECEIVED',
            message: {
              ...blank,
              // Without the conversation there is no load key for the message.
              id: null,
              conversationId: null,
              contactRef: 'c7f6e6d6c3a637261bd9656f',
              direction: 'INBOUND',
              status: 'RECEIVED',
              channel: 'FACEBOOK',
              body: 'Hi! Do you have time to chat?',
              sender: { kind: 'CONTACT', contactRef: 'c7f6e6d6c3a637261bd9656f', name: 'Steve' },
              createdAt: '2015-10-08T23:52:18.704Z',
            },
          },
        },
      },
    ],
  },
  {
    name: 'a v1.1 message:appMaker with two messages, each its own SENT event',
    body: v11AppMaker,
    expected: [
      {
        eventKey: 'message:appMaker:55c8c1498590aa1900b9b9c2',
        providerEventType: 'message:appMaker',
        result: {
          ok: true,
          event: {
            kind: 'SENT',
            message: {
              ...blank,
              id: 'a1b2c3d4e5f60718293a4b5c/55c8c1498590aa1900b9b9c2',
              conversationId: 'a1b2c3d4e5f60718293a4b5c',
              contactRef: 'c7f6e6d6c3a637261bd9656f',
              direction: 'OUTBOUND',
              status: 'SENT',
              channel: 'WEBCHAT',
              body: 'Sure, how can we help?',
              sender: { kind: 'BUSINESS', name: 'Acme Support', avatarUrl: 'https://acme.example.com/logo.png' },
              createdAt: '2015-10-08T23:53:20.500Z',
            },
          },
        },
      },
      {
        eventKey: 'message:appMaker:55c8c1498590aa1900b9b9c3',
        providerEventType: 'message:appMaker',
        result: {
          ok: true,
          event: {
            kind: 'SENT',
            message: {
              ...blank,
              id: 'a1b2c3d4e5f60718293a4b5c/55c8c1498590aa1900b9b9c3',
              conversationId: 'a1b2c3d4e5f60718293a4b5c',
              contactRef: 'c7f6e6d6c3a637261bd9656f',
              direction: 'OUTBOUND',
              status: 'SENT',
              channel: 'WEBCHAT',
              attachments: [{ url: 'https://acme.example.com/hours.png', contentType: 'image/png' }],
              sender: { kind: 'BUSINESS', name: 'Acme Support', avatarUrl: null },
              createdAt: '2015-10-08T23:53:20.500Z',
            },
          },
        },
      },
    ],
  },
  {
    name: 'a v1.1 message:delivery:failure (message{_id}, destination, error, timestamp)',
    body: v11DeliveryFailure,
    expected: [
      {
        eventKey: 'message:delivery:failure:583c97d2e4d6e2ba006b7c31:whatsapp',
        providerEventType: 'message:delivery:failure',
        result: {
          ok: true,
          event: {
            kind: 'FAILED',
            message: {
              ...blank,
              id: 'a1b2c3d4e5f60718293a4b5c/583c97d2e4d6e2ba006b7c31',
              conversationId: 'a1b2c3d4e5f60718293a4b5c',
              contactRef: 'c7f6e6d6c3a637261bd9656f',
              direction: 'OUTBOUND',
              status: 'FAILED',
              channel: 'WHATSAPP',
              failureReason: 'unauthorized: Invalid OAuth access token.',
              createdAt: '2016-11-28T16:09:52.103Z',
            },
          },
        },
      },
    ],
  },
  {
    name: 'an older v1 delivery:failure listing messages[]',
    body: v1DeliveryFailure,
    expected: [
      {
        eventKey: 'delivery:failure:583c97d2e4d6e2ba006b7c40:twilio',
        providerEventType: 'delivery:failure',
        result: {
          ok: true,
          event: {
            kind: 'FAILED',
            message: {
              ...blank,
              id: null,
              conversationId: null,
              contactRef: 'c7f6e6d6c3a637261bd9656f',
              direction: 'OUTBOUND',
              status: 'FAILED',
              channel: 'SMS',
              body: 'Your table is ready',
              failureReason: 'bad_request',
              createdAt: '2016-11-28T16:09:52.103Z',
            },
          },
        },
      },
    ],
  },
  {
    name: 'the spec’s v2 conversation:message from a user',
    body: { ...v2Envelope, events: [v2UserMessageEvent] },
    expected: [
      {
        eventKey: '5f74a0d52b5315fc007e798a',
        providerEventType: 'conversation:message',
        result: { ok: true, event: { kind: 'RECEIVED', message: steveInbound } },
      },
    ],
  },
  {
    name: 'a v2 conversation:message from the business',
    body: { ...v2Envelope, events: [v2BusinessMessageEvent] },
    expected: [
      {
        eventKey: '5f74a0d52b5315fc007e7990',
        providerEventType: 'conversation:message',
        result: {
          ok: true,
          event: {
            kind: 'SENT',
            message: {
              ...blank,
              id: 'f52b01137aa6c250bc7251fa/5f74c7e64a146f3abd72af2a',
              conversationId: 'f52b01137aa6c250bc7251fa',
              contactRef: null,
              direction: 'OUTBOUND',
              status: 'SENT',
              channel: 'WEBCHAT',
              body: 'Our menu',
              attachments: [{ url: 'https://media.example.com/menu.jpg', contentType: 'image/jpeg' }],
              sender: { kind: 'BUSINESS', name: 'Acme Support', avatarUrl: 'https://acme.example.com/logo.png' },
              createdAt: '2020-09-30T18:01:10.090Z',
            },
          },
        },
      },
    ],
  },
  {
    name: 'the spec’s v2 conversation:message:delivery:failure',
    body: { ...v2Envelope, events: [v2FailureEvent] },
    expected: [
      {
        eventKey: '5f74a0d52b5315fc007e798b',
        providerEventType: 'conversation:message:delivery:failure',
        result: { ok: true, event: { kind: 'FAILED', message: v2Failed } },
      },
    ],
  },
  {
    name: 'a v2 body with three events, each with its own key (a read receipt is unprocessable)',
    body: { ...v2Envelope, events: [v2UserMessageEvent, v2ReadEvent, v2FailureEvent] },
    expected: [
      {
        eventKey: '5f74a0d52b5315fc007e798a',
        providerEventType: 'conversation:message',
        result: { ok: true, event: { kind: 'RECEIVED', message: steveInbound } },
      },
      {
        eventKey: '5f74a0d52b5315fc007e798c',
        providerEventType: 'conversation:read',
        result: { ok: false, reason: 'Smooch event type "conversation:read" is not a message sent, received or failed event' },
      },
      {
        eventKey: '5f74a0d52b5315fc007e798b',
        providerEventType: 'conversation:message:delivery:failure',
        result: { ok: true, event: { kind: 'FAILED', message: v2Failed } },
      },
    ],
  },
];

describe('Smooch webhook normalization', () => {
  it.each(rows)('normalizes $name', ({ body, expected }) => {
    expect(parse(body)).toEqual(expected);
  });

  it('keeps an unknown v1.1 trigger as one unprocessable event keyed by the body', () => {
    const [event, ...rest] = parse({ trigger: 'conversation:start', app: { _id: 'a' }, timestamp: 1480349392.1 });
    expect(rest).toEqual([]);
    expect(event?.eventKey).toMatch(/^raw:[0-9a-f]{64}$/);
    expect(event?.providerEventType).toBe('conversation:start');
    expect(event?.result.ok).toBe(false);
  });

  it('keeps a body of neither version as one unprocessable event', () => {
    const [event, ...rest] = parse({ hello: 'world' });
    expect(rest).toEqual([]);
    expect(event?.result).toEqual({
      ok: false,
      reason: 'expected a Smooch v2 body with events[] or a v1.1 body with a trigger, got neither',
    });
  });

  it('turns unix seconds with a fraction into ISO timestamps with milliseconds', () => {
    expect(unixSecondsToIso(1444348338.704)).toBe('2015-10-08T23:52:18.704Z');
    expect(unixSecondsToIso(1480349392)).toBe('2016-11-28T16:09:52.000Z');
    expect(unixSecondsToIso('1480349392')).toBeNull();
  });

  it.each([
    ['messenger', 'FACEBOOK'],
    ['instagram', 'INSTAGRAM'],
    ['whatsapp', 'WHATSAPP'],
    ['twilio', 'SMS'],
    ['messagebird', 'SMS'],
    ['web', 'WEBCHAT'],
    ['ios', 'WEBCHAT'],
    ['android', 'WEBCHAT'],
    ['api:conversations', 'WEBCHAT'],
    ['mailgun', 'EMAIL'],
    ['apple', 'APPLE'],
    ['telegram', 'OTHER'],
    [undefined, 'OTHER'],
  ])('maps source type %s to channel %s', (type, channel) => {
    expect(smoochChannel(type)).toBe(channel);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf:x'])('maps a source type named like an Object property (%s) to OTHER', (type) => {
    expect(smoochChannel(type)).toBe('OTHER');
  });
});

describe('Smooch webhook verification', () => {
  const noStored: VerifyContext = { storedSecrets: async () => [] };

  it('accepts the configured X-API-Key', async () => {
    await expect(receiver.verify(request('{}', { 'x-api-key': 'configured-secret' }), noStored)).resolves.toEqual({ ok: true });
  });

  it('rejects a wrong or missing X-API-Key', async () => {
    const wrong = await receiver.verify(request('{}', { 'x-api-key': 'configured-secreT' }), noStored);
    const missing = await receiver.verify(request('{}'), noStored);
    expect(wrong.ok).toBe(false);
    expect(missing.ok).toBe(false);
  });

  it('accepts the secret of a webhook created through the gateway', async () => {
    const ctx: VerifyContext = { storedSecrets: async () => ['8564b3e6a8b20a4bdb68b05ce9bc5936'] };
    const req = request('{}', { 'x-api-key': '8564b3e6a8b20a4bdb68b05ce9bc5936' });
    await expect(receiver.verify(req, ctx)).resolves.toEqual({ ok: true });
  });

  it('rejects every delivery when no secret is configured or stored', async () => {
    const unconfigured = createSmoochReceiver({ webhookSecret: null }, STRICT);
    await expect(unconfigured.verify(request('{}', { 'x-api-key': 'anything' }), noStored)).resolves.toEqual({
      ok: false,
      reason: expect.stringContaining('no Smooch webhook secret is configured or stored, so no delivery can be verified: set SMOOCH_WEBHOOK_SECRET'),
    });
  });

  it('stores an authentic non-JSON body and asks Smooch to retry with 503', () => {
    expect(receiver.invalidJson).toBe('store');
    expect(receiver.retryStatus).toBe(503);
  });
});

describe('Smooch conversation normalization', () => {
  const raw = { id: '5e4af71a81966cfff3ef6550', type: 'personal', createdAt: '2020-02-17T20:29:46.397Z', lastUpdatedAt: '2020-02-17T20:30:00.000Z' };
  const user = { id: '5963c0d619a30a2e00de36b8', profile: { givenName: 'Steve', surname: 'Jobs' } };
  it.each([
    ['messenger', 'FACEBOOK'],
    ['whatsapp', 'WHATSAPP'],
    ['twilio', 'SMS'],
    ['sdk', 'WEBCHAT'],
    ['telegram', 'OTHER'],
  ] as const)('takes the channel from the participant client association %j: %j', (type, channel) => {
    const participants = [{ id: 'p1', userId: user.id, clientAssociations: [{ type, clientId: 'c1' }] }];
    expect(normalizeSmoochConversation(raw, { contactRef: user.id, user, participants })).toMatchObject({
      channel,
      contactName: 'Steve Jobs',
      contactRef: user.id,
      lastMessageAt: '2020-02-17T20:30:00.000Z',
    });
  });

  it('falls back to the display name, and OTHER, when neither user nor participants were read', () => {
    expect(normalizeSmoochConversation({ ...raw, displayName: 'Group chat' }, { contactRef: null, user: null, participants: null })).toMatchObject({
      channel: 'OTHER',
      contactName: 'Group chat',
    });
  });
});
