// Every HighLevel webhook example from the seed documents (and the OutboundMessage
// examples of the published event docs) normalized, with the full output asserted;
// then the REST shapes and the channel / status vocabulary.
import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/model.js';
import type { ParsedEvent } from '../../src/providers/provider.js';
import {
  leadConnectorChannel,
  leadConnectorRole,
  leadConnectorStatus,
  normalizeLeadConnectorContact,
  normalizeLeadConnectorConversation,
  normalizeLeadConnectorMessage,
  normalizeLeadConnectorUser,
} from '../../src/providers/leadconnector/normalize.js';
import { parseLeadConnectorWebhook } from '../../src/providers/leadconnector/webhooks.js';
import { hashKey } from '../../src/providers/delivery.js';
import { htmlToText } from '../../src/providers/html-text.js';

interface SeedCase {
  readonly name: string;
  /** The example exactly as documented. */
  readonly raw: string;
  readonly eventKey: (raw: string) => string;
  readonly providerEventType: string;
  readonly kind: 'SENT' | 'RECEIVED' | 'FAILED';
  readonly message: MessageRecord;
}

const byBody = (raw: string): string => `raw:${hashKey(Buffer.from(raw))}`;
const byMessage = (type: string, messageId: string) => (): string => `message:${hashKey(type, messageId)}`;

