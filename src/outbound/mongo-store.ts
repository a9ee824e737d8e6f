// The outbound store on MongoDB (or FerretDB): the unique index on (scope,
// idempotencyKey) is what makes a send's intent a claim that exactly one
// request, on any instance, wins. Records expire after the key's TTL: through a
// TTL index where the server has them, and through the worker's sweep always
// (FerretDB lacks TTL indexes); reads ignore expired ones meanwhile.
import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import { openMongoDatabase } from '../infra/clients.js';
import { ensureIndexes } from '../events/store/mongo-indexes.js';
import { nextSeq } from './seq.js';
import type { ClaimResult, Observation, OutboundFilter, OutboundRecord, OutboundStore } from './types.js';

export interface MongoOutboundStoreOptions {
  /** The gateway's shared database (infra/shared.ts). */
  readonly db: Db;
  /** Closes what the store opened itself (openMongoOutboundStore); the shared client is closed by its owner. */
  readonly close?: () => Promise<void>;
}

/** A store on a client of its own (tests, tools). */
export function openMongoOutboundStore(url: string, dbName: string, now: () => number = Date.now): OutboundStore {
  const database = openMongoDatabase(url, dbName);
  return createMongoOutboundStore({ db: database.db, close: () => database.close() }, now);
}

/** `expireAt` is `expiresAt` as a date, for a TTL index (adapter-only). */
type RecordDoc = Omit<OutboundRecord, 'id'> & { _id: string; expireAt?: Date };
type ObservationDoc = Observation & { expiresAt: number };
/** The event published as a send's one messageSent (`_id` = the send's id). */
interface AnnouncementDoc {
  _id: string;
  eventId: string;
  expiresAt: number;
}
/** One attempt of a send, taken by whoever inserted it (`_id` = `<send id>:<dueAt>:<round>`) at `takenAt` (epoch ms). */
interface AttemptDoc {
  _id: string;
  takenAt: number;
  expiresAt: number;
}

const DUPLICATE_KEY = 11000;
/** How long a webhook about a not-yet-known message waits for its send's answer. */
const OBSERVATION_TTL_MS = 3_600_000; // 1 hour

const toRecord = ({ _id, expireAt: _expireAt, ...rest }: RecordDoc): OutboundRecord => ({ id: _id, ...rest });
const toDoc = ({ id, ...rest }: OutboundRecord): RecordDoc => ({ _id: id, ...rest, expireAt: new Date(rest.expiresAt) });

function filterOf(f: OutboundFilter): Filter<RecordDoc> {
  const q: Record<string, unknown> = {};
  if (f.provider) q.provider = f.provider;
  if (f.scopes) q.scope = { $in: [...f.scopes] };
  if (f.ids) q._id = { $in: [...f.ids] };
  if (f.conversationId) q.$or = [{ conversationId: f.conversationId }, { 'target.conversationId': f.conversationId }];
  return q as Filter<RecordDoc>;
}

/** A TTL index where the server supports them; where it refuses, the sweep alone expires records. */
async function ttlIndex(collection: Collection<RecordDoc>): Promise<boolean> {
  try {
    await collection.createIndex({ expireAt: 1 }, { name: 'expire', expireAfterSeconds: 0 });
    return true;
  } catch {
    return false;
  }
}

/** Creates the indexes on first use (one per call: FerretDB panics re-creating several at once); a failure is retried next time. */
function indexesOnce(records: Collection<RecordDoc>, observations: Collection<ObservationDoc>): () => Promise<void> {
  let ready: Promise<void> | null = null;
  return () => {
    ready ??= (async () => {
      await ensureIndexes(records, [
        { name: 'scope_key', key: { scope: 1, idempotencyKey: 1 }, unique: true },
        { name: 'message', key: { provider: 1, account: 1, messageId: 1 } },
        { name: 'due', key: { dueAt: 1 } },
        { name: 'seq', key: { seq: 1 } },
        { name: 'queued', key: { status: 1, scope: 1, 'target.conversationId': 1, createdAt: 1 } },
      ]);
      await ensureIndexes(observations, [{ name: 'message', key: { provider: 1, account: 1, messageId: 1 } }]);
      await ttlIndex(records);
    })().catch((err: unknown) => {
      ready = null;
      throw err;
    });
    return ready;
  };
}

