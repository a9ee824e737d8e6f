// A send's recipient: looked up through the ordinary loaders but spending the
// rate budget as a send (ahead of reads) and waiting little; when even that
// finds no budget, the send is claimed with its recipient pending and the
// worker looks it up before the first attempt, so a client gets QUEUED
// instead of a rate-limit error.
import { GraphQLError } from 'graphql';
import { ProviderError } from '../errors.js';
import type { SendMessageInput } from '../generated/graphql.js';
import type { ProviderLoaders } from '../loaders.js';
import type { Channel, ProviderName } from '../model.js';
import { withRequestOptions } from '../providers/http.js';
import type { MessageSender, SendTarget } from '../providers/sender.js';
import type { OutboundRecord, PendingRecipient } from './types.js';
import { SendRefused, checkContent, contactTarget, conversationTarget, lookup } from './validate.js';

/** One answer for unknown ids and ids of accounts the key does not reach. */
export const noSuch = (input: SendMessageInput): string => (input.to.conversationId != null ? 'No such conversation' : 'No such contact');

/** Looks the recipient up with a send's budget priority, waiting at most `budgetWaitMs` for a slot and retrying nothing in place. */
export async function targetOf(
  loaders: ProviderLoaders,
  input: SendMessageInput,
  provider: ProviderName,
  providerId: string,
  sender: MessageSender,
  field: readonly string[],
  budgetWaitMs: number,
): Promise<SendTarget> {
  const asSend = <T>(run: () => Promise<T>): Promise<T> => withRequestOptions({ priority: 'send', budgetWaitMs, maxRetries: 0 }, () => lookup(field, run));
  if (input.to.conversationId != null) {
    const conversation = await asSend(() => loaders.recipient.load(providerId));
    if (!conversation) throw new SendRefused({ code: 'INVALID_RECIPIENT', field: ['input', ...field], message: noSuch(input) });
    checkContent(input, sender, conversation.channel, provider);
    return conversationTarget(conversation);
  }
  const channel = input.to.contact!.channel as Channel;
  const contact = await asSend(() => loaders.contact.load(providerId));
  if (!contact) throw new SendRefused({ code: 'INVALID_RECIPIENT', field: ['input', ...field], message: noSuch(input) });
  checkContent(input, sender, channel, provider);
  return contactTarget(contact, channel, sender, provider);
}

/** When the budget (or the provider's 429) refused a lookup: how long until a slot; null for any other error. */
export function rateLimitedFor(err: unknown): number | null {
  const inner = err instanceof GraphQLError && err.originalError ? err.originalError : err;
  return inner instanceof ProviderError && inner.failure === 'RATE_LIMITED' ? Math.max(inner.retryAfterMs ?? 1_000, 100) : null;
}

export function pendingOf(input: SendMessageInput, providerId: string, idAccount: string | null): PendingRecipient {
  const conversation = input.to.conversationId != null;
  return { kind: conversation ? 'conversation' : 'contact', providerId, idAccount, channel: conversation ? null : (input.to.contact!.channel as Channel) };
}

/** What the id alone says of the recipient: enough to order sends per conversation until the lookup. */
export function pendingTarget(pending: PendingRecipient): SendTarget {
  const conversation = pending.kind === 'conversation';
  return {
    conversationId: conversation ? pending.providerId : null,
    contactRef: conversation ? null : pending.providerId,
    contactName: null,
    // Unknown for a conversation until it is looked up; OutboundMessage.channel answers null meanwhile.
    channel: pending.channel ?? 'SMS',
    address: null,
    locationId: null,
  };
}

/** The stored send as the mutation's input again (what the checks read of it; ids are the provider's). */
function inputOf(record: OutboundRecord, pending: PendingRecipient): SendMessageInput {
  const to = pending.kind === 'conversation' ? { conversationId: pending.providerId } : { contact: { contactId: pending.providerId, channel: pending.channel! } };
  return { to, body: record.body, subject: record.subject, attachments: record.attachments.map((url) => ({ url })), idempotencyKey: record.idempotencyKey } as SendMessageInput;
}

export type Resolution = { readonly target: SendTarget } | { readonly failed: string } | { readonly retryAfterMs: number };

/** The worker's lookup of a pending recipient: its target, why the send cannot go (a user error's code and message), or when budget comes. */
export async function resolvePending(record: OutboundRecord, loaders: ProviderLoaders, sender: MessageSender, budgetWaitMs: number): Promise<Resolution> {
  const pending = record.pending!;
  const field = pending.kind === 'conversation' ? ['to', 'conversationId'] : ['to', 'contact', 'contactId'];
  try {
    return { target: await targetOf(loaders, inputOf(record, pending), record.provider, pending.providerId, sender, field, budgetWaitMs) };
  } catch (err) {
    if (err instanceof SendRefused) return { failed: `${err.userError.code}: ${err.userError.message}` };
    const retryAfterMs = rateLimitedFor(err);
    if (retryAfterMs !== null) return { retryAfterMs };
    throw err;
  }
}
