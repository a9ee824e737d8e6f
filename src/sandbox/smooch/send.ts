// Sunshine Conversations' send endpoint in the emulator, v2
// `POST /v2/apps/{appId}/conversations/{conversationId}/messages` as the v2
// spec documents it: `author` ({type: business|user, displayName?, avatarUrl?,
// userId?}) and `content` ({type: text, text} or an image/file `mediaUrl`)
// required, `metadata` optional and echoed wherever the message appears (the
// answer, message lists, webhooks). The answer is 201 `{ messages: [message] }`;
// then the webhooks follow: `conversation:message`, then (for a business
// message) `conversation:message:delivery:channel` and `:delivery:user`, or
// `:delivery:failure`, to the webhooks subscribed to each trigger.
import type { EmuRequest, EmuResponse, EmuRoute, RequestFilter } from '../kit.js';
import type { DeliveryOutcome, SendLifecycle } from '../sending.js';
import { SANDBOX_BUSINESS, type SmoochConversation, type SmoochMessage, type SmoochSandboxData, type SmoochUser } from './data.js';
import { error } from './routes.js';
import { deliverSmoochEvent } from './webhooks.js';

export const SMOOCH_SEND_REQUESTS: RequestFilter = { method: 'POST', pathPattern: /^\/v2\/apps\/[^/]+\/conversations\/[^/]+\/messages\/?$/ };

/** Every trigger a send's webhooks use; subscribe a webhook to these to follow a message to delivered. */
export const SEND_LIFECYCLE_TRIGGERS = [
  'conversation:message',
  'conversation:message:delivery:channel',
  'conversation:message:delivery:user',
  'conversation:message:delivery:failure',
] as const;

// The Sunshine Conversations v2 spec: textMessage.text has maxLength 4096, "The
// metadata is limited to 4KB in size", JSON bodies to 100 kB, and a conversation
// to 30,000 messages (then 423 Locked).
const MAX_TEXT = 4096;
const MAX_METADATA_BYTES = 4096;
const MAX_BODY_BYTES = 100_000;
const MAX_MESSAGES = 30_000;

export type Metadata = Readonly<Record<string, string | number | boolean>>;
/** A stored message with the metadata it was sent with. */
export type SentMessage = SmoochMessage & { readonly metadata?: Metadata };

export function smoochSendRoute(data: SmoochSandboxData, deps: { readonly lifecycle: SendLifecycle; readonly webhookSecret: string }): EmuRoute {
  return {
    method: 'POST',
    path: '/v2/apps/:appId/conversations/:conversationId/messages',
    handler(req) {
      if (req.params.appId !== data.appId) return error(404, 'app_not_found', 'App not found');
      const conversation = data.conversations.find((c) => c.id === req.params.conversationId);
      if (!conversation) return error(404, 'conversation_not_found', 'Conversation not found');
      const user = data.users.find((u) => u.id === conversation.userId) as SmoochUser;
      const thread = data.messages.get(conversation.id) as SmoochMessage[];
      if (thread.length >= MAX_MESSAGES) return error(423, 'locked', `Message limit of ${MAX_MESSAGES} per conversation reached.`);
      const message = postedMessage(data, req, conversation, user);
      if ('status' in message) return message;
      thread.push(message);
      conversation.lastUpdatedAt = message.received;
      deps.lifecycle.start(lifecycleSteps(data, conversation, user, message, deps.webhookSecret), { delivered: true });
      return { status: 201, body: { messages: [message] } };
    },
  };
}

/** The message the request posts, validated as the API does, or its 400. */
function postedMessage(data: SmoochSandboxData, req: EmuRequest, conversation: SmoochConversation, user: SmoochUser): SentMessage | EmuResponse {
  if (Buffer.byteLength(JSON.stringify(req.body ?? null)) > MAX_BODY_BYTES) return error(413, 'payload_too_large', `The request body is over ${MAX_BODY_BYTES} bytes`);
  const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const author = b.author as Record<string, unknown> | undefined;
  if (typeof author !== 'object' || author === null) return error(400, 'bad_request', 'author is required');
  if (author.type !== 'business' && author.type !== 'user') return error(400, 'bad_request', `author.type must be business or user, got ${JSON.stringify(author.type)}`);
  if (author.type === 'user' && author.userId !== user.id && (user.externalId === undefined || author.userExternalId !== user.externalId)) {
    return error(400, 'bad_request', 'author.userId or author.userExternalId must name a participant of the conversation');
  }
  const content = contentOf(b.content);
  if (typeof content === 'string') return error(400, 'bad_request', content);
  const metadata = metadataOf(b.metadata);
  if (typeof metadata === 'string') return error(400, 'bad_request', metadata);
  const received = new Date().toISOString();
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    id: data.newId(Date.now()),
    received,
    author:
      author.type === 'business'
        ? { type: 'business', displayName: str(author.displayName) ?? SANDBOX_BUSINESS.displayName, avatarUrl: str(author.avatarUrl) ?? SANDBOX_BUSINESS.avatarUrl }
        : { type: 'user', userId: user.id, displayName: `${user.profile.givenName} ${user.profile.surname}` },
    content,
    source: { type: 'api:conversations' },
    ...(metadata ? { metadata } : {}),
  };
}