const seedCases: SeedCase[] = [
  {
    name: 'seed InboundMessage SMS',
    raw: `{
"type": "InboundMessage",
"locationId": "l1C08ntBrFjLS0elLIYU",
"attachments": [],
"body": "This is a test message",
"contactId": "cI08i1Bls3iTB9bKgFJh",
"contentType": "text/plain",
"conversationId": "fcanlLgpbQgQhderivVs",
"dateAdded": "2021-04-21T11:31:45.750Z",
"direction": "inbound",
"messageType": "SMS",
"status": "delivered"
}`,
    eventKey: byBody,
    providerEventType: 'InboundMessage',
    kind: 'RECEIVED',
    message: {
      provider: 'LEADCONNECTOR',
      id: null,
      conversationId: 'fcanlLgpbQgQhderivVs',
      contactRef: 'cI08i1Bls3iTB9bKgFJh',
      locationId: 'l1C08ntBrFjLS0elLIYU',
      direction: 'INBOUND',
      status: 'RECEIVED',
      channel: 'SMS',
      body: 'This is a test message',
      attachments: [],
      email: null,
      sender: { kind: 'CONTACT', contactRef: 'cI08i1Bls3iTB9bKgFJh', name: null },
      failureReason: null,
      callDurationSeconds: null,
      createdAt: '2021-04-21T11:31:45.750Z',
    },
  },
  {
    // Filed under InboundMessage with direction "inbound", but its type says OutboundMessage: the type wins.
    name: 'seed Call (type OutboundMessage, direction inbound)',
    raw: `{
"type": "OutboundMessage",
"locationId": "0d48aEf7q67DAu134bpy",
"attachments": ["call recording url"],
"contactId": "gblakL5aYQC4glDtP1r2t3",
"conversationId": "SGDqZrzmwTr19d10aHkt9F",
"dateAdded": "2024-05-08T11:57:42.250Z",
"direction": "inbound",
"messageType": "CALL",
"userId": "xsmF1xxhmC92ZpL1lj7aLa",
"messageId": "tyW42xCD0HQpb3hhfLcx",
"status": "completed"
}`,
    eventKey: byMessage('OutboundMessage', 'tyW42xCD0HQpb3hhfLcx'),
    providerEventType: 'OutboundMessage',
    kind: 'SENT',
    message: {
      provider: 'LEADCONNECTOR',
      id: 'tyW42xCD0HQpb3hhfLcx',
      conversationId: 'SGDqZrzmwTr19d10aHkt9F',
      contactRef: 'gblakL5aYQC4glDtP1r2t3',
      locationId: '0d48aEf7q67DAu134bpy',
      direction: 'OUTBOUND',
      status: 'SENT',
      channel: 'CALL',
      body: null,
      attachments: [{ url: 'call recording url', contentType: null }],
      email: null,
      sender: { kind: 'USER', userId: 'xsmF1xxhmC92ZpL1lj7aLa' },
      failureReason: null,
      callDurationSeconds: null,
      createdAt: '2024-05-08T11:57:42.250Z',
    },
  },
  {
    name: 'seed unattended incoming call going to voicemail',
    raw: `{
"type": "InboundMessage",
"locationId": "0dalah57827q67DAuXUxbpy",
"attachments": ["voicemail url"],
"contactId": "gb7laj5aYQC4glDtP1r5",
"conversationId": "SGDqZrzmwTA5P7LHkt9F",
"dateAdded": "2024-05-08T12:00:56.193Z",
"direction": "inbound",
"messageType": "CALL",
"messageId": "QkNS0DNje0FjoLQdD5O3",
"status": "voicemail"
}`,
    eventKey: byMessage('InboundMessage', 'QkNS0DNje0FjoLQdD5O3'),
    providerEventType: 'InboundMessage',
    kind: 'RECEIVED',
    message: {
      provider: 'LEADCONNECTOR',
      id: 'QkNS0DNje0FjoLQdD5O3',
      conversationId: 'SGDqZrzmwTA5P7LHkt9F',
      contactRef: 'gb7laj5aYQC4glDtP1r5',
      locationId: '0dalah57827q67DAuXUxbpy',
      direction: 'INBOUND',
      status: 'RECEIVED',
      channel: 'VOICEMAIL',
      body: null,
      attachments: [{ url: 'voicemail url', contentType: null }],
      email: null,
      sender: { kind: 'CONTACT', contactRef: 'gb7laj5aYQC4glDtP1r5', name: null },
      failureReason: null,
      callDurationSeconds: null,
      createdAt: '2024-05-08T12:00:56.193Z',
    },
  },
  {
    name: 'seed InboundMessage Email',
    raw: `{
"type": "InboundMessage",
"locationId": "kF4NJ5gzRyQF2gKFD34G",
"body": "<div style=\\"font-family: verdana, geneva; font-size: 11pt;\\">Testing Email Notification</div>",
"contactId": "3bN9f8LYJFG8F232XMUbfq",
"conversationId": "yCdNo6pwyTLYKgg6V2gj",
"dateAdded": "2024-01-12T12:59:04.045Z",
"direction": "inbound",
"messageType": "Email",
"emailMessageId": "sddfDSF3G56GHG",
"from": "Internal Notify <[email protected]>",
"threadId": "sddfDSF3G56GHG",
"subject": "Order Confirmed",
"to": ["[email protected]"]
}`,
    eventKey: byBody,
    providerEventType: 'InboundMessage',
    kind: 'RECEIVED',
    message: {
      provider: 'LEADCONNECTOR',
      id: null,
      conversationId: 'yCdNo6pwyTLYKgg6V2gj',
      contactRef: '3bN9f8LYJFG8F232XMUbfq',
      locationId: 'kF4NJ5gzRyQF2gKFD34G',
      direction: 'INBOUND',
      status: 'RECEIVED',
      channel: 'EMAIL',
      body: 'Testing Email Notification', // the HTML stays in email.html
      attachments: [],
      email: {
        subject: 'Order Confirmed',
        from: 'Internal Notify <[email protected]>',
        to: ['[email protected]'],
        cc: [],
        bcc: [],
        html: '<div style="font-family: verdana, geneva; font-size: 11pt;">Testing Email Notification</div>',
        threadId: 'sddfDSF3G56GHG',
      },
      sender: { kind: 'CONTACT', contactRef: '3bN9f8LYJFG8F232XMUbfq', name: null },
      failureReason: null,
      callDurationSeconds: null,
      createdAt: '2024-01-12T12:59:04.045Z',
    },
  },
  {
    name: 'seed ProviderOutboundMessage SMS',
    raw: `{
"contactId": "GKBhT6BfwY9mjzXAU3sq",
"locationId": "GKAWb4yu7A4LSc0skQ6g",
"messageId": "GKJxs4P5L8dWc5CFUITM",
"type": "SMS",
"phone": "+15864603685",
"message": "The text message to be sent to the contact",
"attachments": ["https://www.google.com/images/branding/googlelogo/1x/googlelogo_color_272x92dp.png"],
"userId": "GK56r6wdJDrkUPd0xsmx"
}`,
    eventKey: byMessage('ProviderOutboundMessage', 'GKJxs4P5L8dWc5CFUITM'),
    providerEventType: 'ProviderOutboundMessage',
    kind: 'SENT',
    message: {
      provider: 'LEADCONNECTOR',
      id: 'GKJxs4P5L8dWc5CFUITM',
      conversationId: null,
      contactRef: 'GKBhT6BfwY9mjzXAU3sq',
      locationId: 'GKAWb4yu7A4LSc0skQ6g',
      direction: 'OUTBOUND',
      status: 'QUEUED',
      channel: 'SMS',
      body: 'The text message to be sent to the contact',
      attachments: [{ url: 'https://www.google.com/images/branding/googlelogo/1x/googlelogo_color_272x92dp.png', contentType: null }],
      email: null,
      sender: { kind: 'USER', userId: 'GK56r6wdJDrkUPd0xsmx' },
      failureReason: null,
      callDurationSeconds: null,
      createdAt: null,
    },
  },
  {
    name: 'seed ProviderOutboundMessage Email',
    raw: `{
"contactId": "GKKFF0QB9gV8fGA6zEbr",
"locationId": "GKifVDyQeo7nwe27vMP0",
"messageId": "GK56r6wdJDrkUPd0xsmx",
"emailMessageId": "GK56r6wdJDrkUPd0xsmx",
"type": "Email",
"emailTo": ["abc@gmail.com"],
"emailFrom": "From Name <email@gmail.com>",
"attachments": ["https://www.google.com/images/branding/googlelogo/1x/googlelogo_color_272x92dp.png"],
"html": "<div style=\\"font-family: verdana, geneva; font-size: 11pt;\\"><p>Testing an outobund email from custom provider.</p></div>",
"subject": "Subject from Conversation Page",
"userId": "GK56r6wdJDrkUPd0xsmx"
}`,
    eventKey: byMessage('ProviderOutboundMessage', 'GK56r6wdJDrkUPd0xsmx'),
    providerEventType: 'ProviderOutboundMessage',
    kind: 'SENT',
    message: {
      provider: 'LEADCONNECTOR',
      id: 'GK56r6wdJDrkUPd0xsmx',
      conversationId: null,
      contactRef: 'GKKFF0QB9gV8fGA6zEbr',
      locationId: 'GKifVDyQeo7nwe27vMP0',
      direction: 'OUTBOUND',
      status: 'QUEUED',
      channel: 'EMAIL',
      body: 'Testing an outobund email from custom provider.',
      attachments: [{ url: 'https://www.google.com/images/branding/googlelogo/1x/googlelogo_color_272x92dp.png', contentType: null }],
      email: {
        subject: 'Subject from Conversation Page',
        from: 'From Name <email@gmail.com>',
        to: ['abc@gmail.com'],
        cc: [],
        bcc: [],
        html: '<div style="font-family: verdana, geneva; font-size: 11pt;"><p>Testing an outobund email from custom provider.</p></div>',
        threadId: null,
      },
      sender: { kind: 'USER', userId: 'GK56r6wdJDrkUPd0xsmx' },
      failureReason: null,
      callDurationSeconds: null,
      createdAt: null,
    },
  },
  {
    // OutboundMessage.md: its SMS example also says direction "inbound".
    name: 'docs OutboundMessage SMS (direction inbound)',
    raw: `{
  "type": "OutboundMessage",
  "locationId": "l1C08ntBrFjLS0elLIYU",
  "attachments": [],
  "body": "This is a test message",
  "contactId": "cI08i1Bls3iTB9bKgFJh",
  "contentType": "text/plain",
  "conversationId": "fcanlLgpbQgQhderivVs",
  "dateAdded": "2021-04-21T11:31:45.750Z",
  "direction": "inbound",
  "messageType": "SMS",
  "source": "app",
  "status": "delivered",
  "conversationProviderId": "cI08i1Bls3iTB9bKgF01"
}`,
    eventKey: byBody,
    providerEventType: 'OutboundMessage',
    kind: 'SENT',
    message: {
      provider: 'LEADCONNECTOR',
      id: null,
      conversationId: 'fcanlLgpbQgQhderivVs',
      contactRef: 'cI08i1Bls3iTB9bKgFJh',
      locationId: 'l1C08ntBrFjLS0elLIYU',
      direction: 'OUTBOUND',
      status: 'DELIVERED',
      channel: 'SMS',
      body: 'This is a test message',
      attachments: [],
      email: null,
      sender: null,
      failureReason: null,
      callDurationSeconds: null,
      createdAt: '2021-04-21T11:31:45.750Z',
    },
  },
  {
    name: 'docs OutboundMessage Call and Voicemail',
    raw: `{
  "type": "OutboundMessage",
  "locationId": "0d48aEf7q67DAu134bpy",
  "attachments": ["call recording url"],
  "contactId": "gblakL5aYQC4glDtP1r2t3",
  "conversationId": "SGDqZrzmwTr19d10aHkt9F",
  "dateAdded": "2024-05-08T11:57:42.250Z",
  "direction": "outbound",
  "messageType": "CALL",
  "userId": "xsmF1xxhmC92ZpL1lj7aLa",
  "messageId": "tyW42xCD0HQpb3hhfLcx",
  "status": "completed",
  "callDuration": 120,
  "callStatus": "completed"
}`,
    eventKey: byMessage('OutboundMessage', 'tyW42xCD0HQpb3hhfLcx'),
    providerEventType: 'OutboundMessage',
    kind: 'SENT',
    message: {
      provider: 'LEADCONNECTOR',
      id: 'tyW42xCD0HQpb3hhfLcx',
      conversationId: 'SGDqZrzmwTr19d10aHkt9F',
      contactRef: 'gblakL5aYQC4glDtP1r2t3',
      locationId: '0d48aEf7q67DAu134bpy',
      direction: 'OUTBOUND',
      status: 'SENT',
      channel: 'CALL',
      body: null,
      attachments: [{ url: 'call recording url', contentType: null }],
      email: null,
      sender: { kind: 'USER', userId: 'xsmF1xxhmC92ZpL1lj7aLa' },
      failureReason: null,
      callDurationSeconds: 120,
      createdAt: '2024-05-08T11:57:42.250Z',
    },
  },
  {
    name: 'docs OutboundMessage voicemail sent through a workflow',
    raw: `{
  "type": "OutboundMessage",
  "locationId": "0d48aEf7q67DAuXUxbpy",
  "attachments": ["voicemail url"],
  "contactId": "gb7xwL5aYQC4glDtP1r5",
  "conversationId": "SGDqZrzmwTr5P7aHkt9F",
  "dateAdded": "2024-05-08T12:04:55.828Z",
  "direction": "outbound",
  "messageType": "VoiceMail",
  "messageId": "hhYtaQM2I9ym8qhU9CmM",
  "status": "completed"
}`,
    eventKey: byMessage('OutboundMessage', 'hhYtaQM2I9ym8qhU9CmM'),
    providerEventType: 'OutboundMessage',
    kind: 'SENT',
    message: {
      provider: 'LEADCONNECTOR',
      id: 'hhYtaQM2I9ym8qhU9CmM',
      conversationId: 'SGDqZrzmwTr5P7aHkt9F',
      contactRef: 'gb7xwL5aYQC4glDtP1r5',
      locationId: '0d48aEf7q67DAuXUxbpy',
      direction: 'OUTBOUND',
      status: 'SENT',
      channel: 'VOICEMAIL',
      body: null,
      attachments: [{ url: 'voicemail url', contentType: null }],
      email: null,
      sender: null,
      failureReason: null,
      callDurationSeconds: null,
      createdAt: '2024-05-08T12:04:55.828Z',
    },
  },
  {
    name: 'docs OutboundMessage Email',
    raw: `{
  "type": "OutboundMessage",
  "locationId": "kF4NJ5gzRyQF2gKFD34G",
  "body": "<div style=\\"font-family: verdana, geneva; font-size: 11pt;\\">Testing Email Notification</div>",
  "contactId": "3bN9f8LYJFG8F232XMUbfq",
  "conversationId": "yCdNo6pwyTLYKgg6V2gj",
  "dateAdded": "2024-01-12T12:59:04.045Z",
  "direction": "outbound",
  "messageType": "Email",
  "emailMessageId": "sddfDSF3G56GHG",
  "from": "Internal Notify <sample@email.service>",
  "threadId": "sddfDSF3G56GHG",
  "subject": "Order Confirmed",
  "to": ["example@email.com"],
  "source": "app",
  "conversationProviderId": "cI08i1Bls3iTB9bKgF01"
}`,
    eventKey: byBody,
    providerEventType: 'OutboundMessage',
    kind: 'SENT',
    message: {
      provider: 'LEADCONNECTOR',
      id: null,
      conversationId: 'yCdNo6pwyTLYKgg6V2gj',
      contactRef: '3bN9f8LYJFG8F232XMUbfq',
      locationId: 'kF4NJ5gzRyQF2gKFD34G',
      direction: 'OUTBOUND',
      status: 'SENT',
      channel: 'EMAIL',
      body: 'Testing Email Notification', // the HTML stays in email.html
      attachments: [],
      email: {
        subject: 'Order Confirmed',
        from: 'Internal Notify <sample@email.service>',
        to: ['example@email.com'],
        cc: [],
        bcc: [],
        html: '<div style="font-family: verdana, geneva; font-size: 11pt;">Testing Email Notification</div>',
        threadId: 'sddfDSF3G56GHG',
      },
      sender: null,
      failureReason: null,
      callDurationSeconds: null,
      createdAt: '2024-01-12T12:59:04.045Z',
    },
  },
];

