// The outbound store on MongoDB (or FerretDB). Every hot path is a lookup by
// `_id`, the one filter FerretDB's SQLite backend pushes down (any other query
// reads and parses every send of the last 24 hours): a send's id is derived
// from its key (keys.ts), unsettled sends are indexed in `outbound_active`
// (mongo-active.ts), provider messages are linked to their sends in
// `outbound_links` (mongo-links.ts). The unique index on (scope,
// idempotencyKey) stays as the claim's safety net. Records expire after the
// key's TTL: through TTL indexes where the server has them, and through the
// worker's sweep always (FerretDB lacks TTL indexes); reads ignore expired ones
// meanwhile.
import { MongoServerError, type Collection, type Db, type Document, type Filter } from 'mongodb';
import { openMongoDatabase } from '../infra/clients.js';
import { ensureIndexes } from '../events/store/mongo-indexes.js';
import { sendIdOf } from './keys.js';
import { createActiveIndex, isPending, type ActiveDoc, type ActiveIndex } from './mongo-active.js';
import { createMessageLookups, type LinkDoc, type MessageLookups, type ObservationDoc } from './mongo-links.js';
import { nextSeq } from './seq.js';
import { PENDING } from './state.js';
import type { ClaimResult, OutboundFilter, OutboundPatch, OutboundRecord, OutboundStore } from './types.js';
import { retryTransient } from '../infra/transient.js';

export interface MongoOutboundStoreOptions {
  /** The gateway's shared database (infra/shared.ts). */
  readonly db: Db;
  /** Closes what the store opened itself (openMongoOutboundStore); the shared client is closed by its owner. */
  readonly close?: () => Promise<void>;
  /**
   * A side write that failed after its record was written (the active index, a
   * claim's check): the send is only delayed (the worker's checks and the
   * sweep repair it), so the caller is not failed for it. @default ignored
   */
  readonly onSideWriteError?: (err: unknown) => void;
}

/** A store on a client of its own (tests, tools). */
export function openMongoOutboundStore(url: string, dbName: string, now: () => number = Date.now): OutboundStore {
  const database = openMongoDatabase(url, dbName);
  return createMongoOutboundStore({ db: database.db, close: () => database.close() }, now);
}

/** `expireAt` is `expiresAt` as a date, for a TTL index (adapter-only). */
type RecordDoc = Omit<OutboundRecord, 'id'> & { _id: string; expireAt?: Date };
/**
 * The event published as a send's one messageSent (`_id` = `<send id>:<createdAt>`: a key claimed
 * again after its send expired gets the same id, and must not inherit the old send's announcement).
 */
interface AnnouncementDoc {
  _id: string;
  eventId: string;
  expiresAt: number;
  expireAt?: Date;
}
/** One attempt of a send, taken by whoever inserted it (`_id` = `<send id>:<dueAt>:<round>`) at `takenAt` (epoch ms). */
interface AttemptDoc {
  _id: string;
  takenAt: number;
  expiresAt: number;
  expireAt?: Date;
}

interface Collections {
  readonly records: Collection<RecordDoc>;
  readonly active: Collection<ActiveDoc>;
  readonly links: Collection<LinkDoc>;
  readonly observations: Collection<ObservationDoc>;
  readonly announcements: Collection<AnnouncementDoc>;
  readonly attempts: Collection<AttemptDoc>;
}

/** The records first, then every side collection (all expire by `expiresAt`). */
const sideAndRecords = (c: Collections): Collection<Document>[] =>
  [c.records, c.active, c.links, c.observations, c.announcements, c.attempts] as unknown as Collection<Document>[];

const DUPLICATE_KEY = 11000;
const durable = { writeConcern: { w: 'majority' as const } };

const toRecord = ({ _id, expireAt: _expireAt, ...rest }: RecordDoc): OutboundRecord => ({ id: _id, ...rest });
const toDoc = ({ id, ...rest }: OutboundRecord): RecordDoc => ({ _id: id, ...rest, expireAt: new Date(rest.expiresAt) });
const isDuplicate = (err: unknown): boolean => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

