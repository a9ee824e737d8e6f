// Contracts of the event store and the pubsub. The store is three parts: the
// event log, the publish claims and the webhook mirror; the ingest pipeline,
// the outbox, retention, the stream and the resolvers depend on the parts they
// use, never on a driver. `store/mongo-*.ts` and `pubsub/redis.ts` adapt the
// drivers, `store/memory-*.ts` and `pubsub/memory.ts` serve development.
import type { AccountRef } from '../accounts/store/types.js';
import type { MessageEventKind, MessageRecord, ProviderName, WebhookRecord } from '../model.js';

export type EventStatus = 'PROCESSED' | 'UNPROCESSABLE';

export interface NewEvent {
  readonly provider: ProviderName;
  /**
   * The stored account the delivery was routed to (accounts/webhook-routing.ts),
   * unprocessable events included; absent for the environment's account, or
   * when the payload named no known account. Processed events' messages carry it too.
   */
  readonly account?: string;
  /** Dedupe key; (provider, eventKey) is unique in the store. */
  readonly eventKey: string;
  readonly providerEventType: string | null;
  readonly kind: MessageEventKind | null;
  readonly status: EventStatus;
  /** Why the event could not be processed (UNPROCESSABLE only). */
  readonly reason: string | null;
  readonly message: MessageRecord | null;
  /**
   * The delivery's body as received (UTF-8). Events of one delivery share it:
   * the store keeps one copy per delivery, however many events it holds.
   */
  readonly rawBody: string;
  /** ISO-8601 UTC. */
  readonly receivedAt: string;
}

export interface StoredEvent extends NewEvent {
  /**
   * Time-ordered: a later insert has a larger id (string comparison). This is
   * the store order that subscription cursors follow.
   */
  readonly id: string;
  /** Whether the event has reached the pubsub (processed events only). */
  readonly published: boolean;
  /**
   * Set on an event kept but never published as a message event (a send's
   * repeated messageSent: outbound/observe.ts), so that no resume, catch-up or
   * outbox sweep delivers what the live stream held back.
   */
  readonly unannounced?: true;
}

/** What a replay fills in on an event that now normalizes. */
export interface ProcessedFields {
  readonly kind: MessageEventKind;
  readonly message: MessageRecord;
  readonly providerEventType: string | null;
  /** The account a replay routed a delivery stored without one to. */
  readonly account?: string;
}

export interface InsertResult {
  readonly inserted: boolean;
  readonly event: StoredEvent;
}

export interface UnpublishedScan {
  readonly events: readonly StoredEvent[];
  readonly scannedTo: string | null;
}

export interface EventFilter {
  readonly provider?: ProviderName | null;
  readonly status?: EventStatus | null;
  readonly kind?: MessageEventKind | null;
  readonly conversationId?: string | null;
  /** Only events of these accounts (`env`: events without an account); null: every event. */
  readonly accounts?: readonly AccountRef[] | null;
}

export interface ClaimOptions {
  /**
   * A claim older than this on an event still unpublished is presumed
   * abandoned (its holder died or its publish failed) and may be claimed again,
   * by exactly one caller. Absent: an existing claim always wins.
   */
  readonly takeOverAfterMs?: number;
}

export interface InsertOptions {
  /**
   * The inserted processed events come claimed for publishing by the caller
   * (attempt 0, timed from the insert), in the same write: the ingest then
   * publishes them without a claim write of its own, and an outbox takes one
   * over only after its lease, as for any claim.
   */
  readonly claimForPublish?: boolean;
}

/**
 * The event log: every webhook event as received (deduplicated on
 * provider+eventKey, time-ordered ids), what queries, resumes and the outbox read.
 */
