// sendMessage's input checks, each an expected refusal (a user error naming
// the input field), run before anything is stored or sent: the key, the
// recipient (its id, its account against the caller's key, what the provider
// knows of it) and the content against the provider's documented limits.
import { GraphQLError } from 'graphql';
import { ProviderError } from '../errors.js';
import type { SendMessageErrorCode, SendMessageInput } from '../generated/graphql.js';
import { decodeId, type GlobalId } from '../ids.js';
import type { Channel, ContactRecord, ConversationRecord, ProviderName } from '../model.js';
import type { MessageSender, SendTarget } from '../providers/sender.js';

export interface SendUserError {
  readonly code: SendMessageErrorCode;
  readonly field: readonly string[];
  readonly message: string;
}

export const MAX_KEY_LENGTH = 255;

export class SendRefused extends Error {
  constructor(readonly userError: SendUserError) {
    super(userError.message);
  }
}

const refuse = (code: SendMessageErrorCode, field: readonly string[], message: string): never => {
  throw new SendRefused({ code, field: ['input', ...field], message });
};

export function checkKey(key: string): void {
  if (key.length === 0 || key.trim().length === 0) refuse('INVALID_IDEMPOTENCY_KEY', ['idempotencyKey'], 'idempotencyKey must not be empty');
  if (key.length > MAX_KEY_LENGTH) refuse('INVALID_IDEMPOTENCY_KEY', ['idempotencyKey'], `idempotencyKey has at most ${MAX_KEY_LENGTH} characters, got ${key.length}`);
}

/** The recipient's id, decoded; malformed and wrong-type ids are INVALID_RECIPIENT naming the field. */
export function recipientId(input: SendMessageInput): { readonly id: GlobalId; readonly field: readonly string[] } {
  const conversationId = input.to.conversationId ?? null;
  const field = conversationId !== null ? ['to', 'conversationId'] : ['to', 'contact', 'contactId'];
  const raw = conversationId ?? input.to.contact?.contactId ?? null;
  if (raw === null) return refuse('INVALID_RECIPIENT', ['to'], 'Give to.conversationId or to.contact');
  try {
    return { id: decodeId(raw, conversationId !== null ? 'Conversation' : 'Contact'), field };
  } catch (err) {
    if (err instanceof GraphQLError) return refuse('INVALID_RECIPIENT', field, err.message);
    throw err;
  }
}

/** The one content check that needs neither the channel nor the provider. */
export function checkNotEmpty(input: SendMessageInput): void {
  if ((input.body ?? '').trim().length === 0 && (input.attachments ?? []).length === 0) refuse('BODY_EMPTY', ['body'], 'body is empty and there are no attachments');
}

/** Content checks that need only the sender's capabilities and the channel. */
export function checkContent(input: SendMessageInput, sender: MessageSender, channel: Channel, provider: ProviderName): void {
  const attachments = input.attachments ?? [];
  if (!sender.channels.includes(channel)) refuse('CHANNEL_UNSUPPORTED', channelField(input), `${provider} cannot send on ${channel}; it sends on ${sender.channels.join(', ')}`);
  checkNotEmpty(input);
  const limit = sender.maxBodyLength(channel);
  if ((input.body ?? '').length > limit) refuse('BODY_TOO_LONG', ['body'], `${provider} accepts at most ${limit} characters on ${channel}, got ${(input.body ?? '').length}`);
  if (attachments.length > 0 && !sender.carriesAttachments(channel)) refuse('ATTACHMENTS_UNSUPPORTED', ['attachments'], `${provider} cannot send attachments on ${channel}`);
  attachments.forEach((a, i) => {
    if (!/^https?:\/\/[^\s]+$/i.test(a.url)) refuse('ATTACHMENTS_UNSUPPORTED', ['attachments', String(i), 'url'], `attachments[${i}].url must be an http(s) URL`);
  });
  if (input.subject != null && input.subject !== '' && !sender.carriesSubject(channel)) refuse('ATTACHMENTS_UNSUPPORTED', ['subject'], `A subject is for EMAIL only, not ${channel}`);
}

function channelField(input: SendMessageInput): string[] {
  return input.to.conversationId != null ? ['to', 'conversationId'] : ['to', 'contact', 'channel'];
}

/** Runs a lookup, turning an account that needs reconnecting into its user error. */
export async function lookup<T>(field: readonly string[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const inner = err instanceof GraphQLError && err.originalError ? err.originalError : err;
    if (inner instanceof ProviderError && inner.failure === 'UNAUTHORIZED') {
      return refuse('ACCOUNT_NEEDS_RECONNECTION', field, `${inner.provider} refused the account's credentials; an admin has to connect it again`);
    }
    if (inner instanceof ProviderError && inner.failure === 'NOT_FOUND') return refuse('INVALID_RECIPIENT', field, field.includes('conversationId') ? 'No such conversation' : 'No such contact');
    throw err;
  }
}

export function conversationTarget(c: ConversationRecord): SendTarget {
  return { conversationId: c.id, contactRef: c.contactRef, contactName: c.contactName, channel: c.channel, address: c.channelIdentifier, locationId: c.locationId };
}

export function contactTarget(contact: ContactRecord, channel: Channel, sender: MessageSender, provider: ProviderName): SendTarget {
  const address = channel === 'EMAIL' ? (contact.emails[0] ?? null) : (contact.phones[0] ?? null);
  if (sender.needsAddress(channel) && !address) {
    refuse('CONTACT_HAS_NO_ADDRESS', ['to', 'contact', 'channel'], `The ${provider} contact has no ${channel === 'EMAIL' ? 'email address' : 'phone number'} to send ${channel} to`);
  }
  return { conversationId: null, contactRef: contact.id, contactName: contact.name, channel, address, locationId: contact.locationId };
}