describe('HighLevel webhook examples', () => {
  it.each(seedCases)('normalizes the $name example', ({ raw, eventKey, providerEventType, kind, message }) => {
    const expected: ParsedEvent[] = [{ eventKey: eventKey(raw), providerEventType, result: { ok: true, event: { kind, message } } }];
    expect(parseLeadConnectorWebhook(JSON.parse(raw), Buffer.from(raw))).toEqual(expected);
  });

  it('reports an OutboundMessage whose status is undelivered as a FAILED event', () => {
    const raw = JSON.stringify({
      type: 'OutboundMessage',
      locationId: 'l1C08ntBrFjLS0elLIYU',
      contactId: 'cI08i1Bls3iTB9bKgFJh',
      conversationId: 'fcanlLgpbQgQhderivVs',
      messageId: 'p1mRSHeLDhAms5q0LMr4',
      messageType: 'SMS',
      direction: 'outbound',
      status: 'undelivered',
      userId: 'xsmF1xxhmC92ZpL1lj7a',
      dateAdded: '2024-05-08T12:04:55.828Z',
      body: 'See you soon',
    });
    const [event] = parseLeadConnectorWebhook(JSON.parse(raw), Buffer.from(raw));
    expect(event?.result).toMatchObject({ ok: true, event: { kind: 'FAILED', message: { status: 'FAILED', failureReason: 'undelivered', channel: 'SMS' } } });
  });
});

