// The documents of the MongoDB store and their conversion to the store's
// contract. An event stores its delivery's raw body inline when it is the
// delivery's only event, and otherwise a reference to one `deliveries`
// document (`_id` = SHA-256 of the body), so a delivery of 2,500 events keeps
// its body once.
import { createHash } from 'node:crypto';
import type { MessageEventKind, MessageRecord, ProviderName, WebhookRecord } from '../../model.js';
import type { EventStatus, NewEvent, StoredEvent } from '../types.js';

/** Collection names of the MongoDB stores, in one place since the log and the claims both read `events`. */
export const EVENT_COLLECTIONS = {
  events: 'events',
  deliveries: 'deliveries',
  claims: 'publish_claims',
  published: 'published_events',
  progress: 'publish_progress',
  webhooks: 'webhooks',
  probes: 'readiness_probes',
} as const;

export interface EventDocument {
  _id: string;
  provider: ProviderName;
  /** Absent for the environment's account (see NewEvent.account). */
  account?: string;
  eventKey: string;
  providerEventType: string | null;
  kind: MessageEventKind | null;
  status: EventStatus;
  reason: string | null;
  message: MessageRecord | null;
  /** The body, when this event is its delivery's only one. */
  rawBody?: string;
  /** The `deliveries` document holding the body otherwise. */
  deliveryId?: string;
  /** The ISO string exactly as given, so it reads back unchanged. */
  receivedAt: string;
  /** The same instant as a BSON date, for date queries and ad-hoc inspection. */
  receivedAtDate: Date | null;
  /** Set when the inserter claimed the event for publishing in the insert itself (claim attempt 0). */
  claimedAt?: Date;
  /** The store that claimed it in its insert (its `publish_progress` document says whether it published it). */
  claimedBy?: string;
  /** StoredEvent.unannounced. */
  unannounced?: true;
}

export interface DeliveryDocument {
  /** SHA-256 (hex) of the body. */
  _id: string;
  rawBody: string;
  /** An id made just before its events: retention deletes it a minute after them. */
  createdId: string;
}

export type WebhookDocument = WebhookRecord & { _id: string; savedAt?: Date };

/** The event reached the pubsub (`_id` = event id). An insert, not an update: FerretDB's updates lock out inserts. */
export interface PublishedDocument {
  _id: string;
}

/** One store's publish progress (mongo-progress.ts): events it claimed in their insert with ids below `below` are published, except those in `open`. */
export interface ProgressDocument {
  /** The holder id (EventDocument.claimedBy). */
  _id: string;
  below: string;
  open: string[];
  /**
   * Every event this holder inserted or will insert has a smaller id: it is
   * written before an insert needs it (mongo-progress.ts), so once the outbox's
   * floor passes it, a dead holder has nothing left there. Absent on documents
   * of older versions (then nothing bounds them).
   */
  until?: string;
  at: Date;
}

export interface ClaimDocument {
  /** The event id for the first claim, `<event id>:<attempt>` for a takeover. */
  _id: string;
  /** Absent on claims made before the outbox, which meant "published" (attempt 0). */
  event?: string;
  attempt?: number;
  claimedAt: Date;
}

export function bodyHash(rawBody: string): string {
  return createHash('sha256').update(rawBody).digest('hex');
}

export function webhookId(provider: ProviderName, id: string): string {
  return `${provider}:${id}`;
}

export function toDocument(event: NewEvent, id: string, deliveryId: string | null): EventDocument {
  const receivedAtDate = new Date(event.receivedAt);
  return {
    _id: id,
    provider: event.provider,
    ...(event.account ? { account: event.account } : {}),
    eventKey: event.eventKey,
    providerEventType: event.providerEventType,
    kind: event.kind,
    status: event.status,
    reason: event.reason,
    message: event.message,
    ...(deliveryId === null ? { rawBody: event.rawBody } : { deliveryId }),
    receivedAt: event.receivedAt,
    receivedAtDate: Number.isNaN(receivedAtDate.getTime()) ? null : receivedAtDate,
  };
}

// Field by field, so storage-only fields (`_id`, `receivedAtDate`) never leak out.
export function fromDocument(document: EventDocument, rawBody: string, published: boolean): StoredEvent {
  return {
    id: document._id,
    provider: document.provider,
    ...(document.account ? { account: document.account } : {}),
    eventKey: document.eventKey,
    providerEventType: document.providerEventType,
    kind: document.kind,
    status: document.status,
    reason: document.reason,
    message: document.message,
    rawBody,
    receivedAt: document.receivedAt,
    published,
    ...(document.unannounced ? { unannounced: true as const } : {}),
  };
}

export function webhookRecord(webhook: WebhookRecord): WebhookRecord {
  return {
    provider: webhook.provider,
    // The account it was created through (a stored account's): its deliveries verify with its secret.
    ...(webhook.account ? { account: webhook.account } : {}),
    id: webhook.id,
    url: webhook.url,
    eventTypes: [...webhook.eventTypes],
    locationId: webhook.locationId,
    organizationId: webhook.organizationId,
    disabled: webhook.disabled,
    secret: webhook.secret,
    editable: webhook.editable,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
  };
}

