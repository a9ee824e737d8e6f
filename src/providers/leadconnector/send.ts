// Sending through HighLevel: `POST /conversations/messages` (HighLevel API
// reference, conversations "Send a new message": type, contactId, message,
// subject, attachments[] as URLs; no idempotency key), answered with
// { conversationId, messageId }; and the lookup that settles an interrupted
// send among the conversation's newest messages.
import { ProviderError } from '../../errors.js';
import type { Channel } from '../../model.js';
import { isRecord, str } from '../guards.js';
import { segment, type UpstreamClient } from '../http.js';
import type { MessageSender, OutgoingMessage, SendTarget } from '../sender.js';
import { LEADCONNECTOR_VERSIONS } from './client.js';

/** The `type` of the send body per channel (SendMessageBodyDto.type). */
const TYPES: Readonly<Partial<Record<Channel, string>>> = {
  SMS: 'SMS',
  EMAIL: 'Email',
  WHATSAPP: 'WhatsApp',
  FACEBOOK: 'FB',
  INSTAGRAM: 'IG',
  WEBCHAT: 'Live_Chat',
};

/**
 * HighLevel's reference gives `message` no maxLength. 1,600 characters is the
 * longest concatenated SMS carriers deliver (ten segments), the same bound for
 * WhatsApp and the social channels; email bodies get 4,096. The gateway's
 * reading, not a number HighLevel publishes.
 */
export const LEADCONNECTOR_BODY_LIMITS = { default: 1_600, EMAIL: 4_096 } as const;

const RECENT = 20;
const CLOCK_SKEW_MS = 60_000;
const headers = { Version: LEADCONNECTOR_VERSIONS.conversations };

export function createLeadConnectorSender(http: UpstreamClient): MessageSender {
  async function conversationOf(target: SendTarget): Promise<string | null> {
    if (target.conversationId) return target.conversationId;
    if (!target.contactRef || !target.locationId) return null;
    const query = { locationId: target.locationId, contactId: target.contactRef, limit: 1 };
    const res = await http.request<unknown>({ path: '/conversations/search', route: '/conversations/search', query, headers });
    const list = isRecord(res.body) && Array.isArray(res.body.conversations) ? res.body.conversations : [];
    return isRecord(list[0]) ? str(list[0].id) : null;
  }

  return {
    channels: Object.keys(TYPES) as Channel[],
    maxBodyLength: (channel) => (channel === 'EMAIL' ? LEADCONNECTOR_BODY_LIMITS.EMAIL : LEADCONNECTOR_BODY_LIMITS.default),
    needsAddress: (channel) => channel === 'SMS' || channel === 'WHATSAPP' || channel === 'EMAIL',
    carriesAttachments: () => true,
    carriesSubject: (channel) => channel === 'EMAIL',
    async send(target, message, options = {}) {
      const body = {
        type: TYPES[target.channel],
        contactId: target.contactRef,
        ...(message.body ? { message: message.body } : {}),
        ...(message.subject ? { subject: message.subject } : {}),
        ...(message.attachments.length > 0 ? { attachments: message.attachments } : {}),
      };
      const res = await http.request<unknown>({ method: 'POST', path: '/conversations/messages', route: '/conversations/messages', body, headers, idempotent: false, budgetWaitMs: options.budgetWaitMs, priority: 'send', maxRetries: 0 });
      const answer = isRecord(res.body) ? res.body : {};
      const messageId = str(answer.messageId);
      if (!messageId) throw new ProviderError('LEADCONNECTOR', 'BAD_RESPONSE', 'HighLevel POST /conversations/messages returned a body without messageId');
      return { messageId, conversationId: str(answer.conversationId) ?? target.conversationId };
    },
    async findSent(target, message, since) {
      const conversation = await conversationOf(target);
      if (!conversation) return null;
      const path = `/conversations/${segment(conversation)}/messages`;
      const res = await http.request<unknown>({ path, route: '/conversations/{conversationId}/messages', query: { limit: RECENT }, headers });
      const after = Date.parse(since) - CLOCK_SKEW_MS;
      const found = messagesOf(res.body).find((m) => sameMessage(m, message, after));
      const id = found ? str(found.id) : null;
      return id ? { messageId: id, conversationId: conversation } : null;
    },
  };
}

/** The spec's `{ messages: [...] }` and the live `{ messages: { messages: [...] } }` alike. */
function messagesOf(body: unknown): Record<string, unknown>[] {
  const outer = isRecord(body) ? body.messages : null;
  const list = Array.isArray(outer) ? outer : isRecord(outer) && Array.isArray(outer.messages) ? outer.messages : [];
  return list.filter(isRecord);
}

/** HighLevel keeps no metadata of ours: the same outbound text, added since the first attempt, is the same message. */
function sameMessage(m: Record<string, unknown>, message: OutgoingMessage, after: number): boolean {
  const added = Date.parse(str(m.dateAdded) ?? '');
  return str(m.direction) !== 'inbound' && (str(m.body) ?? '') === (message.body ?? '') && !(added < after);
}