function filterOf(f: OutboundFilter): Filter<RecordDoc> {
  const q: Record<string, unknown> = {};
  if (f.provider) q.provider = f.provider;
  if (f.scopes) q.scope = { $in: [...f.scopes] };
  if (f.ids) q._id = { $in: [...f.ids] };
  if (f.conversationId) q.$or = [{ conversationId: f.conversationId }, { 'target.conversationId': f.conversationId }];
  return q as Filter<RecordDoc>;
}

/** A TTL index on `expireAt` where the server supports them; where it refuses (FerretDB), the sweep alone expires documents. */
async function ttlIndex<T extends Document>(collection: Collection<T>): Promise<void> {
  await collection.createIndex({ expireAt: 1 }, { name: 'expire', expireAfterSeconds: 0 }).catch(() => undefined);
}

/**
 * Creates the indexes on first use (one per call: FerretDB panics re-creating
 * several at once); a failure is retried next time. Answers whether the server
 * applies a filtered update atomically: FerretDB evaluates the filter and the
 * write in separate steps (and scans for any filter but `_id`).
 */
function initOnce(db: Db, c: Collections): () => Promise<boolean> {
  let ready: Promise<boolean> | null = null;
  return () => {
    ready ??= (async () => {
      await ensureIndexes(c.records, [
        { name: 'scope_key', key: { scope: 1, idempotencyKey: 1 }, unique: true },
        { name: 'seq', key: { seq: 1 } },
      ]);
      for (const collection of sideAndRecords(c)) await ttlIndex(collection);
      const info = await db.command({ buildInfo: 1 });
      return !('ferretdbVersion' in info);
    })().catch((err: unknown) => {
      ready = null;
      throw err;
    });
    return ready;
  };
}

/** How long a claimer or sweep that took an expired record's end may take to delete it before another may (its marker's life). */
const END_LEASE_MS = 60_000;
/** How long a claim waits for whoever took an expired record's end to delete it. */
const END_WAIT_MS = 2_000;

/**
 * Who may end an expired record (delete it, to free its key or in the sweep):
 * one unique insert per record version (`<id>:end:<createdAt>`). A guarded
 * delete cannot decide it on FerretDB (filter and delete are separate steps):
 * a new claim of the key reuses the id, and a late delete would remove it.
 */
async function takeEnd(attempts: Collection<AttemptDoc>, doc: Pick<RecordDoc, '_id' | 'createdAt'>, now: () => number): Promise<boolean> {
  try {
    const expiresAt = now() + END_LEASE_MS;
    await attempts.insertOne({ _id: `${doc._id}:end:${doc.createdAt}`, takenAt: now(), expiresAt, expireAt: new Date(expiresAt) }, durable);
    return true;
  } catch (err) {
    if (!isDuplicate(err)) throw err;
    return false;
  }
}

