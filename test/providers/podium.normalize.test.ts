// Podium normalization, table-driven: every documented example payload (the
// seeds' message.sent and message.failed webhooks, a message.received built
// from the documented message object, the webhook and user objects) and the
// REST forms the emulator serves.
import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/model.js';
import type { PodiumContact, PodiumConversation, PodiumMessage } from '../../src/providers/podium/client.js';
import {
  normalizePodiumContact,
  normalizePodiumConversation,
  normalizePodiumMessage,
  normalizePodiumUser,
  normalizePodiumWebhook,
  podiumChannel,
  podiumRole,
} from '../../src/providers/podium/normalize.js';
import { createPodiumReceiver } from '../../src/providers/podium/webhooks.js';
import type { ParsedEvent } from '../../src/providers/provider.js';
import { hashKey } from '../../src/providers/delivery.js';

/** Production's policy: a provider with no secret known refuses every delivery. */
const STRICT = { allowUnsignedWebhooks: false } as const;

// Verbatim from Podium's "Sync Messages from Podium Conversations" guide: no eventUid, and a null message uid.
const seedMessageSent = `{
    "data": {
        "body": "Thanks for your payment, John. View your receipt from ABC Clinic for $550.00: http://pay.podium.co/a2Ajsdfe",
        "contact": {
            "externalIdentifier": null,
            "name": "Ana",
            "uid": "c1ee21d0-9ebd-4eac-8d6a-c25b30ae3775"
        },
        "conversation": {
            "assignedUser": {
                "name": null,
                "uid": null
            },
            "channel": {
                "identifier": "+13236167777",
                "type": "phone"
            },
            "startedAt": "2021-06-25T20:26:37.507100Z",
            "uid": "58f2022d-3c42-4d05-9a0b-4bbfb9c68236"
        },
        "createdAt": "2021-06-29T21:36:52.684589Z",
        "failureReason": null,
        "location": {
            "organizationUid": "4915e432-f1df-5b17-a03c-efb54bee1e1e",
            "uid": "4e43239b-4e86-5a5a-a76a-de655a8484ea"
        },
        "sender": {
            "uid": null
        },
        "uid": null
    },
    "metadata": {
        "eventType": "message.sent",
        "version": "2021.04.01"
    }
}`;

// Verbatim from the same guide (tabs and the odd conversation uid included).
const seedMessageFailed = `{
	"data": {
		"body": "Hello",
		"contact": {
			"externalIdentifier": null,
			"name": "Brandon Tyson",
			"uid": "8f1c7fca-8d87-4f82-a0a2-18907ebbedfe"
		},
		"conversation": {
			"assignedUser": {
				"name": null,
				"uid": null
			},
			"channel": {
				"identifier": "+18014890896",
				"type": "phone"
			},
			"startedAt": "2021-07-01T08:17:27.824975Z",
			"uid": "7206d08f-7e5d-4928-b2e5-5b80d1af834r"
		},
		"createdAt": "2021-07-01T08:17:27.895070Z",
		"failureReason": "landline",
		"location": {
			"organizationUid": "4915e1a7-f1df-5b17-a03c-efb54betee1e",
			"uid": "4e87d39b-4e86-5a5a-a76a-de655a8484ea"
		},
		"sender": {
			"uid": "71f99893-068a-5a3e-9c19-ef37d4d69278"
		},
		"uid": "b5de248b-3583-4b65-8ab9-042391b06857"
	},
	"metadata": {
		"eventType": "message.failed",
		"eventUid": "6f4b7811-a4d9-4074-a420-9775a2d33231",
		"version": "2021.04.01"
	}
}`;

