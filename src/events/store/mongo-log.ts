// The event log in MongoDB. Events live in `events` (`_id` = the time-ordered
// event id, unique on provider+eventKey so a redelivered webhook is stored
// once, even when deliveries race), raw bodies of multi-event deliveries in
// `deliveries`. Whether an event was published is read from the publish claims.
import type { Collection, Db, Filter } from 'mongodb';
import type { AccountRef } from '../../accounts/store/types.js';
import type { ProviderName } from '../../model.js';
import { idFloor, idTime } from '../cursor.js';
import { newEventId } from '../event-id.js';
import type { EventFilter, EventLog, InsertOptions, InsertResult, NewEvent, ProcessedFields, StoredEvent, UnpublishedScan } from '../types.js';
import type { MongoPublishClaims } from './mongo-claims.js';
import { createBatcher } from './batch.js';
import { bodyHash, EVENT_COLLECTIONS, fromDocument, toDocument, type DeliveryDocument, type EventDocument } from './mongo-documents.js';
import { ensureIndexes } from './mongo-indexes.js';
import type { PublishProgress } from './mongo-progress.js';
import { insertEach, isDuplicateKey } from './mongo-writes.js';

export interface MongoEventLog extends EventLog {
  /** Creates the indexes if need be; rejects while it cannot (the next call tries again). */
  ready(): Promise<void>;
}

export interface MongoLogOptions {
  readonly retentionMs: number;
  /** The clock an insert's own claim is timed by. */
  readonly now: () => number;
  /** Where the `published` field comes from. */
  readonly claims: Pick<MongoPublishClaims, 'publishedOf'>;
  /** Holds what an insert claims until its publish is recorded, bounds the ids inserted, and tells a scan when there is nothing to find. */
  readonly progress: Pick<PublishProgress, 'holder' | 'hold' | 'drop' | 'cover' | 'track' | 'mayHaveUnpublished'>;
}

// A clash on `_id` (two processes drawing the same random suffix in the same
// millisecond) is not a duplicate delivery; a fresh id resolves it.
const MAX_ID_ATTEMPTS = 3;

export function createMongoEventLog(db: Db, options: MongoLogOptions): MongoEventLog {
  // A webhook is acknowledged only once its event is durable.
  const durable = { writeConcern: { w: 'majority' as const } };
  const events = db.collection<EventDocument>(EVENT_COLLECTIONS.events, durable);
  const deliveries = db.collection<DeliveryDocument>(EVENT_COLLECTIONS.deliveries, durable);
  const ready = readiness(events, deliveries);
  const hydrate = hydrator(deliveries, options.claims);
  const insert = inserter(events, deliveries, hydrate, options);

  async function scanUnpublished(page: { limit: number; after: string | null; before: string }): Promise<UnpublishedScan> {
    if (page.limit <= 0) return { events: [], scannedTo: null };
    await ready();
    // The common case, read from the progress documents: no filter but `_id` equality is served by an index on FerretDB, so the scan below reads all of `events`.
    if (!(await options.progress.mayHaveUnpublished(page.after, page.before))) return { events: [], scannedTo: null };
    const _id = page.after === null ? { $lt: page.before } : { $gt: page.after, $lt: page.before };
    const scanned = await events.find({ status: 'PROCESSED', _id }).sort({ _id: 1 }).limit(page.limit).toArray();
    const done = await options.claims.publishedOf(scanned);
    const unpublished = await hydrate(scanned.filter((d) => !done.has(d._id)));
    return { events: unpublished, scannedTo: scanned.length === page.limit ? (scanned[scanned.length - 1] as EventDocument)._id : null };
  }

  async function list(filter: EventFilter, page: { limit: number }, bound: Filter<EventDocument>['_id'], order: 1 | -1): Promise<StoredEvent[]> {
    // limit(0) would mean "no limit" to MongoDB.
    if (page.limit <= 0) return [];
    await ready();
    const query = storeFilter(filter);
    if (bound !== undefined) query._id = bound;
    return hydrate(await events.find(query).sort({ _id: order }).limit(page.limit).toArray());
  }

  async function getEvent(id: string): Promise<StoredEvent | null> {
    await ready();
    const document = await events.findOne({ _id: id });
    return document ? ((await hydrate([document]))[0] ?? null) : null;
  }

  async function insertEvents(batch: readonly NewEvent[], insertOptions?: InsertOptions): Promise<InsertResult[]> {
    await ready();
    return insert(batch, insertOptions);
  }

  return {
    retentionMs: options.retentionMs,
    ready,
    insertEvents,
    async insertEvent(event) {
      return (await insertEvents([event]))[0] as InsertResult;
    },
    scanUnpublished,
    listEvents: (filter, page) => list(filter, page, page.before === null ? undefined : { $lt: page.before }, -1),
    listEventsAfter: (filter, page) => list(filter, page, { $gt: page.after }, 1),
    getEvent,
    async markProcessed(id: string, processed: ProcessedFields): Promise<StoredEvent | null> {
      await ready();
      // Conditional on the status, so a processed event is never rewritten; two
      // re-normalizations racing write the same fields, and the publish claim picks one publisher.
      const fields = { status: 'PROCESSED' as const, reason: null, kind: processed.kind, message: processed.message, providerEventType: processed.providerEventType };
      // Tracked before the write: processed and not claimed, it is unpublished until its publish is marked (a racing
      // re-normalization that lost tracks it too; it is listed open a while, which costs a few scans, nothing else).
      options.progress.track(id);
      await events.updateOne({ _id: id, status: 'UNPROCESSABLE' }, { $set: { ...fields, ...(processed.account ? { account: processed.account } : {}) } });
      return getEvent(id);
    },
    async markUnannounced(ids: readonly string[]): Promise<void> {
      await ready();
      // One write per id by `_id` (FerretDB pushes `$in` down to no index): only a send's repeated messageSent comes here.
      await Promise.all(ids.map((_id) => events.updateOne({ _id }, { $set: { unannounced: true } })));
    },
    async deleteEventsBefore(before: string): Promise<number> {
      await ready();
      const { deletedCount } = await events.deleteMany({ _id: { $lt: before } });
      // A delivery's events are stored within one request, well inside a minute of its createdId.
      await deliveries.deleteMany({ createdId: { $lt: idFloor(idTime(before) - 60_000) } });
      return deletedCount;
    },
  };
}

