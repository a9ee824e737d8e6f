// The MongoDB event store: the only module that imports the driver. Events live
// in `events` (`_id` = the time-ordered event id, unique on provider+eventKey so a
// redelivered webhook is stored once, even when deliveries race), raw bodies of
// multi-event deliveries in `deliveries`, webhook mirrors in `webhooks`
// (`_id` = `<provider>:<id>`).
//
// The right to publish an event is a document in `publish_claims`: a unique-key
// insert is atomic on MongoDB and on every wire-compatible server, while FerretDB
// (our test server) evaluates an update's filter and writes in separate steps, so
// concurrent conditional updates all report a modification there. Once the
// pubsub has the event, a `published_events` document records it (an insert
// again: updates on FerretDB's SQLite backend lock out the inserts the ingest
// waits on). A claim whose holder died can be taken over by exactly one caller,
// by inserting the next attempt's claim.
//
// Creating the store does not connect: the driver connects on first use, so the
// gateway starts (and answers /healthz) while MongoDB is down, and each operation
// rejects after `serverSelectionTimeoutMs` instead of hanging. The URL goes to the
// driver as given (config.ts parsed it with the driver's own parser) and is never logged.
import { randomUUID } from 'node:crypto';
import { MongoBulkWriteError, MongoClient, MongoServerError, type Collection, type Filter } from 'mongodb';
import type { AccountRef } from '../../accounts/store/types.js';
import type { ProviderName, WebhookRecord } from '../../model.js';
import { idFloor, idTime } from '../cursor.js';
import { newEventId } from '../event-id.js';
import type { ClaimOptions, EventFilter, EventStore, InsertOptions, InsertResult, NewEvent, ProcessedFields, StoredEvent, UnpublishedScan } from '../types.js';
import { createBatcher } from './batch.js';
import {
  bodyHash,
  fromDocument,
  toDocument,
  webhookId,
  webhookRecord,
  type ClaimDocument,
  type DeliveryDocument,
  type EventDocument,
  type PublishedDocument,
  type WebhookDocument,
} from './mongo-documents.js';
import { redact } from '../redact.js';
import { ensureIndexes } from './mongo-indexes.js';
import { DEFAULT_RETENTION_MS } from './retention.js';

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
  /** How long events are kept (enforced by the outbox's retention sweep). @default 7 days (ms) */
  readonly retentionMs?: number;
  /** The clock claims are timed by (tests). @default Date.now */
  readonly now?: () => number;
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
  const durable = { writeConcern: { w: 'majority' as const } };
  const events: Collection<EventDocument> = db.collection<EventDocument>('events', durable);
  const deliveries: Collection<DeliveryDocument> = db.collection<DeliveryDocument>('deliveries', durable);
  const webhooks: Collection<WebhookDocument> = db.collection<WebhookDocument>('webhooks', durable);
  const claims: Collection<ClaimDocument> = db.collection<ClaimDocument>('publish_claims', durable);
  const published: Collection<PublishedDocument> = db.collection<PublishedDocument>('published_events', durable);
  const probes = db.collection<{ _id: string; at: Date }>('readiness_probes', durable);
  const probeId = randomUUID();
  const now = options.now ?? Date.now;

  let indexes: Promise<void> | null = null;
  // Created on first use rather than at start-up (MongoDB may be down then);
  // a failed attempt is forgotten so the next operation tries again.
  const ready = (): Promise<void> => {
    indexes ??= (async () => {
      await ensureIndexes(events, [
        { key: { provider: 1, eventKey: 1 }, name: 'provider_eventKey_unique', unique: true },
        // Listings filtered by provider or conversation; the `_id` index serves unfiltered ones.
        { key: { provider: 1, _id: -1 }, name: 'provider_id_desc' },
        { key: { 'message.conversationId': 1, _id: -1 }, name: 'conversation_id_desc' },
      ]);
      await ensureIndexes(deliveries, [{ key: { createdId: 1 }, name: 'createdId' }]);
    })().catch((error: unknown) => {
      indexes = null;
      throw error;
    });
    return indexes;
  };

  /** Which of the ids were published: a `published_events` document, or a claim from before the outbox. */
  async function publishedAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const [marks, legacy] = await Promise.all([
      published.find({ _id: { $in: [...ids] } }).toArray(),
      claims.find({ _id: { $in: [...ids] }, event: { $exists: false } }, { projection: { _id: 1 } }).toArray(),
    ]);
    return new Set([...marks.map((m) => m._id), ...legacy.map((c) => c._id)]);
  }

  /** The documents as StoredEvents: bodies joined from `deliveries`, `published` from the marks. */
  async function hydrate(documents: readonly EventDocument[]): Promise<StoredEvent[]> {
    if (documents.length === 0) return [];
    const deliveryIds = [...new Set(documents.flatMap((d) => (d.deliveryId ? [d.deliveryId] : [])))];
    const [bodies, done] = await Promise.all([
      deliveryIds.length ? deliveries.find({ _id: { $in: deliveryIds } }).toArray() : [],
      publishedAmong(documents.map((d) => d._id)),
    ]);
    const bodyOf = new Map(bodies.map((b) => [b._id, b.rawBody]));
    return documents.map((d) => fromDocument(d, d.rawBody ?? bodyOf.get(d.deliveryId ?? '') ?? '', done.has(d._id)));
  }

  const insertBatch = createBatcher<EventDocument, true>(async (documents) => {
    try {
      await events.insertMany(documents as EventDocument[], { ordered: false });
      return documents.map(() => true as const);
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const failed = new Map<number, Error>();
      const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      for (const w of writeErrors) failed.set(w.index, new MongoServerError({ message: w.errmsg ?? 'write failed', code: w.code }));
      return documents.map((_, i) => failed.get(i) ?? (true as const));
    }
  });

  async function insertOneEvent(event: NewEvent, deliveryId: string | null, claim: boolean): Promise<InsertResult> {
    for (let attempt = 1; ; attempt += 1) {
      const document = toDocument(event, newEventId(), deliveryId);
      if (claim && event.status === 'PROCESSED') document.claimedAt = new Date(now());
      try {
        await insertBatch(document);
        return { inserted: true, event: fromDocument(document, event.rawBody, false) };
      } catch (error) {
        if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
        // The unique index only reports a clash once the other write is
        // committed, so the original is readable now.
        const existing = await events.findOne({ provider: event.provider, eventKey: event.eventKey });
        if (existing) return { inserted: false, event: (await hydrate([existing]))[0] as StoredEvent };
        if (attempt >= MAX_ID_ATTEMPTS) throw error;
      }
    }
  }

  async function insertEvents(batch: readonly NewEvent[], insert: InsertOptions = {}): Promise<InsertResult[]> {
    await ready();
    // Bodies shared by several events are stored once, before the events that point at them.
    const counts = new Map<string, number>();
    for (const e of batch) counts.set(e.rawBody, (counts.get(e.rawBody) ?? 0) + 1);
    const shared = new Map<string, string>();
    for (const [rawBody, count] of counts) {
      if (count < 2) continue;
      const _id = bodyHash(rawBody);
      await deliveries.insertOne({ _id, rawBody, createdId: newEventId() }).catch((error: unknown) => {
        // Same hash, same body: it is already stored.
        if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
      });
      shared.set(rawBody, _id);
    }
    return Promise.all(batch.map((e) => insertOneEvent(e, shared.get(e.rawBody) ?? null, insert.claimForPublish === true)));
  }

  // Claims of concurrent publishers go to the server together too: one find and one insertMany
  // per batch instead of a findOne and an insertOne per event (both compete with the ingest's inserts).
  const statusBatch = createBatcher<string, Pick<EventDocument, 'status' | 'claimedAt'> | null>(async (ids) => {
    const found = await events.find({ _id: { $in: [...ids] } }, { projection: { _id: 1, status: 1, claimedAt: 1 } }).toArray();
    const byId = new Map(found.map((d) => [d._id, d]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  const claimBatch = createBatcher<ClaimDocument, boolean>(async (documents) => {
    try {
      await claims.insertMany(documents as ClaimDocument[], { ordered: false });
      return documents.map(() => true);
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const failed = new Map<number, boolean | Error>();
      const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      for (const w of writeErrors) failed.set(w.index, w.code === DUPLICATE_KEY ? false : new MongoServerError({ message: w.errmsg ?? 'write failed', code: w.code }));
      return documents.map((_, i) => failed.get(i) ?? true);
    }
  });

  // The marks of concurrent publishes (one per webhook on the ingest path) leave in one insertMany.
  const markBatch = createBatcher<string, true>(async (ids) => {
    try {
      await published.insertMany(
        ids.map((_id) => ({ _id })),
        { ordered: false },
      );
      return ids.map(() => true as const);
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      // Already recorded (a takeover that raced a slow publisher) is fine; anything else fails its id.
      const failed = new Map<number, Error>();
      const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      for (const w of writeErrors) if (w.code !== DUPLICATE_KEY) failed.set(w.index, new MongoServerError({ message: w.errmsg ?? 'write failed', code: w.code }));
      return ids.map((_, i) => failed.get(i) ?? (true as const));
    }
  });

  async function claimPublish(id: string, claim: ClaimOptions = {}): Promise<boolean> {
    await ready();
    // No such event, or nothing left to publish: no claim to leave behind.
    const event = await statusBatch(id);
    if (event?.status !== 'PROCESSED') return false;
    // Claimed in its insert: that is claim attempt 0, taken over like any other.
    const embedded: ClaimDocument | null = event.claimedAt ? { _id: id, event: id, attempt: 0, claimedAt: event.claimedAt } : null;
    if (embedded && claim.takeOverAfterMs === undefined) return false;
    // Without a takeover, a published event always has its first claim, so the insert below refuses it.
    if (claim.takeOverAfterMs !== undefined && (await publishedAmong([id])).size > 0) return false;
    let attempt = 0;
    if (claim.takeOverAfterMs !== undefined) {
      // Claim ids are `<id>` and `<id>:<n>`; ids have a fixed width, so the range holds only this event's.
      const held = [...(embedded ? [embedded] : []), ...(await claims.find({ _id: { $gte: id, $lt: `${id};` } }).toArray())];
      const latest = held.reduce<ClaimDocument | null>((a, c) => ((c.attempt ?? 0) >= (a?.attempt ?? -1) ? c : a), null);
      if (latest) {
        // A claim from before the outbox means the event was published.
        if (latest.event === undefined) return false;
        if (now() - latest.claimedAt.getTime() < claim.takeOverAfterMs) return false;
        attempt = (latest.attempt ?? 0) + 1;
      }
    }
    return claimBatch({ _id: attempt === 0 ? id : `${id}:${attempt}`, event: id, attempt, claimedAt: new Date(now()) });
  }

  function storeFilter(filter: EventFilter): Filter<EventDocument> {
    const query: Filter<EventDocument> = {};
    if (filter.provider != null) query.provider = filter.provider;
    if (filter.status != null) query.status = filter.status;
    if (filter.kind != null) query.kind = filter.kind;
    if (filter.conversationId != null) query['message.conversationId'] = filter.conversationId;
    if (filter.accounts != null) query.$or = accountClauses(filter.accounts);
    return query;
  }

  return {
    retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
    insertEvents,
    async insertEvent(event) {
      return (await insertEvents([event]))[0] as InsertResult;
    },
    claimPublish,

    async markPublished(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      await Promise.all(ids.map((id) => markBatch(id)));
    },

    async scanUnpublished(page: { limit: number; after: string | null; before: string }): Promise<UnpublishedScan> {
      if (page.limit <= 0) return { events: [], scannedTo: null };
      await ready();
      const _id = page.after === null ? { $lt: page.before } : { $gt: page.after, $lt: page.before };
      const scanned = await events.find({ status: 'PROCESSED', _id }).sort({ _id: 1 }).limit(page.limit).toArray();
      const done = await publishedAmong(scanned.map((d) => d._id));
      const events_ = await hydrate(scanned.filter((d) => !done.has(d._id)));
      return { events: events_, scannedTo: scanned.length === page.limit ? (scanned[scanned.length - 1] as EventDocument)._id : null };
    },

    async listEvents(filter: EventFilter, page: { limit: number; before: string | null }): Promise<StoredEvent[]> {
      // limit(0) would mean "no limit" to MongoDB.
      if (page.limit <= 0) return [];
      await ready();
      const query = storeFilter(filter);
      if (page.before !== null) query._id = { $lt: page.before };
      return hydrate(await events.find(query).sort({ _id: -1 }).limit(page.limit).toArray());
    },

    async listEventsAfter(filter: EventFilter, page: { limit: number; after: string }): Promise<StoredEvent[]> {
      if (page.limit <= 0) return [];
      await ready();
      const query = storeFilter(filter);
      query._id = { $gt: page.after };
      return hydrate(await events.find(query).sort({ _id: 1 }).limit(page.limit).toArray());
    },

    async getEvent(id: string): Promise<StoredEvent | null> {
      await ready();
      const document = await events.findOne({ _id: id });
      return document ? ((await hydrate([document]))[0] ?? null) : null;
    },

    async markProcessed(id: string, processed: ProcessedFields): Promise<StoredEvent | null> {
      await ready();
      // Conditional on the status, so a processed event is never rewritten; two
      // replays racing write the same fields, and the publish claim picks one publisher.
      await events.updateOne(
        { _id: id, status: 'UNPROCESSABLE' },
        {
          $set: {
            status: 'PROCESSED',
            reason: null,
            kind: processed.kind,
            message: processed.message,
            providerEventType: processed.providerEventType,
            ...(processed.account ? { account: processed.account } : {}),
          },
        },
      );
      const document = await events.findOne({ _id: id });
      return document ? ((await hydrate([document]))[0] ?? null) : null;
    },

    async deleteEventsBefore(before: string): Promise<number> {
      await ready();
      const { deletedCount } = await events.deleteMany({ _id: { $lt: before } });
      // A claim's id starts with its event's id, so the same bound applies.
      await claims.deleteMany({ _id: { $lt: before } });
      await published.deleteMany({ _id: { $lt: before } });
      // A delivery's events are stored within one request, well inside a minute of its createdId.
      await deliveries.deleteMany({ createdId: { $lt: idFloor(idTime(before) - 60_000) } });
      return deletedCount;
    },

    async saveWebhook(webhook: WebhookRecord): Promise<void> {
      const _id = webhookId(webhook.provider, webhook.id);
      // An upsert takes `_id` from the filter.
      // `savedAt` stays in the document (webhookRecord() drops it on the way out).
      await webhooks.replaceOne({ _id }, { ...webhookRecord(webhook), savedAt: new Date() }, { upsert: true });
    },

    async deleteWebhook(provider: ProviderName, id: string, options: { savedBefore?: Date } = {}): Promise<void> {
      const _id = webhookId(provider, id);
      // Mirrors saved before `savedAt` existed count as old.
      const old = options.savedBefore ? { $or: [{ savedAt: { $lt: options.savedBefore } }, { savedAt: { $exists: false } }] } : {};
      await webhooks.deleteOne({ _id, ...old });
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
      try {
        await ready();
        // Reachable is not enough: a store that cannot take a durable write cannot acknowledge webhooks.
        await probes.replaceOne({ _id: probeId }, { at: new Date() }, { upsert: true });
      } catch (error) {
        throw new Error(redact(error instanceof Error ? error.message : String(error)), { cause: error });
      }
    },

    async close(): Promise<void> {
      await probes.deleteOne({ _id: probeId }).catch(() => undefined);
      await client.close();
    },
  };
}

/** Events of any of the accounts: the environment's carry no `account` field. An empty list matches nothing. */
function accountClauses(refs: readonly AccountRef[]): Filter<EventDocument>[] {
  if (refs.length === 0) return [{ _id: { $exists: false } }];
  const byProvider = new Map<ProviderName, string[]>();
  for (const { provider, account } of refs) byProvider.set(provider, [...(byProvider.get(provider) ?? []), account]);
  return [...byProvider].flatMap(([provider, accounts]) => {
    const stored = accounts.filter((a) => a !== 'env');
    return [
      ...(accounts.includes('env') ? [{ provider, account: { $exists: false } }] : []),
      ...(stored.length > 0 ? [{ provider, account: { $in: stored } }] : []),
    ];
  });
}