describe('HighLevel message vocabulary', () => {
  it.each([
    ['TYPE_SMS', 'SMS'],
    ['SMS', 'SMS'],
    ['TYPE_CUSTOM_PROVIDER_SMS', 'SMS'],
    ['TYPE_CAMPAIGN_SMS', 'SMS'],
    ['TYPE_RCS', 'SMS'],
    ['TYPE_EMAIL', 'EMAIL'],
    ['Email', 'EMAIL'],
    ['TYPE_CUSTOM_PROVIDER_EMAIL', 'EMAIL'],
    ['TYPE_CALL', 'CALL'],
    ['CALL', 'CALL'],
    ['TYPE_IVR_CALL', 'CALL'],
    ['VoiceMail', 'VOICEMAIL'],
    ['TYPE_CAMPAIGN_VOICEMAIL', 'VOICEMAIL'],
    ['FB', 'FACEBOOK'],
    ['TYPE_FACEBOOK', 'FACEBOOK'],
    ['IG', 'INSTAGRAM'],
    ['TYPE_INSTAGRAM', 'INSTAGRAM'],
    ['GMB', 'GOOGLE'],
    ['TYPE_GMB', 'GOOGLE'],
    ['TYPE_WHATSAPP', 'WHATSAPP'],
    ['Live Chat', 'WEBCHAT'],
    ['TYPE_LIVE_CHAT', 'WEBCHAT'],
    ['TYPE_WEBCHAT', 'WEBCHAT'],
    ['TYPE_ACTIVITY_APPOINTMENT', 'OTHER'],
  ])('maps message type %s to channel %s', (messageType, channel) => {
    expect(leadConnectorChannel(messageType)).toBe(channel);
  });

  it.each([
    ['pending', 'QUEUED'],
    ['queued', 'QUEUED'],
    ['scheduled', 'QUEUED'],
    ['sent', 'SENT'],
    ['delivered', 'DELIVERED'],
    ['read', 'READ'],
    ['opened', 'READ'],
    ['clicked', 'READ'],
    ['failed', 'FAILED'],
    ['undelivered', 'FAILED'],
    ['completed', 'SENT'],
    ['voicemail', 'SENT'],
  ])('maps outbound status %s to %s', (status, expected) => {
    expect(leadConnectorStatus(status, 'OUTBOUND')).toBe(expected);
  });

  it('maps every inbound status to RECEIVED', () => {
    for (const status of ['delivered', 'completed', 'voicemail', 'failed', null]) expect(leadConnectorStatus(status, 'INBOUND')).toBe('RECEIVED');
  });
});