/** Indexes are made on first use rather than at start-up (MongoDB may be down then); a failed attempt is forgotten so the next operation tries again. */
function readiness(events: Collection<EventDocument>, deliveries: Collection<DeliveryDocument>): () => Promise<void> {
  let indexes: Promise<void> | null = null;
  return () => {
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
}

type Hydrate = (documents: readonly EventDocument[]) => Promise<StoredEvent[]>;

/** The documents as StoredEvents: bodies joined from `deliveries`, `published` from the claims. */
function hydrator(deliveries: Collection<DeliveryDocument>, claims: Pick<MongoPublishClaims, 'publishedOf'>): Hydrate {
  return async (documents) => {
    if (documents.length === 0) return [];
    const deliveryIds = [...new Set(documents.flatMap((d) => (d.deliveryId ? [d.deliveryId] : [])))];
    const [bodies, done] = await Promise.all([deliveryIds.length ? deliveries.find({ _id: { $in: deliveryIds } }).toArray() : [], claims.publishedOf(documents)]);
    const bodyOf = new Map(bodies.map((b) => [b._id, b.rawBody]));
    return documents.map((d) => fromDocument(d, d.rawBody ?? bodyOf.get(d.deliveryId ?? '') ?? '', done.has(d._id)));
  };
}

/** Group-committed inserts: concurrent deliveries' events leave in one insertMany. */
function inserter(events: Collection<EventDocument>, deliveries: Collection<DeliveryDocument>, hydrate: Hydrate, options: Pick<MongoLogOptions, 'now' | 'progress'>) {
  const { now, progress } = options;
  const insertBatch = createBatcher<EventDocument, true>((documents) => insertEach(events, documents, true as const));

  async function insertOneEvent(event: NewEvent, deliveryId: string | null, claim: boolean): Promise<InsertResult> {
    for (let attempt = 1; ; attempt += 1) {
      // Before the id is made: the progress document must bound it, or the outbox could skip it after a crash.
      await progress.cover();
      const document = toDocument(event, newEventId(), deliveryId);
      const claimed = claim && event.status === 'PROCESSED';
      if (claimed) {
        document.claimedAt = new Date(now());
        document.claimedBy = progress.holder;
        progress.hold(document._id);
      } else if (event.status === 'PROCESSED') progress.track(document._id);
      try {
        await insertBatch(document);
        return { inserted: true, event: fromDocument(document, event.rawBody, false) };
      } catch (error) {
        // Any other failure may still have stored it: it stays held, and is listed open once its hold runs out.
        if (!isDuplicateKey(error)) throw error;
        progress.drop(document._id);
        // The unique index only reports a clash once the other write is
        // committed, so the original is readable now.
        const existing = await events.findOne({ provider: event.provider, eventKey: event.eventKey });
        if (existing) return { inserted: false, event: (await hydrate([existing]))[0] as StoredEvent };
        if (attempt >= MAX_ID_ATTEMPTS) throw error;
      }
    }
  }

  return async (batch: readonly NewEvent[], insert: InsertOptions = {}): Promise<InsertResult[]> => {
    // Bodies shared by several events are stored once, before the events that point at them.
    const counts = new Map<string, number>();
    for (const e of batch) counts.set(e.rawBody, (counts.get(e.rawBody) ?? 0) + 1);
    const shared = new Map<string, string>();
    for (const [rawBody, count] of counts) {
      if (count < 2) continue;
      const _id = bodyHash(rawBody);
      await deliveries.insertOne({ _id, rawBody, createdId: newEventId() }).catch((error: unknown) => {
        // Same hash, same body: it is already stored.
        if (!isDuplicateKey(error)) throw error;
      });
      shared.set(rawBody, _id);
    }
    return Promise.all(batch.map((e) => insertOneEvent(e, shared.get(e.rawBody) ?? null, insert.claimForPublish === true)));
  };
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