// Built from the documented message object (every field), with the snake_case
// metadata of Podium's signature example and no eventUid.
const documentedMessageReceived = JSON.stringify({
  data: {
    uid: '0b5a3f0e-2f5c-4f1e-9a43-6f1f3c2b9d10',
    body: 'Hello there.',
    createdAt: '2015-01-23T23:50:07Z',
    failureReason: null,
    conversation: {
      uid: '5c8e7f1a-1d2b-4c3d-8e9f-0a1b2c3d4e5f',
      startedAt: '2015-01-23T23:40:00Z',
      assignedUserUid: null,
      channel: { type: 'instagram', identifier: '17841400000000000' },
    },
    location: { uid: '9e2d1c0b-8a7f-4e6d-5c4b-3a2918070605', organizationUid: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d' },
    items: [
      {
        uid: 'aa000000-0000-4000-8000-000000000001',
        type: 'text',
        body: 'Hello there.',
        sendBody: null,
        createdAt: '2015-01-23T23:50:07Z',
        attachmentUrl: null,
        attachmentContentType: null,
        deliveryStatus: 'received',
        sourceType: 'inbound',
        encryptedAt: null,
      },
      {
        uid: 'aa000000-0000-4000-8000-000000000002',
        type: 'attachment',
        body: 'https://www.podium.com/image.png',
        sendBody: null,
        createdAt: '2015-01-23T23:50:07Z',
        attachmentUrl: 'https://www.podium.com/image.png',
        attachmentContentType: 'image/png',
        deliveryStatus: 'received',
        sourceType: 'inbound',
        encryptedAt: null,
      },
    ],
    webchatUrl: null,
    attachmentUrl: 'https://www.podium.com/image.png',
    senderUid: null,
    contact: { uid: null, name: 'Joe Orange', externalIdentifier: '123-abc' },
    contactName: 'Joe Orange',
    sender: { uid: null },
  },
  metadata: { event_type: 'message.received', version: '2021.04.01' },
});

const receiver = createPodiumReceiver({ webhookSecret: null, webhookToleranceMs: 300_000 }, STRICT);

function parse(raw: string): readonly ParsedEvent[] {
  return receiver.parse(JSON.parse(raw), { headers: {}, rawBody: Buffer.from(raw), receivedAt: new Date('2024-05-01T12:00:00Z') });
}

const none = { email: null, callDurationSeconds: null, attachments: [] } as const;

describe('Podium message webhooks normalize to message events', () => {
  const table: ReadonlyArray<{ name: string; raw: string; eventKey: string; providerEventType: string; kind: string; message: MessageRecord }> = [
    {
      name: 'seed message.sent (null uid, no eventUid, no user)',
      raw: seedMessageSent,
      eventKey: `raw:${hashKey(Buffer.from(seedMessageSent))}`,
      providerEventType: 'message.sent',
      kind: 'SENT',
      message: {
        ...none,
        provider: 'PODIUM',
        id: null,
        conversationId: '58f2022d-3c42-4d05-9a0b-4bbfb9c68236',
        contactRef: 'c1ee21d0-9ebd-4eac-8d6a-c25b30ae3775',
        locationId: '4e43239b-4e86-5a5a-a76a-de655a8484ea',
        direction: 'OUTBOUND',
        status: 'SENT',
        channel: 'SMS',
        body: 'Thanks for your payment, John. View your receipt from ABC Clinic for $550.00: http://pay.podium.co/a2Ajsdfe',
        sender: { kind: 'BUSINESS', name: null, avatarUrl: null },
        failureReason: null,
        createdAt: '2021-06-29T21:36:52.684589Z',
      },
    },
    {
      name: 'seed message.failed (eventUid, sender.uid, failureReason)',
      raw: seedMessageFailed,
      eventKey: 'uid:6f4b7811-a4d9-4074-a420-9775a2d33231',
      providerEventType: 'message.failed',
      kind: 'FAILED',
      message: {
        ...none,
        provider: 'PODIUM',
        id: '7206d08f-7e5d-4928-b2e5-5b80d1af834r/b5de248b-3583-4b65-8ab9-042391b06857',
        conversationId: '7206d08f-7e5d-4928-b2e5-5b80d1af834r',
        contactRef: '8f1c7fca-8d87-4f82-a0a2-18907ebbedfe',
        locationId: '4e87d39b-4e86-5a5a-a76a-de655a8484ea',
        direction: 'OUTBOUND',
        status: 'FAILED',
        channel: 'SMS',
        body: 'Hello',
        sender: { kind: 'USER', userId: '71f99893-068a-5a3e-9c19-ef37d4d69278' },
        failureReason: 'landline',
        createdAt: '2021-07-01T08:17:27.895070Z',
      },
    },
    {
      name: 'documented message object as message.received (event_type, items, deprecated attachmentUrl)',
      raw: documentedMessageReceived,
      eventKey: `h:${hashKey('message.received', '0b5a3f0e-2f5c-4f1e-9a43-6f1f3c2b9d10')}`,
      providerEventType: 'message.received',
      kind: 'RECEIVED',
      message: {
        ...none,
        provider: 'PODIUM',
        id: '5c8e7f1a-1d2b-4c3d-8e9f-0a1b2c3d4e5f/0b5a3f0e-2f5c-4f1e-9a43-6f1f3c2b9d10',
        conversationId: '5c8e7f1a-1d2b-4c3d-8e9f-0a1b2c3d4e5f',
        contactRef: '5c8e7f1a-1d2b-4c3d-8e9f-0a1b2c3d4e5f',
        locationId: '9e2d1c0b-8a7f-4e6d-5c4b-3a2918070605',
        direction: 'INBOUND',
        status: 'RECEIVED',
        channel: 'INSTAGRAM',
        body: 'Hello there.',
        attachments: [{ url: 'https://www.podium.com/image.png', contentType: 'image/png' }],
        sender: { kind: 'CONTACT', contactRef: '5c8e7f1a-1d2b-4c3d-8e9f-0a1b2c3d4e5f', name: 'Joe Orange' },
        failureReason: null,
        createdAt: '2015-01-23T23:50:07Z',
      },
    },
  ];

  it.each(table)('$name', ({ raw, eventKey, providerEventType, kind, message }) => {
    expect(parse(raw)).toEqual([{ eventKey, providerEventType, result: { ok: true, event: { kind, message } } }]);
  });
});

describe('Podium REST objects normalize to the unified model', () => {
  const conversation = { uid: 'c0000000-0000-4000-8000-00000000000c', channel: { type: 'email', identifier: 'joe@example.com' } };
  const restMessages: ReadonlyArray<{ name: string; raw: PodiumMessage; expected: Partial<MessageRecord> }> = [
    {
      name: 'outbound item with a user sender and a delivery status',
      raw: {
        uid: 'm1',
        body: 'See you at 3',
        conversation,
        location: { uid: 'l1' },
        items: [{ sourceType: 'outbound', deliveryStatus: 'delivered' }],
        senderUid: 'u1',
        contactName: 'Joe Orange',
      },
      expected: { id: `${conversation.uid}/m1`, direction: 'OUTBOUND', status: 'DELIVERED', channel: 'EMAIL', sender: { kind: 'USER', userId: 'u1' } },
    },
    {
      name: 'inbound item: the contact is addressed by conversation uid',
      raw: { uid: 'm2', body: 'Thanks!', conversation, items: [{ sourceType: 'inbound', deliveryStatus: 'received' }], senderUid: null, contactName: 'Joe Orange' },
      expected: {
        direction: 'INBOUND',
        status: 'RECEIVED',
        contactRef: conversation.uid,
        sender: { kind: 'CONTACT', contactRef: conversation.uid, name: 'Joe Orange' },
      },
    },
    {
      name: 'outbound with a failure reason and no status, no user',
      raw: { uid: 'm3', conversation, items: [{ sourceType: 'outbound' }], failureReason: 'Attempted to send SMS to a landline.' },
      expected: { status: 'FAILED', failureReason: 'Attempted to send SMS to a landline.', sender: { kind: 'BUSINESS', name: null, avatarUrl: null } },
    },
  ];

  it.each(restMessages)('message: $name', ({ raw, expected }) => {
    expect(normalizePodiumMessage(raw)).toMatchObject(expected);
  });

  it('maps every documented channel type', () => {
    const table: Record<string, string> = {
      phone: 'SMS',
      sms: 'SMS',
      text: 'SMS',
      email: 'EMAIL',
      fallback_email: 'EMAIL',
      facebook: 'FACEBOOK',
      instagram: 'INSTAGRAM',
      google: 'GOOGLE',
      google_brand: 'GOOGLE',
      whatsapp: 'WHATSAPP',
      apple: 'APPLE',
      iframe: 'WEBCHAT',
      secure: 'WEBCHAT',
      car_wars: 'CALL',
      telegram: 'OTHER',
      constructor: 'OTHER',
    };
    expect(Object.fromEntries(Object.keys(table).map((type) => [type, podiumChannel(type)]))).toEqual(table);
    expect(podiumChannel(null)).toBe('OTHER');
  });

  it('contact: aliases are its conversation uids, phones and emails', () => {
    const raw: PodiumContact = {
      uid: 'k1',
      name: 'Joe Orange',
      emails: ['joe@example.com'],
      phoneNumbers: ['+15555555555'],
      conversations: [{ uid: 'c1' }, { uid: 'c2' }],
      locations: [{ uid: 'l1' }],
      createdAt: '2015-01-23T23:50:07Z',
      updatedAt: '2015-01-24T23:50:07Z',
    };
    expect(normalizePodiumContact(raw)).toEqual({
      provider: 'PODIUM',
      id: 'k1',
      name: 'Joe Orange',
      emails: ['joe@example.com'],
      phones: ['+15555555555'],
      locationId: 'l1',
      createdAt: '2015-01-23T23:50:07Z',
      updatedAt: '2015-01-24T23:50:07Z',
      aliases: ['c1', 'c2', '+15555555555', 'joe@example.com'],
    });
  });

  it('conversation: the contact is referenced by the conversation uid', () => {
    const raw: PodiumConversation = {
      uid: 'c1',
      channel: { type: 'phone', identifier: '+15555555555' },
      closed: false,
      contactName: 'Joe Orange',
      locationUid: 'l1',
      assignedUserUid: 'u1',
      assigneeUids: ['u1'],
      createdAt: '2015-01-23T23:50:07Z',
      updatedAt: '2015-01-24T23:50:07Z',
      lastItemAt: '2015-01-24T23:50:07Z',
    };
    expect(normalizePodiumConversation(raw)).toEqual({
      provider: 'PODIUM',
      id: 'c1',
      locationId: 'l1',
      contactRef: 'c1',
      contactName: 'Joe Orange',
      assignedUserId: 'u1',
      channel: 'SMS',
      channelIdentifier: '+15555555555',
      closed: false,
      createdAt: '2015-01-23T23:50:07Z',
      updatedAt: '2015-01-24T23:50:07Z',
      lastMessageAt: '2015-01-24T23:50:07Z',
    });
  });

  it('user: the documented user object, name = first + last', () => {
    const seedUser = {
      role: 'Account Owner',
      uid: '00000000-0000-0000-0000-000000000000',
      email: 'bob.ross@gmail.com',
      locations: [{ uid: '00000000-0000-0000-0000-000000000000' }],
      archived: false,
      phone: '+18013586533',
      createdAt: '2015-01-23T23:50:07Z',
      updatedAt: '2015-01-23T23:50:07Z',
      firstName: 'Bob',
      lastName: 'Ross',
    };
    expect(normalizePodiumUser(seedUser)).toEqual({
      provider: 'PODIUM',
      id: '00000000-0000-0000-0000-000000000000',
      name: 'Bob Ross',
      firstName: 'Bob',
      lastName: 'Ross',
      email: 'bob.ross@gmail.com',
      phone: '+18013586533',
      role: 'OWNER',
      roleLabel: 'Account Owner',
      createdAt: '2015-01-23T23:50:07Z',
    });
    expect(normalizePodiumUser({ uid: 'u', firstName: null, lastName: 'Ross' }).name).toBe('Ross');
    expect(normalizePodiumUser({ uid: 'u' }).name).toBeNull();
  });

  it('webhook: the documented webhook object; an empty secret falls back to the known one', () => {
    const seedWebhook = {
      disabled: false,
      url: 'https://www.podium.com/',
      secret: '',
      uid: '00000000-0000-0000-0000-000000000000',
      organizationUid: '00000000-0000-0000-0000-000000000000',
      locationUid: '00000000-0000-0000-0000-000000000000',
      createdAt: '2015-01-23T23:50:07Z',
      updatedAt: '2015-01-23T23:50:07Z',
      eventTypes: ['contact.created'],
    };
    const expected = {
      provider: 'PODIUM',
      id: '00000000-0000-0000-0000-000000000000',
      url: 'https://www.podium.com/',
      eventTypes: ['contact.created'],
      locationId: '00000000-0000-0000-0000-000000000000',
      organizationId: '00000000-0000-0000-0000-000000000000',
      disabled: false,
      secret: null,
      editable: true,
      createdAt: '2015-01-23T23:50:07Z',
      updatedAt: '2015-01-23T23:50:07Z',
    };
    expect(normalizePodiumWebhook(seedWebhook)).toEqual(expected);
    expect(normalizePodiumWebhook(seedWebhook, 'sent-secret')).toEqual({ ...expected, secret: 'sent-secret' });
    expect(normalizePodiumWebhook({ ...seedWebhook, secret: 'stored' }, 'sent-secret').secret).toBe('stored');
  });
});

describe('Podium user roles in the unified vocabulary', () => {
  it.each([
    ['Account Owner', 'OWNER'],
    ['Admin', 'ADMIN'],
    ['Manager', 'MEMBER'],
    ['Service Advisor', 'MEMBER'],
    ['Technician', 'MEMBER'],
    [null, null],
  ] as const)('maps role %j to %j', (role, expected) => {
    expect(podiumRole(role)).toBe(expected);
  });
});