/** The claim: a unique insert per (scope, key); a duplicate answers the record already there (an expired one frees its key). */
async function insertOrExisting(records: Collection<RecordDoc>, record: OutboundRecord, now: () => number, retried = false): Promise<ClaimResult> {
  const durable = { writeConcern: { w: 'majority' as const } };
  try {
    await records.insertOne(toDoc(record), durable);
    return { inserted: true, record };
  } catch (err) {
    if (!(err instanceof MongoServerError) || err.code !== DUPLICATE_KEY) throw err;
  }
  const existing = await records.findOne({ scope: record.scope, idempotencyKey: record.idempotencyKey });
  if (!existing && !retried) return insertOrExisting(records, record, now, true);
  if (existing && existing.expiresAt <= now() && !retried) {
    // An expired record the sweep has not reached yet frees its key (only one claimer deletes it).
    await records.deleteOne({ _id: existing._id, expiresAt: { $lte: now() } }, durable);
    return insertOrExisting(records, record, now, true);
  }
  if (!existing) throw new Error(`Expected the send of key ${record.idempotencyKey} to be stored or insertable, found neither twice`);
  return { inserted: false, record: toRecord(existing) };
}

export function createMongoOutboundStore(options: MongoOutboundStoreOptions, now: () => number = Date.now): OutboundStore {
  const { db } = options;
  const durable = { writeConcern: { w: 'majority' as const } };
  const records: Collection<RecordDoc> = db.collection('outbound_messages');
  const observations: Collection<ObservationDoc> = db.collection('outbound_observations');
  const announcements: Collection<AnnouncementDoc> = db.collection('outbound_announcements');
  const attempts: Collection<AttemptDoc> = db.collection('outbound_attempts');
  const init = indexesOnce(records, observations);
  const live = (): Filter<RecordDoc> => ({ expiresAt: { $gt: now() } });

  return {
    async claim(record) {
      await init();
      return insertOrExisting(records, record, now);
    },
    async get(id) {
      await init();
      const doc = await records.findOne({ _id: id, ...live() });
      return doc && toRecord(doc);
    },
    async getMany(ids) {
      await init();
      return (await records.find({ _id: { $in: [...ids] }, ...live() }).toArray()).map(toRecord);
    },
    async findByKey(scope, idempotencyKey) {
      await init();
      const doc = await records.findOne({ scope, idempotencyKey, ...live() });
      return doc && toRecord(doc);
    },
    async findByMessage(provider, account, messageId) {
      await init();
      const doc = await records.findOne({ provider, account, messageId, ...live() });
      return doc && toRecord(doc);
    },
    async findByMessages(provider, account, messageIds) {
      await init();
      return (await records.find({ provider, account, messageId: { $in: [...messageIds] }, ...live() }).toArray()).map(toRecord);
    },
    async update(id, from, patch, guard) {
      await init();
      const q: Record<string, unknown> = { _id: id, status: { $in: [...from] } };
      if (guard) q.dueAt = guard.dueAt;
      const set = { ...patch, seq: nextSeq(now()), updatedAt: new Date(now()).toISOString() };
      const doc = await records.findOneAndUpdate(q as Filter<RecordDoc>, { $set: set }, { returnDocument: 'after', ...durable });
      return doc && toRecord(doc);
    },
    async takeAttempt(record, leaseMs) {
      // Rounds are taken in order, each by one unique insert; the next round opens only once the current one is held a lease long.
      for (let round = 0; ; round++) {
        const _id = `${record.id}:${record.dueAt}:${round}`;
        try {
          await attempts.insertOne({ _id, takenAt: now(), expiresAt: record.expiresAt }, durable);
          return true;
        } catch (err) {
          if (!(err instanceof MongoServerError) || err.code !== DUPLICATE_KEY) throw err;
        }
        const held = await attempts.findOne({ _id });
        if (!held || !(held.takenAt <= now() - leaseMs)) return false;
      }
    },
    async due(at, limit) {
      await init();
      const docs = await records.find({ status: { $in: ['QUEUED', 'SENDING'] }, dueAt: { $lte: at }, ...live() }).sort({ createdAt: 1 }).limit(limit).toArray();
      return docs.map(toRecord);
    },
    async changedAfter(seq, filter, limit) {
      await init();
      const docs = await records.find({ ...filterOf(filter), seq: { $gt: seq }, ...live() }).sort({ seq: 1 }).limit(limit).toArray();
      return docs.map(toRecord);
    },
    async queuedBefore(record) {
      await init();
      // Whether any is, not how many: one indexed lookup instead of a count.
      const earlier = await records.findOne(
        { status: 'QUEUED', scope: record.scope, 'target.conversationId': record.target.conversationId, createdAt: { $lt: record.createdAt } },
        { projection: { _id: 1 } },
      );
      return earlier ? 1 : 0;
    },
    async announce(record, eventId) {
      // An insert, not a conditional update: FerretDB evaluates an update's filter and writes in separate steps, so racing updates would all win.
      try {
        await announcements.insertOne({ _id: record.id, eventId, expiresAt: record.expiresAt }, durable);
        return eventId;
      } catch (err) {
        if (!(err instanceof MongoServerError) || err.code !== DUPLICATE_KEY) throw err;
      }
      const existing = await announcements.findOne({ _id: record.id });
      if (!existing) throw new Error(`Expected the announcement of send ${record.id} to be stored after a duplicate key, found none`);
      return existing.eventId;
    },
    ...observationsAndUpkeep({ records, observations, announcements, attempts }, init, now),
    async close() {
      await options.close?.();
    },
  };
}

