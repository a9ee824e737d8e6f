// The MongoDB event store: the only module that imports the driver. Events live
// in `events` (`_id` = the time-ordered event id, unique on provider+eventKey so a
// redelivered webhook is stored once, even when deliveries race), webhook
// mirrors in `webhooks` (`_id` = `<provider>:<id>`).
//
// Whether an event was published is recorded by a document in `publish_claims`
// (`_id` = event id), not by a field on the event: a unique-key insert is atomic
// on MongoDB and on every wire-compatible server, while FerretDB (our test
// server) evaluates an update's filter and writes in separate steps, so
// concurrent `updateOne({ published: false })` calls all report a modification
// there. Readers derive `published` from the claim, which also spares every
// event an update (two inserts per event, the cheapest writes there are).
//
// Creating the store does not connect: the driver connects on first use, so the
// gateway starts (and answers /healthz) while MongoDB is down, and each operation
// rejects after `serverSelectionTimeoutMs` instead of hanging.
import { MongoClient, MongoServerError, type Collection, type Filter } from 'mongodb';
import type { MessageEventKind, MessageRecord, ProviderName, WebhookRecord } from '../../model.js';
import { newEventId } from '../event-id.js';
import type { EventFilter, EventStatus, EventStore, NewEvent, StoredEvent } from '../types.js';

export interface MongoStoreOptions {
  /** `mongodb://` or `mongodb+srv://` URL; credentials, replica set and TLS options go in it. */
  readonly url: string;
  /** Database holding the `events` and `webhooks` collections. */
  readonly db: string;
  /**
   * How long an operation waits for a usable server before it rejects
   * (MongoServerSelectionError).
   * @default 2_000 (2 seconds)
   */
  readonly serverSelectionTimeoutMs?: number;
}

interface EventDocument {
  _id: string;
  provider: ProviderName;
  eventKey: string;
  providerEventType: string | null;
  kind: MessageEventKind | null;
  status: EventStatus;
  reason: string | null;
  message: MessageRecord | null;
  rawBody: string;
  /** The ISO string exactly as given, so it reads back unchanged. */
  receivedAt: string;
  /** The same instant as a BSON date, for date queries and ad-hoc inspection. */
  receivedAtDate: Date | null;
}

type WebhookDocument = WebhookRecord & { _id: string };

interface ClaimDocument {
  /** The claimed event's id. */
  _id: string;
  claimedAt: Date;
}

const DUPLICATE_KEY = 11000;
// A clash on `_id` (two processes drawing the same random suffix in the same
// millisecond) is not a duplicate delivery; a fresh id resolves it.
const MAX_ID_ATTEMPTS = 3;

