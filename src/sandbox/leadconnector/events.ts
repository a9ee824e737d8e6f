// HighLevel's message webhooks from the emulator: InboundMessage and
// OutboundMessage bodies shaped like HighLevel's examples (plus the webhookId
// and timestamp its authentication guide adds), signed with both
// x-ghl-signature (Ed25519) and x-wh-signature (RSA), sent once to each of the
// Marketplace app's webhook URLs; and live demo events built on it.
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { MessageEventKind } from '../../model.js';
import { deliverWebhook } from '../kit.js';
import type { EmitOptions, EmittedEvent } from '../types.js';
import { addMessage, type EmuContact, type EmuConversation, type EmuMessage, type LeadConnectorData } from './data.js';

const FRONT_DESK = 'Front Desk <frontdesk@sandbox-location.example.com>';
// Webhooks name the channel as HighLevel's event docs list them, not by the REST TYPE_* names.
const WEBHOOK_MESSAGE_TYPES: Readonly<Record<string, string>> = {
  TYPE_SMS: 'SMS',
  TYPE_EMAIL: 'Email',
  TYPE_FACEBOOK: 'FB',
  TYPE_INSTAGRAM: 'IG',
  TYPE_GMB: 'GMB',
  TYPE_LIVE_CHAT: 'Live Chat',
  TYPE_WHATSAPP: 'WhatsApp',
};

/** The app's webhook side: its signing keys and the URLs it delivers to. */
export interface LeadConnectorWebhooks {
  readonly targets: Set<string>;
  readonly ed25519: { readonly publicKey: KeyObject; readonly privateKey: KeyObject };
  readonly rsa: { readonly publicKey: KeyObject; readonly privateKey: KeyObject };
  sign(rawBody: string): Record<string, string>;
  /** Delivers `message` as an InboundMessage or OutboundMessage webhook to every target. */
  deliver(message: EmuMessage, type: 'InboundMessage' | 'OutboundMessage', extra?: { readonly subject?: string }): Promise<Omit<EmittedEvent, 'messageId' | 'conversationId'>>;
}

export function createLeadConnectorWebhooks(data: LeadConnectorData, initialTargets: readonly string[]): LeadConnectorWebhooks {
  const ed25519 = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const targets = new Set(initialTargets);
  const signBody = (rawBody: string): Record<string, string> => {
    const bytes = Buffer.from(rawBody, 'utf8');
    return {
      'x-ghl-signature': sign(null, bytes, ed25519.privateKey).toString('base64'),
      'x-wh-signature': sign('sha256', bytes, rsa.privateKey).toString('base64'),
    };
  };
  return {
    targets,
    ed25519,
    rsa,
    sign: signBody,
    async deliver(message, type, extra = {}) {
      const rawBody = JSON.stringify(webhookBody(message, type, data.contacts.get(message.contactId), extra.subject));
      const headers = signBody(rawBody);
      // HighLevel retries only a 429, and not at once: one attempt per target is what a caller observes.
      const deliveries = await Promise.all(
        [...targets].map(async (url) => {
          try {
            return { url, status: (await deliverWebhook(url, rawBody, headers)).status };
          } catch {
            return { url, status: 0 };
          }
        }),
      );
      return { rawBody, headers, deliveries };
    },
  };
}

/** Message times strictly increase, so HighLevel's cursors never tie. */
export function messageClock(): (conversation: EmuConversation) => number {
  let last = 0;
  return (conversation) => {
    last = Math.max(Date.now(), last + 1, conversation.lastMessageDate + 1);
    return last;
  };
}

export async function emitMessageEvent(
  data: LeadConnectorData,
  tools: { readonly webhooks: LeadConnectorWebhooks; readonly nextAt: (c: EmuConversation) => number; readonly mainLocation: string },
  kind: MessageEventKind,
  emitOptions: EmitOptions = {},
): Promise<EmittedEvent> {
  const locationId = emitOptions.providerAccountId ?? tools.mainLocation;
  if (!data.locationIds.includes(locationId)) throw new Error(`HighLevel emulator has no location ${locationId}`);
  const ofLocation = [...data.conversations.values()].filter((c) => c.locationId === locationId);
  const conversation = emitOptions.conversationId ? data.conversations.get(emitOptions.conversationId) : ofLocation[Math.floor(data.random() * ofLocation.length)];
  if (!conversation) throw new Error(`HighLevel emulator has no conversation ${emitOptions.conversationId ?? ''}`);
  const direction = kind === 'RECEIVED' ? 'inbound' : 'outbound';
  const staff = data.users.filter((u) => u.roles.locationIds.includes(conversation.locationId));
  const message = addMessage(data, conversation.id, {
    kind: conversation.type === 'TYPE_EMAIL' ? 'EMAIL' : 'SMS',
    direction,
    at: tools.nextAt(conversation),
    status: kind === 'RECEIVED' ? 'delivered' : kind === 'FAILED' ? 'failed' : 'sent',
    userId: direction === 'outbound' ? staff[Math.floor(data.random() * staff.length)]?.id : undefined,
  });
  const delivered = await tools.webhooks.deliver(message, kind === 'RECEIVED' ? 'InboundMessage' : 'OutboundMessage');
  return { messageId: message.id, conversationId: conversation.id, ...delivered };
}

/** An InboundMessage / OutboundMessage body shaped like HighLevel's examples, plus `webhookId` and `timestamp`. */
function webhookBody(m: EmuMessage, type: 'InboundMessage' | 'OutboundMessage', contact: EmuContact | undefined, subject: string | undefined): Record<string, unknown> {
  const isEmail = m.messageType === 'TYPE_EMAIL';
  const contactAddress = `${contact?.firstName ?? ''} ${contact?.lastName ?? ''} <${contact?.email ?? `${m.contactId}@example.net`}>`.trim();
  return {
    type,
    locationId: m.locationId,
    attachments: m.attachments,
    body: m.body,
    contactId: m.contactId,
    ...(isEmail ? {} : { contentType: m.contentType }),
    conversationId: m.conversationId,
    dateAdded: m.dateAdded,
    direction: m.direction,
    messageType: WEBHOOK_MESSAGE_TYPES[m.messageType] ?? 'SMS',
    status: m.status,
    messageId: m.id,
    ...(m.userId ? { userId: m.userId } : {}),
    ...(type === 'OutboundMessage' ? { source: m.source ?? 'app' } : {}),
    ...(isEmail
      ? {
          emailMessageId: m.id,
          threadId: m.id,
          from: m.direction === 'inbound' ? contactAddress : FRONT_DESK,
          to: [m.direction === 'inbound' ? FRONT_DESK : contactAddress],
          subject: subject ?? (m.direction === 'inbound' ? 'Appointment request' : 'Re: Appointment request'),
        }
      : {}),
    webhookId: randomUUID(),
    timestamp: new Date().toISOString(),
  };
}