/** The claim: a unique insert; a duplicate answers the record already there (an expired one frees its key, to exactly one claimer). */
async function insertOrExisting(c: Pick<Collections, 'records' | 'attempts'>, record: OutboundRecord, now: () => number): Promise<ClaimResult> {
  const { scope, idempotencyKey } = record;
  for (const deadline = Date.now() + END_WAIT_MS; ; ) {
    try {
      await retryTransient(() => c.records.insertOne(toDoc(record), durable));
      return { inserted: true, record };
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
    const byId = await c.records.findOne({ _id: record.id });
    // By `_id` (derived from the key); by the key itself only for a record stored before ids were derived.
    const existing = byId && byId.scope === scope && byId.idempotencyKey === idempotencyKey ? byId : await c.records.findOne({ scope, idempotencyKey });
    if (existing && existing.expiresAt > now()) return { inserted: false, record: toRecord(existing) };
    // Expired, not swept yet: whoever takes its end deletes it; the others wait for that, then race to insert.
    if (existing && (await takeEnd(c.attempts, existing, now))) {
      await c.records.deleteOne({ _id: existing._id }, durable);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Expected the send of key ${idempotencyKey} to be insertable or stored unexpired within ${END_WAIT_MS} ms, found neither`);
    if (existing) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function createMongoOutboundStore(options: MongoOutboundStoreOptions, now: () => number = Date.now): OutboundStore {
  const { db } = options;
  const c: Collections = {
    records: db.collection('outbound_messages'),
    active: db.collection('outbound_active'),
    links: db.collection('outbound_links'),
    observations: db.collection('outbound_observations'),
    announcements: db.collection('outbound_announcements'),
    attempts: db.collection('outbound_attempts'),
  };
  const { records } = c;
  const init = initOnce(db, c);
  const sideWriteFailed = options.onSideWriteError ?? (() => undefined);
  /** The record by `_id` alone, expired ones ignored (`{_id, expiresAt}` would be a scan on FerretDB). */
  const record = async (id: string): Promise<OutboundRecord | null> => {
    const doc = await records.findOne({ _id: id });
    return doc && doc.expiresAt > now() ? toRecord(doc) : null;
  };
  const unsettled = async (at: number): Promise<OutboundRecord[]> =>
    (await records.find({ status: { $in: [...PENDING] }, expiresAt: { $gt: at } }).toArray()).map(toRecord);
  const active = createActiveIndex({ active: c.active, record, unsettled });
  const messages = createMessageLookups({ links: c.links, observations: c.observations, record, now });
  const deps: StoreDeps = { c, init, now, active, messages };

  return {
    async claim(candidate) {
      await init();
      // The entry before the record: a crash in between leaves an entry without a record (due() drops it), never an unsettled record the worker cannot find.
      await active.put(candidate);
      const result = await insertOrExisting(c, candidate, now);
      // Inserted: a due() may have dropped the entry before the record existed, so look again. Not inserted: the entry follows the record there.
      const settle = result.inserted ? active.ensure(candidate) : active.drop(candidate.id);
      await settle.catch(sideWriteFailed);
      return result;
    },
    async get(id) {
      await init();
      return record(id);
    },
    async getMany(ids) {
      await init();
      // One `_id` lookup each: `_id: {$in: …}` is a scan on FerretDB.
      return (await Promise.all([...new Set(ids)].map(record))).filter((r): r is OutboundRecord => r !== null);
    },
    async findByKey(scope, idempotencyKey) {
      await init();
      const r = await record(sendIdOf(scope, idempotencyKey));
      return r && r.scope === scope && r.idempotencyKey === idempotencyKey ? r : null;
    },
    async findByMessage(provider, account, messageId) {
      await init();
      return messages.find(provider, account, messageId);
    },
    async findByMessages(provider, account, messageIds) {
      await init();
      return messages.findMany(provider, account, messageIds);
    },
    async update(id, from, patch, guard) {
      const atomic = await init();
      const current = await record(id);
      if (!current || !from.includes(current.status) || (guard && current.dueAt !== guard.dueAt)) return null;
      // The link before the record names the message: a webhook that finds the record named finds its link (mongo-links.ts).
      if (patch.messageId) await messages.link(current, patch.messageId);
      const set = { ...patch, seq: nextSeq(now()), updatedAt: new Date(now()).toISOString() };
      // MongoDB checks the guard again with the write, atomically. FerretDB would evaluate the filter and write in separate
      // steps anyway, scanning every record for it: there the check above is the guard, and the write goes by `_id`.
      const q: Filter<RecordDoc> = atomic ? { _id: id, status: { $in: [...from] }, ...(guard ? { dueAt: guard.dueAt } : {}) } : { _id: id };
      const doc = await retryTransient(() => records.findOneAndUpdate(q, { $set: set }, { returnDocument: 'after', ...durable }));
      if (!doc) return null;
      const after = toRecord(doc);
      const kept = keepActive(active, current, after, patch).catch(sideWriteFailed);
      // A settled send's entry is dropped behind the answer: left over, it only costs `due` one look at a settled record.
      if (isPending(after.status)) await kept;
      return after;
    },
    async changedAfter(seq, filter, limit) {
      await init();
      // A scan on FerretDB (seq and the filter are not `_id`): only subscriptions resuming come here, never the send path.
      const docs = await records.find({ ...filterOf(filter), seq: { $gt: seq }, expiresAt: { $gt: now() } }).sort({ seq: 1 }).limit(limit).toArray();
      return docs.map(toRecord);
    },
    ...sendsAndUpkeep(deps),
    async close() {
      await options.close?.();
    },
  };
}

/** Keeps the record's active entry in step after a change: refreshed while it is unsettled, dropped once it settles. */
async function keepActive(active: ActiveIndex, before: OutboundRecord, after: OutboundRecord, patch: OutboundPatch): Promise<void> {
  if (isPending(after.status)) {
    if (patch.status !== undefined || patch.dueAt !== undefined || patch.target !== undefined) await active.put(after);
  } else if (isPending(before.status)) {
    await active.drop(after.id);
  }
}

interface StoreDeps {
  readonly c: Collections;
  readonly init: () => Promise<boolean>;
  readonly now: () => number;
  readonly active: ActiveIndex;
  readonly messages: MessageLookups;
}

/** What the worker and the webhooks call: attempts, the due sends and the queue, announcements, early observations, the expiry sweep. */
function sendsAndUpkeep({ c, init, now, active, messages }: StoreDeps): Pick<
  OutboundStore,
  'takeAttempt' | 'due' | 'queuedBefore' | 'announce' | 'observe' | 'observations' | 'queueStats' | 'sweep'
> {
  return {
    async takeAttempt(r, leaseMs) {
      // Rounds are taken in order, each by one unique insert; the next round opens only once the current one is held a lease long.
      for (let round = 0; ; round++) {
        const _id = `${r.id}:${r.dueAt}:${round}`;
        try {
          await retryTransient(() => c.attempts.insertOne({ _id, takenAt: now(), expiresAt: r.expiresAt, expireAt: new Date(r.expiresAt) }, durable));
          return true;
        } catch (err) {
          if (!isDuplicate(err)) throw err;
        }
        const held = await c.attempts.findOne({ _id });
        if (!held || !(held.takenAt <= now() - leaseMs)) return false;
      }
    },
    async due(at, limit) {
      await init();
      return active.due(at, limit);
    },
    async queuedBefore(r) {
      await init();
      return active.queuedBefore(r);
    },
    async announce(r, eventId) {
      // An insert, not a conditional update: FerretDB evaluates an update's filter and writes in separate steps, so racing updates would all win.
      const _id = `${r.id}:${r.createdAt}`;
      try {
        await retryTransient(() => c.announcements.insertOne({ _id, eventId, expiresAt: r.expiresAt, expireAt: new Date(r.expiresAt) }, durable));
        return eventId;
      } catch (err) {
        if (!isDuplicate(err)) throw err;
      }
      const existing = await c.announcements.findOne({ _id });
      if (!existing) throw new Error(`Expected the announcement of send ${r.id} to be stored after a duplicate key, found none`);
      return existing.eventId;
    },
    async observe(observation) {
      await init();
      await messages.observe(observation);
    },
    async observations(provider, account, messageId) {
      await init();
      return messages.observations(provider, account, messageId);
    },
    async queueStats() {
      await init();
      return active.queueStats();
    },
    async sweep(at) {
      await init();
      const expired = { expiresAt: { $lte: at } };
      // Records one by one, each by whoever takes its end (a claim may be replacing it under the same id); the rest at once.
      const ends = await c.records.find(expired, { projection: { _id: 1, createdAt: 1 } }).toArray();
      let swept = 0;
      for (const doc of ends) {
        if (await takeEnd(c.attempts, doc, now)) swept += (await c.records.deleteOne({ _id: doc._id }, durable)).deletedCount;
      }
      await Promise.all(sideAndRecords(c).slice(1).map((collection) => collection.deleteMany(expired)));
      // The backstop for a side write lost after its record's: every unsettled record is in the index again within a sweep.
      await active.reconcile(at);
      return swept;
    },
  };
}