interface SideTables {
  readonly records: Collection<RecordDoc>;
  readonly observations: Collection<ObservationDoc>;
  readonly announcements: Collection<AnnouncementDoc>;
  readonly attempts: Collection<AttemptDoc>;
}

/** The store's side tables and upkeep: early webhook observations, queue figures for metrics, the expiry sweep (announcements and attempts included). */
function observationsAndUpkeep(
  { records, observations, announcements, attempts }: SideTables,
  init: () => Promise<void>,
  now: () => number,
): Pick<OutboundStore, 'observe' | 'observations' | 'queueStats' | 'sweep'> {
  const durable = { writeConcern: { w: 'majority' as const } };
  const live = (): Filter<RecordDoc> => ({ expiresAt: { $gt: now() } });
  return {
    async observe(observation) {
      await init();
      await observations.insertOne({ ...observation, expiresAt: now() + OBSERVATION_TTL_MS }, durable);
    },
    async observations(provider, account, messageId) {
      await init();
      const docs = await observations.find({ provider, account, messageId }).toArray();
      return docs.map(({ provider: p, account: a, messageId: m, status, failureReason, at, eventId }) => ({ provider: p, account: a, messageId: m, status, failureReason, at, ...(eventId ? { eventId } : {}) }));
    },
    async queueStats() {
      await init();
      const depth = await records.countDocuments({ status: 'QUEUED', ...live() });
      const oldest = depth > 0 ? await records.find({ status: 'QUEUED', ...live() }).sort({ createdAt: 1 }).limit(1).next() : null;
      return { depth, oldest: oldest ? Date.parse(oldest.createdAt) : null };
    },
    async sweep(at) {
      await init();
      const expired = { expiresAt: { $lte: at } };
      const [a] = await Promise.all([records.deleteMany(expired), observations.deleteMany(expired), announcements.deleteMany(expired), attempts.deleteMany(expired)]);
      return a.deletedCount;
    },
  };
}