describe('HighLevel REST shapes', () => {
  it('normalizes a REST call whose callStatus is voicemail as a VOICEMAIL with its duration', () => {
    const message = normalizeLeadConnectorMessage({
      id: 've9EPM428h8vShlRW1KT',
      type: 1,
      messageType: 'TYPE_CALL',
      locationId: 'l1C08ntBrFjLS0elLIYU',
      contactId: 'cI08i1Bls3iTB9bKgFJh',
      conversationId: 'fcanlLgpbQgQhderivVs',
      dateAdded: '2024-03-27T18:13:49.000Z',
      direction: 'outbound',
      status: 'completed',
      contentType: 'text/plain',
      attachments: [],
      meta: { callDuration: '42', callStatus: 'voicemail' },
      userId: 'xsmF1xxhmC92ZpL1lj7a',
    });
    expect(message).toEqual({
      provider: 'LEADCONNECTOR',
      id: 've9EPM428h8vShlRW1KT',
      conversationId: 'fcanlLgpbQgQhderivVs',
      contactRef: 'cI08i1Bls3iTB9bKgFJh',
      locationId: 'l1C08ntBrFjLS0elLIYU',
      direction: 'OUTBOUND',
      status: 'SENT',
      channel: 'VOICEMAIL',
      body: null,
      attachments: [],
      email: null,
      sender: { kind: 'USER', userId: 'xsmF1xxhmC92ZpL1lj7a' },
      failureReason: null,
      callDurationSeconds: 42,
      createdAt: '2024-03-27T18:13:49.000Z',
    });
  });

  it('normalizes a conversation search item, whose type is TYPE_* and whose dates are epoch ms', () => {
    expect(
      normalizeLeadConnectorConversation({
        id: 'tDtDnQdgm2LXpyiqYvZ6',
        contactId: 'ABCHkzuJQ8ZMd4Te84GK',
        locationId: 've9EPM428kjkvShlRW1KT',
        lastMessageBody: 'Hello',
        lastMessageType: 'TYPE_SMS',
        type: 'TYPE_PHONE',
        unreadCount: 1,
        fullName: 'John Doe',
        contactName: 'John Doe Company',
        email: 'johndoe@mailingdomain.com',
        phone: '+15550001234',
        assignedTo: 'fGiae4CHkzoskh8thsik',
        lastMessageDate: 1628008053263,
        dateAdded: 1628000000000,
        dateUpdated: '1628008053263',
      }),
    ).toEqual({
      provider: 'LEADCONNECTOR',
      id: 'tDtDnQdgm2LXpyiqYvZ6',
      locationId: 've9EPM428kjkvShlRW1KT',
      contactRef: 'ABCHkzuJQ8ZMd4Te84GK',
      contactName: 'John Doe',
      assignedUserId: 'fGiae4CHkzoskh8thsik',
      channel: 'SMS',
      channelIdentifier: '+15550001234',
      closed: null,
      createdAt: '2021-08-03T14:13:20.000Z',
      updatedAt: '2021-08-03T16:27:33.263Z',
      lastMessageAt: '2021-08-03T16:27:33.263Z',
    });
  });

  it.each([
    [1, 'SMS'],
    [2, 'EMAIL'],
    [3, 'FACEBOOK'],
    [4, 'OTHER'],
    [5, 'SMS'],
    ['TYPE_EMAIL', 'EMAIL'],
    ['TYPE_FB_MESSENGER', 'FACEBOOK'],
    ['TYPE_GROUP_SMS', 'SMS'],
  ])('maps conversation type %s to channel %s', (type, channel) => {
    expect(normalizeLeadConnectorConversation({ id: 'tDtDnQdgm2LXpyiqYvZ6', type }).channel).toBe(channel);
  });

  it('normalizes a contact and a user', () => {
    expect(
      normalizeLeadConnectorContact({
        id: 'seD4PfOuKoVMLkEZqohJ',
        locationId: 've9EPM428h8vShlRW1KT',
        firstName: 'rubika',
        lastName: 'Deo',
        email: 'rubika@deos.com',
        phone: '+18832327657',
        dateAdded: '2021-07-02T05:18:26.704Z',
        dateUpdated: '2021-07-02T05:18:26.704Z',
      }),
    ).toEqual({
      provider: 'LEADCONNECTOR',
      id: 'seD4PfOuKoVMLkEZqohJ',
      name: 'rubika Deo',
      emails: ['rubika@deos.com'],
      phones: ['+18832327657'],
      locationId: 've9EPM428h8vShlRW1KT',
      createdAt: '2021-07-02T05:18:26.704Z',
      updatedAt: '2021-07-02T05:18:26.704Z',
    });
    expect(
      normalizeLeadConnectorUser({
        id: '0IHuJvc2ofPAAA8GzTRi',
        name: 'John Deo',
        firstName: 'John',
        lastName: 'Deo',
        email: 'john@deo.com',
        phone: '+1 808-868-8888',
        roles: { type: 'account', role: 'admin', locationIds: ['ve9EPM428h8vShlRW1KT'] },
      }),
    ).toEqual({
      provider: 'LEADCONNECTOR',
      id: '0IHuJvc2ofPAAA8GzTRi',
      name: 'John Deo',
      firstName: 'John',
      lastName: 'Deo',
      email: 'john@deo.com',
      phone: '+1 808-868-8888',
      role: 'ADMIN',
      roleLabel: 'admin',
      createdAt: null,
    });
  });
});