export function createMongoStore(options: MongoStoreOptions): EventStore {
  const client = new MongoClient(options.url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 2_000,
    // Absent optional fields stay absent instead of coming back as null.
    ignoreUndefined: true,
    appName: 'messaging-gateway',
  });
  const db = client.db(options.db);
  // A webhook is acknowledged only once its event is durable.
  const events: Collection<EventDocument> = db.collection<EventDocument>('events', {
    writeConcern: { w: 'majority' },
  });
  const webhooks: Collection<WebhookDocument> = db.collection<WebhookDocument>('webhooks', {
    writeConcern: { w: 'majority' },
  });
  const claims: Collection<ClaimDocument> = db.collection<ClaimDocument>('publish_claims', {
    writeConcern: { w: 'majority' },
  });

  let indexes: Promise<void> | null = null;
  // Created on first use rather than at start-up (MongoDB may be down then);
  // a failed attempt is forgotten so the next operation tries again.
  const ensureIndexes = (): Promise<void> => {
    indexes ??= events
      .createIndexes([
        { key: { provider: 1, eventKey: 1 }, name: 'provider_eventKey_unique', unique: true },
        // Newest-first listings filtered by provider or conversation; the `_id`
        // index serves unfiltered ones.
        { key: { provider: 1, _id: -1 }, name: 'provider_id_desc' },
        { key: { 'message.conversationId': 1, _id: -1 }, name: 'conversation_id_desc' },
      ])
      .then(
        () => undefined,
        (error: unknown) => {
          indexes = null;
          throw error;
        },
      );
    return indexes;
  };

  const findByKey = (provider: ProviderName, eventKey: string): Promise<EventDocument | null> =>
    events.findOne({ provider, eventKey });

  /** The documents as StoredEvents, `published` read from their claims. */
  async function withClaims(documents: readonly EventDocument[]): Promise<StoredEvent[]> {
    if (documents.length === 0) return [];
    const claimed = await claims.find({ _id: { $in: documents.map((d) => d._id) } }, { projection: { _id: 1 } }).toArray();
    const ids = new Set(claimed.map((c) => c._id));
    return documents.map((d) => fromDocument(d, ids.has(d._id)));
  }

  return {
    async insertEvent(event: NewEvent): Promise<{ inserted: boolean; event: StoredEvent }> {
      await ensureIndexes();
      for (let attempt = 1; ; attempt += 1) {
        const document = toDocument(event, newEventId());
        try {
          await events.insertOne(document);
          return { inserted: true, event: fromDocument(document, false) };
        } catch (error) {
          if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
          // The unique index only reports a clash once the other write is
          // committed, so the original is readable now.
          const existing = await findByKey(event.provider, event.eventKey);
          if (existing) return { inserted: false, event: (await withClaims([existing]))[0] as StoredEvent };
          if (attempt >= MAX_ID_ATTEMPTS) throw error;
        }
      }
    },

    async claimPublish(id: string): Promise<boolean> {
      await ensureIndexes();
      // No such event: there is nothing to publish, and no claim to leave behind.
      if (!(await events.findOne({ _id: id }, { projection: { _id: 1 } }))) return false;
      try {
        await claims.insertOne({ _id: id, claimedAt: new Date() });
        return true;
      } catch (error) {
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
        throw error;
      }
    },

    async releasePublish(id: string): Promise<void> {
      await claims.deleteOne({ _id: id });
    },

    async listEvents(filter: EventFilter, page: { limit: number; before: string | null }): Promise<StoredEvent[]> {
      // limit(0) would mean "no limit" to MongoDB.
      if (page.limit <= 0) return [];
      await ensureIndexes();
      const query: Filter<EventDocument> = {};
      if (filter.provider != null) query.provider = filter.provider;
      if (filter.status != null) query.status = filter.status;
      if (filter.kind != null) query.kind = filter.kind;
      if (filter.conversationId != null) query['message.conversationId'] = filter.conversationId;
      if (page.before !== null) query._id = { $lt: page.before };
      return withClaims(await events.find(query).sort({ _id: -1 }).limit(page.limit).toArray());
    },

    async getEvent(id: string): Promise<StoredEvent | null> {
      await ensureIndexes();
      const document = await events.findOne({ _id: id });
      return document ? ((await withClaims([document]))[0] ?? null) : null;
    },

    async saveWebhook(webhook: WebhookRecord): Promise<void> {
      const _id = webhookId(webhook.provider, webhook.id);
      // An upsert takes `_id` from the filter.
      await webhooks.replaceOne({ _id }, webhookRecord(webhook), { upsert: true });
    },

    async deleteWebhook(provider: ProviderName, id: string): Promise<void> {
      await webhooks.deleteOne({ _id: webhookId(provider, id) });
    },

    async listWebhooks(provider: ProviderName): Promise<WebhookRecord[]> {
      const documents = await webhooks.find({ provider }).sort({ _id: 1 }).toArray();
      return documents.map(webhookRecord);
    },

    async getWebhook(provider: ProviderName, id: string): Promise<WebhookRecord | null> {
      const document = await webhooks.findOne({ _id: webhookId(provider, id) });
      return document ? webhookRecord(document) : null;
    },

    async ping(): Promise<void> {
      await db.command({ ping: 1 });
    },

    async close(): Promise<void> {
      await client.close();
    },
  };
}

function webhookId(provider: ProviderName, id: string): string {
  return `${provider}:${id}`;
}

function toDocument(event: NewEvent, id: string): EventDocument {
  const receivedAtDate = new Date(event.receivedAt);
  return {
    _id: id,
    provider: event.provider,
    eventKey: event.eventKey,
    providerEventType: event.providerEventType,
    kind: event.kind,
    status: event.status,
    reason: event.reason,
    message: event.message,
    rawBody: event.rawBody,
    receivedAt: event.receivedAt,
    receivedAtDate: Number.isNaN(receivedAtDate.getTime()) ? null : receivedAtDate,
  };
}

// Field by field, so storage-only fields (`_id`, `receivedAtDate`) never leak out.
function fromDocument(document: EventDocument, published: boolean): StoredEvent {
  return {
    id: document._id,
    provider: document.provider,
    eventKey: document.eventKey,
    providerEventType: document.providerEventType,
    kind: document.kind,
    status: document.status,
    reason: document.reason,
    message: document.message,
    rawBody: document.rawBody,
    receivedAt: document.receivedAt,
    published,
  };
}

function webhookRecord(webhook: WebhookRecord): WebhookRecord {
  return {
    provider: webhook.provider,
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
