// The send capability a provider may offer (`Provider.sender`): what it can
// carry, the send call itself, and `findSent`, the lookup that settles a send
// interrupted after it may have reached the provider (src/outbound/ never
// re-sends such a send without asking it first).
import type { Channel } from '../model.js';

/** Where a send goes, resolved by the gateway from a conversation or a contact (provider ids). */
export interface SendTarget {
  /** The conversation to reply in; null for a contact the provider picks or opens one for. */
  readonly conversationId: string | null;
  /** The contact (ContactRecord.id or an alias the provider takes). */
  readonly contactRef: string | null;
  readonly contactName: string | null;
  readonly channel: Channel;
  /** The phone number or email address the channel reaches the contact on. */
  readonly address: string | null;
  /** Podium: the location the conversation or contact belongs to. */
  readonly locationId: string | null;
}

export interface OutgoingMessage {
  /** The gateway's own id of the send (24 hex); where the provider keeps metadata, it travels with the message. */
  readonly outboundId: string;
  readonly body: string | null;
  readonly subject: string | null;
  readonly attachments: readonly string[];
}

export interface SendOptions {
  /** How long the send may wait for the account's rate budget. @default the client's maxRetryAfterMs */
  readonly budgetWaitMs?: number;
}

export interface SentMessage {
  /** The message's MessageRecord.id (the key webhooks and getMessages use for it). */
  readonly messageId: string;
  /** The conversation it went into, when the provider says. */
  readonly conversationId: string | null;
}

/** `unknown`: the provider offers no way to tell whether the send arrived. */
export type FoundSent = SentMessage | null | 'unknown';

export interface MessageSender {
  /** Channels it can send on. */
  readonly channels: readonly Channel[];
  /** The longest body it accepts on a channel, in characters (UTF-16 code units). */
  maxBodyLength(channel: Channel): number;
  /** Whether a contact needs a phone (or an email for EMAIL) on the channel to be reached at all. */
  needsAddress(channel: Channel): boolean;
  carriesAttachments(channel: Channel): boolean;
  carriesSubject(channel: Channel): boolean;
  /**
   * One upstream attempt, never retried in place: not on a 5xx or a timeout (it
   * may have taken effect), and not on a 429 either (the send queues durably for
   * the Retry-After instead of holding its lease). Throws ProviderError;
   * RATE_LIMITED when the account's rate budget has no slot within
   * `options.budgetWaitMs` or the provider answered 429.
   */
  send(target: SendTarget, message: OutgoingMessage, options?: SendOptions): Promise<SentMessage>;
  /**
   * The message an earlier attempt of this send made, looked up among the
   * conversation's recent messages sent at or after `since` (ISO-8601); null
   * when it is not there.
   */
  findSent(target: SendTarget, message: OutgoingMessage, since: string): Promise<FoundSent>;
  /**
   * A status report the gateway stores without a message event (Smooch's
   * delivery triggers): which message it is about and what it says; null for
   * anything else. Never throws.
   */
  readStatus?(event: StatusEvent): StatusReport | null;
}

/** A stored webhook event that normalized to no message event. */
export interface StatusEvent {
  readonly providerEventType: string | null;
  readonly eventKey: string;
  readonly rawBody: string;
}

export interface StatusReport {
  /** MessageRecord.id of the message. */
  readonly messageId: string;
  readonly status: 'SENT' | 'DELIVERED' | 'READ';
}
