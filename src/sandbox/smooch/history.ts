// The Smooch emulator's seeded history, delivered as webhooks the way a real
// app's traffic would have reached the gateway: the latest messages of every
// conversation (the user's and the business's), oldest first, so the gateway's directory knows every user and
// conversation (Smooch cannot list them) and a newcomer sees a Smooch inbox at once.
import { deliverWebhook } from '../kit.js';
import type { SmoochConversation, SmoochMessage, SmoochSandboxData, SmoochUser } from './data.js';

/** Events per delivery: Smooch v2 batches events, and the gateway processes up to 100 per delivery. */
const EVENTS_PER_DELIVERY = 25;

/**
 * Delivers the history to every webhook of the app targeting `url` that takes
 * `conversation:message`. Event ids are fixed, so a second delivery (a restart
 * on a persistent store) is deduplicated. Resolves with each delivery's status
 * (0: unreachable); never rejects.
 */
export async function deliverSmoochHistory(data: SmoochSandboxData, url: string): Promise<readonly number[]> {
  const webhooks = data.integrations.flatMap((i) => (i.webhooks ?? []).filter((w) => w.target === url && w.triggers.includes('conversation:message')));
  // The user's latest message names the user; the business's, when later, says when the conversation was last active.
  const latest = data.conversations
    .flatMap((c) => {
      const messages = data.messages.get(c.id) ?? [];
      const last = messages.at(-1);
      const fromUser = messages.findLast((m) => m.author.type === 'user');
      return [...new Set([fromUser, last])].flatMap((m) => (m ? [{ conversation: c, message: m }] : []));
    })
    .sort((a, b) => a.message.received.localeCompare(b.message.received));
  const events = latest.map(({ conversation, message }) => historyEvent(data, conversation, message));
  const statuses: number[] = [];
  for (const webhook of webhooks) {
    for (let i = 0; i < events.length; i += EVENTS_PER_DELIVERY) {
      const body = JSON.stringify({ app: { id: data.appId }, webhook: { id: webhook.id, version: 'v2' }, events: events.slice(i, i + EVENTS_PER_DELIVERY) });
      statuses.push(await deliverWebhook(url, body, { 'x-api-key': webhook.secret }).then((res) => res.status, () => 0));
    }
  }
  return statuses;
}

function historyEvent(data: SmoochSandboxData, conversation: SmoochConversation, message: SmoochMessage): Record<string, unknown> {
  const user = data.users.find((u) => u.id === conversation.userId) as SmoochUser;
  const userRef = { id: user.id, ...(user.externalId ? { externalId: user.externalId } : {}), authenticated: false };
  return {
    id: `history-${message.id}`,
    type: 'conversation:message',
    createdAt: message.received,
    payload: {
      conversation: { id: conversation.id, type: conversation.type },
      message: message.author.type === 'user' ? { ...message, author: { ...message.author, user: userRef } } : message,
    },
  };
}
