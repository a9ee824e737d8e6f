// The live state of one emulated Podium organization: its seeded data with the
// indexes the routes look things up by, kept right as sends add conversations
// and contacts.
import type { PodiumContact, PodiumConversation } from '../../providers/podium/client.js';
import type { PodiumSandboxData } from './data.js';
import type { PodiumState } from './routes.js';

export interface LegacyOAuth {
  readonly client: { readonly id: string; readonly secret: string; readonly refreshToken: string };
  accessToken: string;
  newToken(): string;
}

export function createPodiumState(data: PodiumSandboxData, baseUrl: () => string, oauth: LegacyOAuth): PodiumState {
  const conversationIndex = new Map<string, number>();
  const reindex = (): void => {
    conversationIndex.clear();
    data.conversations.forEach((c, i) => conversationIndex.set(c.uid, i));
  };
  reindex();
  const contactIndex = new Map<string, PodiumContact>();
  const indexContact = (contact: PodiumContact): void => {
    for (const key of [contact.uid, ...(contact.conversations ?? []).map((c) => c.uid), ...(contact.phoneNumbers ?? []), ...(contact.emails ?? [])]) {
      contactIndex.set(key.toLowerCase(), contact);
    }
  };
  data.contacts.forEach(indexContact);
  const contacts = data.contacts as PodiumContact[];
  const replaceContact = (contact: PodiumContact): void => {
    const at = contacts.findIndex((c) => c.uid === contact.uid);
    if (at >= 0) contacts[at] = contact;
    else contacts.unshift(contact);
    indexContact(contact);
  };
  return {
    data,
    webhooks: new Map(),
    contactIndex,
    conversation(uid) {
      const i = conversationIndex.get(uid);
      return i === undefined ? undefined : data.conversations[i];
    },
    touchConversation(uid, at) {
      const i = conversationIndex.get(uid);
      const conv = i === undefined ? undefined : data.conversations[i];
      if (i !== undefined && conv) data.conversations[i] = { ...conv, lastItemAt: at, updatedAt: at };
    },
    addConversation(conversation: PodiumConversation, contact: PodiumContact) {
      // Lists are newest first (by creation): a new conversation leads them.
      data.conversations.unshift(conversation);
      data.messages.set(conversation.uid, []);
      reindex();
      replaceContact(contact);
    },
    replaceContact,
    baseUrl,
    oauth,
  };
}
