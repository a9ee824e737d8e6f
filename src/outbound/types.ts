// What the outbound module stores and passes around: one record per send,
// keyed by (account, idempotencyKey), and the store contract its MongoDB and
// in-memory adapters implement.
import type { Channel, ProviderName } from '../model.js';
import type { SendTarget } from '../providers/sender.js';

/**
 * A recipient the mutation could not look up for want of rate budget: the
 * worker looks it up before the first attempt (`target` meanwhile holds only
 * what the id says).
 */
export interface PendingRecipient {
  readonly kind: 'conversation' | 'contact';
  /** The provider's id of the conversation or contact. */
  readonly providerId: string;
  /** The account the id named (null: the provider's default), for the loaders. */
  readonly idAccount: string | null;
  /** The contact's channel asked for; null for a conversation (its own channel, once looked up). */
  readonly channel: Channel | null;
}

export type OutboundStatus = 'QUEUED' | 'SENDING' | 'SENT' | 'DELIVERED' | 'READ' | 'FAILED' | 'UNCERTAIN';

export interface OutboundRecord {
  /** 24 hex digits, the gateway's own: sendIdOf(scope, idempotencyKey) (keys.ts). */
  readonly id: string;
  readonly provider: ProviderName;
  /** The account it is sent from: `env` or a stored account's id. */
  readonly account: string;
  /** `<provider>:<account>`: idempotency keys are unique within it. */
  readonly scope: string;
  readonly idempotencyKey: string;
  /** Digest of the input, to tell a replay from a reuse of the key. */
  readonly inputHash: string;
  readonly target: SendTarget;
  /** Set while the recipient is not looked up yet (absent or null: `target` is resolved). */
  readonly pending?: PendingRecipient | null;
  readonly body: string | null;
  readonly subject: string | null;
  readonly attachments: readonly string[];
  readonly status: OutboundStatus;
  readonly failureReason: string | null;
  /** The provider message's MessageRecord.id, once known. */
  readonly messageId: string | null;
  /** The conversation it went into, once known (provider id). */
  readonly conversationId: string | null;
  /** While QUEUED: when it expects to go (ISO-8601). */
  readonly queuedUntil: string | null;
  /** Epoch ms after which the worker may take it up: a QUEUED send's turn, or a SENDING send's lease running out. */
  readonly dueAt: number | null;
  /** Upstream attempts made so far. */
  readonly attempts: number;
  /** When the first attempt started (ISO-8601): findSent looks for messages since. */
  readonly firstAttemptAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Time-ordered position of the last change, what `outboundMessageUpdated(after:)` resumes from. */
  readonly seq: string;
  /** Epoch ms after which it is deleted (GATEWAY_SEND_KEY_TTL_SECONDS). */
  readonly expiresAt: number;
}

/** What `outboundMessageUpdated` delivers: the record after a change, and where to resume after it. */
export interface OutboundEvent {
  readonly cursor: string;
  readonly record: OutboundRecord;
}

export type OutboundPatch = Partial<
  Pick<OutboundRecord, 'target' | 'pending' | 'status' | 'failureReason' | 'messageId' | 'conversationId' | 'queuedUntil' | 'dueAt' | 'attempts' | 'firstAttemptAt'>
>;

/** How long a webhook about a not-yet-known message waits for its send's answer (then it expires in both adapters). */
export const OBSERVATION_TTL_MS = 3_600_000; // 1 hour

/** A provider webhook about a message no send claimed yet (it may come before the send's answer). */
export interface Observation {
  readonly provider: ProviderName;
  readonly account: string;
  readonly messageId: string;
  readonly status: OutboundStatus;
  readonly failureReason: string | null;
  readonly at: number;
  /** The SENT-kind event that reported it, published as a messageSent (no send was known to say it repeats one). */
  readonly eventId?: string;
}

export interface OutboundFilter {
  readonly provider?: ProviderName | null;
  /** Only these scopes (`<provider>:<account>`); null: all. */
  readonly scopes?: readonly string[] | null;
  readonly conversationId?: string | null;
  readonly ids?: readonly string[] | null;
}

export interface ClaimResult {
  readonly inserted: boolean;
  readonly record: OutboundRecord;
}

export interface OutboundStore {
  /** Inserts the record unless its (scope, idempotencyKey) exists; answers the stored one either way. Durable before it resolves. */
  claim(record: OutboundRecord): Promise<ClaimResult>;
  get(id: string): Promise<OutboundRecord | null>;
  getMany(ids: readonly string[]): Promise<readonly OutboundRecord[]>;
  findByKey(scope: string, idempotencyKey: string): Promise<OutboundRecord | null>;
  findByMessage(provider: ProviderName, account: string, messageId: string): Promise<OutboundRecord | null>;
  /** findByMessage for many messages of one account at once (a list's messages), in no particular order. */
  findByMessages(provider: ProviderName, account: string, messageIds: readonly string[]): Promise<readonly OutboundRecord[]>;
  /**
   * Applies the patch only while the record's status is one of `from` (and, if
   * given, its `dueAt` is still `dueAt`: a lease); answers the updated record,
   * or null when another change got there first. Sets `seq` and `updatedAt`.
   */
  update(id: string, from: readonly OutboundStatus[], patch: OutboundPatch, guard?: { readonly dueAt: number | null }): Promise<OutboundRecord | null>;
  /**
   * Takes the attempt due at the record's `dueAt`: true for exactly one caller
   * on any instance. Rounds are unique inserts of `<id>:<dueAt>:<round>` (kept
   * as long as the send), taken in order: round r+1 opens only once round r
   * has been held `leaseMs` without the send moving (its taker died), so racing
   * takers never disagree on the round, whatever their clocks read. `update`
   * alone cannot decide it: FerretDB evaluates a guarded update's filter and
   * writes in separate steps, so racing updates all win.
   */
  takeAttempt(record: OutboundRecord, leaseMs: number): Promise<boolean>;
  /**
   * QUEUED and SENDING records whose dueAt has passed, oldest first. The worker
   * calls it every pass on every instance: the MongoDB adapter reads an index
   * of unsettled sends, not the records (mongo-active.ts).
   */
  due(now: number, limit: number): Promise<readonly OutboundRecord[]>;
  /** Records changed after `seq`, in seq order. */
  changedAfter(seq: string, filter: OutboundFilter, limit: number): Promise<readonly OutboundRecord[]>;
  /** Earlier QUEUED records of the same conversation (sends go in order per conversation); adapters may answer 1 for "some". */
  queuedBefore(record: OutboundRecord): Promise<number>;
  /**
   * Records `eventId` as the stored event published as the send's one
   * `messageSent`, unless one is recorded already; answers the one recorded.
   * Concurrent callers on any instance agree on one (a unique insert); it is
   * kept as long as the send.
   */
  announce(record: OutboundRecord, eventId: string): Promise<string>;
  observe(observation: Observation): Promise<void>;
  /** The unexpired reports `observe` kept about the message (OBSERVATION_TTL_MS), in no particular order. */
  observations(provider: ProviderName, account: string, messageId: string): Promise<readonly Observation[]>;
  /** QUEUED count and the oldest one's createdAt (epoch ms), for metrics; the count may include a send settled since the last `due` pass. */
  queueStats(): Promise<{ readonly depth: number; readonly oldest: number | null }>;
  /** Deletes what expired; answers how many. */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}
