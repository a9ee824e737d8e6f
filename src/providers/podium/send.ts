// Sending through Podium: `POST /v4/messages` (Podium API reference, "Send a
// message": body, locationUid, channel { type phone|email, identifier },
// optional subject and contactName; it takes no idempotency key), and the
// lookup that settles an interrupted send among the conversation's newest messages.
import { ProviderError } from '../../errors.js';
import type { Channel } from '../../model.js';
import { isRecord, str } from '../guards.js';
import { segment, type UpstreamClient } from '../http.js';
import type { MessageSender, OutgoingMessage, SendTarget, SentMessage } from '../sender.js';

/**
 * Podium's reference gives `body` no maximum. 1,600 characters is the longest
 * concatenated SMS US carriers deliver (ten segments), which Podium's texting
 * rides on; email gets Smooch's 4,096 as a conservative bound. Both are the
 * gateway's reading, not a number Podium publishes.
 */
export const PODIUM_BODY_LIMITS: Readonly<Partial<Record<Channel, number>>> = { SMS: 1_600, EMAIL: 4_096 };

/** Messages of the conversation read when settling an interrupted send: it is among the newest. */
const RECENT = 20;
/** Clocks of the gateway and Podium may disagree this much. */
const CLOCK_SKEW_MS = 60_000;

const channelType = (channel: Channel): 'phone' | 'email' => (channel === 'EMAIL' ? 'email' : 'phone');

export function createPodiumSender(http: UpstreamClient): MessageSender {
  async function conversationsOf(target: SendTarget): Promise<string[]> {
    if (target.conversationId) return [target.conversationId];
    if (!target.address) return [];
    // A contact is found by its phone or email (Podium API reference, "Get a contact": {identifier}).
    const res = await http.request<unknown>({ path: `/v4/contacts/${segment(target.address)}`, route: '/v4/contacts/{identifier}' }).catch((err: unknown) => {
      if (err instanceof ProviderError && err.failure === 'NOT_FOUND') return null;
      throw err;
    });
    const data = res && isRecord(res.body) && isRecord(res.body.data) ? res.body.data : null;
    const list = data && Array.isArray(data.conversations) ? data.conversations : [];
    return list.map((c) => (isRecord(c) ? str(c.uid) : null)).filter((uid): uid is string => uid !== null);
  }

  return {
    channels: ['SMS', 'EMAIL'],
    maxBodyLength: (channel) => PODIUM_BODY_LIMITS[channel] ?? PODIUM_BODY_LIMITS.SMS!,
    needsAddress: () => true,
    // Attachments go through the multipart `POST /v4/messages/attachment`, which takes files, not URLs.
    carriesAttachments: () => false,
    carriesSubject: (channel) => channel === 'EMAIL',
    async send(target, message, options = {}) {
      const body = {
        body: message.body ?? '',
        locationUid: target.locationId ?? undefined,
        channel: { type: channelType(target.channel), identifier: target.address },
        ...(message.subject ? { subject: message.subject } : {}),
        ...(target.contactName ? { contactName: target.contactName } : {}),
      };
      const res = await http.request<unknown>({ method: 'POST', path: '/v4/messages', route: '/v4/messages', body, idempotent: false, budgetWaitMs: options.budgetWaitMs, priority: 'send', maxRetries: 0 });
      return sentFrom(res.body, target);
    },
    async findSent(target, message, since) {
      const after = Date.parse(since) - CLOCK_SKEW_MS;
      for (const conversation of (await conversationsOf(target)).slice(0, 3)) {
        const path = `/v4/conversations/${segment(conversation)}/messages`;
        const res = await http.request<unknown>({ path, route: '/v4/conversations/{uid}/messages', query: { limit: RECENT } });
        const list = isRecord(res.body) && Array.isArray(res.body.data) ? res.body.data : [];
        const found = list.find((m) => isRecord(m) && sameMessage(m, message, after));
        if (isRecord(found) && str(found.uid)) return { messageId: `${conversation}/${str(found.uid)}`, conversationId: conversation };
      }
      return null;
    },
  };
}

/** Podium keeps no metadata of ours: the same text, sent since the first attempt, is the same message. */
function sameMessage(m: Record<string, unknown>, message: OutgoingMessage, after: number): boolean {
  const created = Date.parse(str(m.createdAt) ?? '');
  const items = Array.isArray(m.items) ? m.items.filter(isRecord) : [];
  const inbound = items.some((i) => str(i.sourceType) !== null && str(i.sourceType) !== 'outbound');
  return !inbound && (str(m.body) ?? '') === (message.body ?? '') && !(created < after);
}

function sentFrom(answer: unknown, target: SendTarget): SentMessage {
  const data = isRecord(answer) && isRecord(answer.data) ? answer.data : null;
  const uid = data ? str(data.uid) : null;
  const conversation = (data && isRecord(data.conversation) ? str(data.conversation.uid) : null) ?? target.conversationId;
  if (!uid || !conversation) {
    throw new ProviderError('PODIUM', 'BAD_RESPONSE', 'Podium POST /v4/messages returned a body without data.uid and data.conversation.uid');
  }
  return { messageId: `${conversation}/${uid}`, conversationId: conversation };
}