function contentOf(raw: unknown): SmoochMessage['content'] | string {
  if (typeof raw !== 'object' || raw === null) return 'content is required';
  const c = raw as Record<string, unknown>;
  if (c.type === 'text') {
    if (typeof c.text !== 'string' || c.text.trim() === '') return 'content.text is required for a text message';
    if (c.text.length > MAX_TEXT) return `content.text must be at most ${MAX_TEXT} characters, got ${c.text.length}`;
    return { type: 'text', text: c.text };
  }
  if (c.type === 'image' || c.type === 'file') {
    if (typeof c.mediaUrl !== 'string' || !/^https?:\/\/\S+$/.test(c.mediaUrl)) return `content.mediaUrl must be a URL for an ${String(c.type)} message`;
    if (c.text !== undefined && (typeof c.text !== 'string' || c.text.length > MAX_TEXT)) return `content.text must be a string of at most ${MAX_TEXT} characters`;
    const mediaType = typeof c.mediaType === 'string' ? c.mediaType : c.type === 'image' ? 'image/jpeg' : 'application/octet-stream';
    // The store's content type has image only; a file reads back with its media type.
    return { type: 'image', mediaUrl: c.mediaUrl, mediaType, ...(typeof c.text === 'string' ? { text: c.text } : {}) };
  }
  return `content.type ${JSON.stringify(c.type)} is not supported by the sandbox (text, image, file)`;
}

/** Flat metadata of scalars ("the only supported format"), at most 4KB; null when absent. */
function metadataOf(raw: unknown): Metadata | null | string {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) return 'metadata must be an object';
  const bad = Object.entries(raw).find(([, v]) => !['string', 'number', 'boolean'].includes(typeof v));
  if (bad) return `metadata values must be strings, numbers or booleans; ${JSON.stringify(bad[0])} is not`;
  if (Buffer.byteLength(JSON.stringify(raw)) > MAX_METADATA_BYTES) return `metadata is limited to ${MAX_METADATA_BYTES} bytes`;
  return raw as Metadata;
}

function lifecycleSteps(data: SmoochSandboxData, conversation: SmoochConversation, user: SmoochUser, message: SentMessage, secret: string): { sent(): Promise<unknown>; settled(o: DeliveryOutcome): Promise<unknown> } {
  const conversationRef = { id: conversation.id, type: conversation.type };
  const userRef = { id: user.id, ...(user.externalId ? { externalId: user.externalId } : {}), authenticated: false };
  const destination = { type: conversation.channel, integrationId: conversation.integrationId };
  const event = (type: string, payload: Record<string, unknown>): Promise<unknown> => {
    const now = Date.now();
    return deliverSmoochEvent(data, { id: data.newId(now), type, createdAt: new Date(now).toISOString(), payload }, secret);
  };
  const delivery = { conversation: conversationRef, user: userRef, destination, message: { id: message.id }, isFinalEvent: true };
  const fromUser = message.author.type === 'user';
  return {
    sent: () => event('conversation:message', { conversation: conversationRef, message: fromUser ? { ...message, author: { ...message.author, user: userRef } } : message }),
    async settled(outcome) {
      // A message posted as the user is not delivered to anyone: it has no delivery events.
      if (fromUser) return;
      if (!outcome.delivered) {
        await event('conversation:message:delivery:failure', { ...delivery, error: { code: 'uncategorized_error', message: outcome.reason } });
        return;
      }
      const externalMessages = [{ id: `${conversation.channel}-${message.id}` }];
      await event('conversation:message:delivery:channel', { ...delivery, externalMessages, isFinalEvent: false });
      await event('conversation:message:delivery:user', { ...delivery, externalMessages });
    },
  };
}