describe('HighLevel user roles in the unified vocabulary', () => {
  it.each([
    ['admin', 'ADMIN'],
    ['Admin', 'ADMIN'],
    ['user', 'MEMBER'],
    [null, null],
  ] as const)('maps roles.role %j to %j', (role, expected) => {
    expect(leadConnectorRole(role)).toBe(expected);
  });
});

describe('HTML email bodies as plain text', () => {
  it.each([
    ['<div style="font-family: verdana">Testing Email Notification</div>', 'Testing Email Notification'],
    ['<p>Hi Ana,</p><p>Your car is ready.<br>Pick it up by 6&nbsp;PM &amp; bring the key.</p>', 'Hi Ana,\nYour car is ready.\nPick it up by 6 PM & bring the key.'],
    ['<html><head><style>p{color:red}</style></head><body><ul><li>Oil</li><li>Brakes</li></ul></body></html>', '- Oil\n- Brakes'],
    ['Price &lt; $50 &#8212; &#x1F697;', 'Price < $50 \u2014 \u{1F697}'],
  ])('turns %j into %j', (html, text) => {
    expect(htmlToText(html)).toBe(text);
  });

  it('keeps a REST email body as HTML in email.html and gives the text as body', () => {
    const message = normalizeLeadConnectorMessage({
      id: 'm1',
      messageType: 'TYPE_EMAIL',
      direction: 'outbound',
      status: 'sent',
      contentType: 'text/html',
      body: '<p>See you <b>Thursday</b>.</p>',
    });
    expect(message.body).toBe('See you Thursday.');
    expect(message.email?.html).toBe('<p>See you <b>Thursday</b>.</p>');
  });

  it('leaves an SMS body that merely contains a < alone', () => {
    const message = normalizeLeadConnectorMessage({ id: 'm2', messageType: 'TYPE_SMS', direction: 'inbound', body: 'I paid < $20 last time', contentType: 'text/plain' });
    expect(message.body).toBe('I paid < $20 last time');
    expect(message.email).toBeNull();
  });
});