export interface EventLog {
  /**
   * Stores the events unless one with the same (provider, eventKey) exists; one
   * result per event, in order. Resolves only once every write is durable;
   * rejects when the store is unreachable (then some may be stored, none acknowledged).
   */
  insertEvents(events: readonly NewEvent[], options?: InsertOptions): Promise<readonly InsertResult[]>;
  /** insertEvents for one event. */
  insertEvent(event: NewEvent): Promise<InsertResult>;
  /**
   * The outbox's scan: up to `limit` processed events with ids between `after`
   * and `before` (both exclusive), oldest first, and of those the unpublished
   * ones; `scannedTo` is the last id looked at when there may be more, else null.
   * A store that knows no processed event in the range can be unpublished may
   * answer none without reading them (the MongoDB store, from its publish progress).
   */
  scanUnpublished(page: { readonly limit: number; readonly after: string | null; readonly before: string }): Promise<UnpublishedScan>;
  /** Newest first; `before` is an event id (exclusive). */
  listEvents(filter: EventFilter, page: { readonly limit: number; readonly before: string | null }): Promise<readonly StoredEvent[]>;
  /** Oldest first, in store order; `after` is an event id (exclusive). Subscription resumes and catch-ups read it. */
  listEventsAfter(filter: EventFilter, page: { readonly limit: number; readonly after: string }): Promise<readonly StoredEvent[]>;
  getEvent(id: string): Promise<StoredEvent | null>;
  /**
   * Turns a stored UNPROCESSABLE event into a processed one in place (same id,
   * key, raw body and receivedAt): the re-normalization of an event a fixed
   * normalizer now understands. Resolves with the event as stored afterwards
   * (unchanged when it was already processed), or null when there is no such event.
   */
  markProcessed(id: string, processed: ProcessedFields): Promise<StoredEvent | null>;
  /** Flags stored events unannounced (StoredEvent.unannounced); durable before it resolves. */
  markUnannounced(ids: readonly string[]): Promise<void>;
  /** Deletes events (and their raw bodies) with ids below `before`; resolves with how many. */
  deleteEventsBefore(before: string): Promise<number>;
  /** How long events are kept, in ms; cursors older than this are refused. */
  readonly retentionMs: number;
}

/** Who publishes which event: exactly one publisher per event, and the record that it reached the pubsub. */
export interface PublishClaims {
  /** Takes the right to publish an unpublished event; true for the one caller that got it. */
  claimPublish(id: string, options?: ClaimOptions): Promise<boolean>;
  /** Records that the events reached the pubsub; the outbox stops offering them. */
  markPublished(ids: readonly string[]): Promise<void>;
  /** Which of the ids are recorded as published (the event log's `published` field). */
  publishedAmong(ids: readonly string[]): Promise<ReadonlySet<string>>;
  /** Forgets the claims and marks of events with ids below `before` (retention). */
  forgetBefore(before: string): Promise<void>;
}

/** Mirror of the providers' webhook subscriptions, secrets included. */
export interface WebhookMirror {
  /** Upserts on (provider, id). */
  saveWebhook(webhook: WebhookRecord): Promise<void>;
  /**
   * With `savedBefore`, deletes only a mirror last saved before then (a
   * listing that started earlier cannot know a webhook created since).
   */
  deleteWebhook(provider: ProviderName, id: string, options?: { readonly savedBefore?: Date }): Promise<void>;
  listWebhooks(provider: ProviderName): Promise<readonly WebhookRecord[]>;
  getWebhook(provider: ProviderName, id: string): Promise<WebhookRecord | null>;
}

/**
 * The three stores of one database as the gateway wires them: each consumer
 * depends on the part it uses (the ingest on the log, the outbox on the log and
 * the claims, webhook secrets on the mirror). `deleteEventsBefore` here also
 * forgets the claims of the deleted events.
 */
export interface EventStore extends EventLog, PublishClaims, WebhookMirror {
  /**
   * Resolves when the store can serve: reachable, its indexes in place, and a
   * durable write accepted; rejects with the reason otherwise (used by /readyz).
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What subscribers receive; JSON-serializable so it can cross Redis. */
export interface PublishedEvent {
  readonly eventId: string;
  readonly provider: ProviderName;
  readonly kind: MessageEventKind;
  readonly providerEventType: string | null;
  readonly receivedAt: string;
  readonly message: MessageRecord;
}

export interface PubSub {
  /** Delivers to every subscriber of every gateway instance sharing this pubsub. */
  publish(event: PublishedEvent): Promise<void>;
  /** Returns the unsubscribe function; calling it twice is harmless. */
  subscribe(listener: (event: PublishedEvent) => void): () => void;
  /**
   * Called after the subscription was lost and is in effect again: events
   * published in between never reached this instance, so listeners must catch
   * up from the store. `lostAt` is when the subscription was lost (ms since
   * the epoch). Absent: the pubsub never loses messages (in-process).
   */
  onResubscribed?(listener: (lostAt: number) => void): () => void;
  /** Local listeners currently subscribed (metrics, leak tests). */
  listenerCount(): number;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The event as subscribers see it, from the pubsub or read from the store (resume, catch-up). */
export function toPublished(event: StoredEvent): PublishedEvent | null {
  if (event.status !== 'PROCESSED' || !event.kind || !event.message || event.unannounced) return null;
  return {
    eventId: event.id,
    provider: event.provider,
    kind: event.kind,
    providerEventType: event.providerEventType,
    receivedAt: event.receivedAt,
    message: event.message,
  };
}
