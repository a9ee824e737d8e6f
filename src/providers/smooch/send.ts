// Sending through Sunshine Conversations: `POST /v2/apps/{appId}/conversations/{conversationId}/messages`
// with a business author and text content (Sunshine Conversations API
// reference, "Post Message"), answered with the created `messages[]`. The
// message's `metadata` carries the gateway's outbound id, so an interrupted
// send is found again exactly, not by its text.
import { ProviderError } from '../../errors.js';
import type { Channel } from '../../model.js';
import { isRecord, str } from '../guards.js';
import { segment, type UpstreamClient } from '../http.js';
import type { MessageSender, SendTarget, StatusEvent, StatusReport } from '../sender.js';

/** textMessage.text has `maxLength: 4096` in the Sunshine Conversations OpenAPI spec. */
export const SMOOCH_BODY_LIMIT = 4_096;

/** The metadata key naming the send a message came from. */
export const OUTBOUND_METADATA_KEY = 'gatewayOutboundId';

const CHANNELS: readonly Channel[] = ['SMS', 'EMAIL', 'FACEBOOK', 'INSTAGRAM', 'GOOGLE', 'WHATSAPP', 'APPLE', 'WEBCHAT', 'OTHER'];

export function createSmoochSender(http: UpstreamClient, appId: string): MessageSender {
  const app = `/v2/apps/${segment(appId)}`;

  /** A contact's messages go into their conversation (the default one when they have several). */
  async function conversationOf(target: SendTarget): Promise<string | null> {
    if (target.conversationId) return target.conversationId;
    if (!target.contactRef) return null;
    const query = { 'filter[userId]': target.contactRef, 'page[size]': 10 };
    const res = await http.request<unknown>({ path: `${app}/conversations`, route: '/v2/apps/{appId}/conversations', query });
    const list = (isRecord(res.body) && Array.isArray(res.body.conversations) ? res.body.conversations : []).filter(isRecord);
    const chosen = list.find((c) => c.isDefault === true) ?? list[0];
    return chosen ? str(chosen.id) : null;
  }

  return {
    channels: CHANNELS,
    maxBodyLength: () => SMOOCH_BODY_LIMIT,
    needsAddress: () => false,
    // Text messages only: image and file messages take one mediaUrl each, with no text beside it.
    carriesAttachments: () => false,
    carriesSubject: () => false,
    async send(target, message, options = {}) {
      const conversation = await conversationOf(target);
      if (!conversation) throw new ProviderError('SMOOCH', 'NOT_FOUND', 'The Smooch user has no conversation to send into');
      const body = {
        author: { type: 'business' },
        content: { type: 'text', text: message.body ?? '' },
        metadata: { [OUTBOUND_METADATA_KEY]: message.outboundId },
      };
      const path = `${app}/conversations/${segment(conversation)}/messages`;
      const res = await http.request<unknown>({ method: 'POST', path, route: '/v2/apps/{appId}/conversations/{conversationId}/messages', body, idempotent: false, budgetWaitMs: options.budgetWaitMs, priority: 'send', maxRetries: 0 });
      const first = isRecord(res.body) && Array.isArray(res.body.messages) && isRecord(res.body.messages[0]) ? res.body.messages[0] : null;
      const id = first ? str(first.id) : null;
      if (!id) throw new ProviderError('SMOOCH', 'BAD_RESPONSE', 'Smooch POST /v2/apps/{appId}/conversations/{conversationId}/messages returned a body without messages[0].id');
      return { messageId: `${conversation}/${id}`, conversationId: conversation };
    },
    readStatus: readDeliveryStatus,
    async findSent(target, message) {
      const conversation = await conversationOf(target);
      if (!conversation) return null;
      // The newest page (100 messages) holds any send of the last minutes.
      const path = `${app}/conversations/${segment(conversation)}/messages`;
      const res = await http.request<unknown>({ path, route: '/v2/apps/{appId}/conversations/{conversationId}/messages' });
      const list = (isRecord(res.body) && Array.isArray(res.body.messages) ? res.body.messages : []).filter(isRecord);
      const found = list.find((m) => isRecord(m.metadata) && m.metadata[OUTBOUND_METADATA_KEY] === message.outboundId);
      const id = found ? str(found.id) : null;
      return id ? { messageId: `${conversation}/${id}`, conversationId: conversation } : null;
    },
  };
}

/** `delivery:user` is Sunshine Conversations' "delivered to the user's device"; `delivery:channel` only reached the channel. */
const DELIVERY_STATUS: Readonly<Record<string, StatusReport['status']>> = {
  'conversation:message:delivery:user': 'DELIVERED',
  'conversation:message:delivery:channel': 'SENT',
};

/** The v2 delivery triggers the receiver stores without a message event: `events[]` of the body, by the event's id. */
export function readDeliveryStatus(event: StatusEvent): StatusReport | null {
  const status = event.providerEventType ? DELIVERY_STATUS[event.providerEventType] : undefined;
  if (!status) return null;
  try {
    const body: unknown = JSON.parse(event.rawBody);
    const events = isRecord(body) && Array.isArray(body.events) ? body.events.filter(isRecord) : [];
    const found = events.find((e) => e.id === event.eventKey);
    const payload = found && isRecord(found.payload) ? found.payload : null;
    const conversation = payload && isRecord(payload.conversation) ? str(payload.conversation.id) : null;
    const message = payload && isRecord(payload.message) ? str(payload.message.id) : null;
    return conversation && message ? { messageId: `${conversation}/${message}`, status } : null;
  } catch {
    return null;
  }
}
