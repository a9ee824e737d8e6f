// HighLevel's send endpoint in the emulator, `POST /conversations/messages`
// (Version 2021-04-15) as the Conversations API documents it: `type`
// (SMS, Email, WhatsApp, IG, FB, Live_Chat here), `contactId`, `message`, `html`,
// `subject`, `attachments[]` (URLs). The message is stored in the contact's
// conversation as `pending` and the answer is `{conversationId, messageId,
// status}` (+ `emailMessageId` for an email); then OutboundMessage webhooks
// report `sent`, then `delivered` or `failed`, the status each time stored.
// The spec's `required` list also names `subType` and `status`, which reads as
// a spec artifact: they are not required here.
import type { EmuRequest, EmuResponse, EmuRoute, RequestFilter } from '../kit.js';
import type { DeliveryOutcome, SendLifecycle } from '../sending.js';
import { addMessage, type EmuContact, type EmuConversation, type EmuMessage, type LeadConnectorData, type MessageKind } from './data.js';
import type { LeadConnectorWebhooks } from './events.js';
import { fail } from './routes.js';

export const LEADCONNECTOR_SEND_REQUESTS: RequestFilter = { method: 'POST', pathPattern: /^\/conversations\/messages\/?$/ };

const CONVERSATIONS_VERSION = '2021-04-15';
const TYPES = ['SMS', 'RCS', 'Email', 'WhatsApp', 'IG', 'FB', 'Custom', 'Live_Chat', 'TIKTOK'];
/** The channels the sandbox location has set up; the others need a provider or number it lacks. */
const KINDS: Readonly<Record<string, MessageKind>> = { SMS: 'SMS', Email: 'EMAIL', WhatsApp: 'WHATSAPP', IG: 'IG', FB: 'FB', Live_Chat: 'LIVE_CHAT' };

/**
 * HighLevel's send reference gives no maximum length for `message`, so the
 * emulator refuses none by default; `maxBodyLength` lets a test stand in for a
 * provider refusal.
 */
export interface LeadConnectorSendOptions {
  readonly maxBodyLength?: number;
}

interface SendInput {
  readonly kind: MessageKind;
  readonly contact: EmuContact;
  readonly conversation: EmuConversation;
  readonly message: string | null;
  readonly html: string | null;
  readonly subject: string | null;
  readonly attachments: readonly string[];
}

export function leadConnectorSendRoute(
  data: LeadConnectorData,
  deps: {
    readonly lifecycle: SendLifecycle;
    readonly webhooks: LeadConnectorWebhooks;
    readonly nextAt: (c: EmuConversation) => number;
    /** The location the request's token acts for. */
    readonly locationOf: (req: EmuRequest) => string | null;
    readonly options: LeadConnectorSendOptions;
  },
): EmuRoute {
  return {
    method: 'POST',
    path: '/conversations/messages',
    handler(req) {
      if (req.headers.version !== CONVERSATIONS_VERSION) return fail(400, `Version header must be ${CONVERSATIONS_VERSION} for this endpoint, got ${String(req.headers.version)}`);
      const input = sendInput(data, req.body, deps.options);
      if ('status' in input) return input;
      if (input.contact.locationId !== deps.locationOf(req)) return fail(403, 'The token does not have access to this location');
      const message = addMessage(data, input.conversation.id, {
        kind: input.kind,
        direction: 'outbound',
        at: deps.nextAt(input.conversation),
        status: 'pending',
        body: input.message ?? '',
        ...(input.html !== null ? { html: input.html } : {}),
        attachments: input.attachments,
        source: 'api',
      });
      const subject = input.subject ?? undefined;
      deps.lifecycle.start(
        {
          sent: () => deps.webhooks.deliver(setStatus(data, message.id, 'sent'), 'OutboundMessage', { subject }),
          settled: (outcome: DeliveryOutcome) => deps.webhooks.deliver(setStatus(data, message.id, outcome.delivered ? 'delivered' : 'failed'), 'OutboundMessage', { subject }),
        },
        { delivered: true },
      );
      return { status: 200, body: { conversationId: input.conversation.id, messageId: message.id, ...(input.kind === 'EMAIL' ? { emailMessageId: message.id } : {}), status: 'pending' } };
    },
  };
}

function sendInput(data: LeadConnectorData, raw: unknown, options: LeadConnectorSendOptions): SendInput | EmuResponse {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(422, ['the body must be a JSON object']);
  const b = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof b.type !== 'string' || !TYPES.includes(b.type)) problems.push(`type must be one of the following values: ${TYPES.join(', ')}`);
  if (typeof b.contactId !== 'string' || b.contactId === '') problems.push('contactId must be a string');
  for (const key of ['message', 'html', 'subject']) if (b[key] !== undefined && typeof b[key] !== 'string') problems.push(`${key} must be a string`);
  const attachments = b.attachments ?? [];
  if (!Array.isArray(attachments) || attachments.some((a) => typeof a !== 'string' || !/^https?:\/\/\S+$/.test(a))) problems.push('each value in attachments must be a URL address');
  if (problems.length > 0) return fail(422, problems);
  const kind = KINDS[b.type as string];
  if (!kind) return fail(400, `No ${String(b.type)} channel is set up for this location`);
  const contact = data.contacts.get(b.contactId as string);
  if (!contact) return fail(400, 'Contact not found');
  const conversation = [...data.conversations.values()].find((c) => c.contactId === contact.id);
  if (!conversation) return fail(400, 'Conversation not found for this contact');
  const message = typeof b.message === 'string' && b.message.trim() !== '' ? b.message : null;
  const html = kind === 'EMAIL' && typeof b.html === 'string' && b.html.trim() !== '' ? b.html : null;
  if (message === null && html === null && (attachments as string[]).length === 0) return fail(400, 'message, html or attachments is required');
  if (options.maxBodyLength !== undefined && (message ?? html ?? '').length > options.maxBodyLength) return fail(400, `message must be at most ${options.maxBodyLength} characters`);
  if (kind === 'EMAIL' && !contact.email) return fail(400, 'The contact has no email address');
  return { kind, contact, conversation, message, html, subject: typeof b.subject === 'string' ? b.subject : null, attachments: attachments as string[] };
}

/** Stores a new status on the message (messages are immutable values in the store) and returns it. */
function setStatus(data: LeadConnectorData, id: string, status: string): EmuMessage {
  const stored = data.messages.get(id) as EmuMessage;
  const updated: EmuMessage = { ...stored, status };
  data.messages.set(id, updated);
  return updated;
}
