// Contracts of the event store and the pubsub. The ingest pipeline and the
// resolvers depend on these only; `store/mongo.ts` and `pubsub/redis.ts` adapt
// the drivers, `store/memory.ts` and `pubsub/memory.ts` serve development.
import type { MessageEventKind, MessageRecord, ProviderName, WebhookRecord } from '../model.js';

export type EventStatus = 'PROCESSED' | 'UNPROCESSABLE';

export interface NewEvent {
  readonly provider: ProviderName;
  /** Dedupe key; (provider, eventKey) is unique in the store. */
  readonly eventKey: string;
  readonly providerEventType: string | null;
  readonly kind: MessageEventKind | null;
  readonly status: EventStatus;
  /** Why the event could not be processed (UNPROCESSABLE only). */
  readonly reason: string | null;
  readonly message: MessageRecord | null;
  /** The delivery's body as received (UTF-8). */
  readonly rawBody: string;
  /** ISO-8601 UTC. */
  readonly receivedAt: string;
}

export interface StoredEvent extends NewEvent {
  /** Time-ordered: a later insert has a larger id (string comparison). */
  readonly id: string;
  /** Whether the event has been handed to the pubsub. */
  readonly published: boolean;
}

export interface EventFilter {
  readonly provider?: ProviderName | null;
  readonly status?: EventStatus | null;
  readonly kind?: MessageEventKind | null;
  readonly conversationId?: string | null;
}

export interface EventStore {
  /**
   * Stores the event unless one with the same (provider, eventKey) exists.
   * Resolves only once the write is durable; rejects when the store is unreachable.
   */
  insertEvent(event: NewEvent): Promise<{ readonly inserted: boolean; readonly event: StoredEvent }>;
  /** Atomically marks an unpublished event published; true for the one caller that flipped it. */
  claimPublish(id: string): Promise<boolean>;
  /** Undoes claimPublish after the pubsub refused the event, so a redelivery publishes it. */
  releasePublish(id: string): Promise<void>;
  /** Newest first; `before` is an event id (exclusive). */
  listEvents(filter: EventFilter, page: { readonly limit: number; readonly before: string | null }): Promise<readonly StoredEvent[]>;
  getEvent(id: string): Promise<StoredEvent | null>;

  /** Mirror of the providers' webhook subscriptions, secrets included. Upserts on (provider, id). */
  saveWebhook(webhook: WebhookRecord): Promise<void>;
  deleteWebhook(provider: ProviderName, id: string): Promise<void>;
  listWebhooks(provider: ProviderName): Promise<readonly WebhookRecord[]>;
  getWebhook(provider: ProviderName, id: string): Promise<WebhookRecord | null>;

  /** Resolves when the store answers; rejects otherwise (used by /readyz). */
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
  /** Local listeners currently subscribed (metrics, leak tests). */
  listenerCount(): number;
  ping(): Promise<void>;
  close(): Promise<void>;
}
