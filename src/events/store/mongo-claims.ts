// Publish claims in MongoDB. The right to publish an event is a document in
// `publish_claims`: a unique-key insert is atomic on MongoDB and on every
// wire-compatible server, while FerretDB (our test server) evaluates an
// update's filter and writes in separate steps, so concurrent conditional
// updates all report a modification there. Once the pubsub has the event, a
// `published_events` document records it (an insert again: updates on
// FerretDB's SQLite backend lock out the inserts the ingest waits on). A claim
// whose holder died can be taken over by exactly one caller, by inserting the
// next attempt's claim. An insert with `claimForPublish` stores claim attempt 0
// on the event document itself (`claimedAt`, `claimedBy`), which is read from
// `events` here; its publish is recorded by its holder's progress
// (mongo-progress.ts), not by a document per event.
import type { Db } from 'mongodb';
import type { ClaimOptions, PublishClaims } from '../types.js';
import { createBatcher } from './batch.js';
import { EVENT_COLLECTIONS, type ClaimDocument, type EventDocument, type PublishedDocument } from './mongo-documents.js';
import type { PublishProgress } from './mongo-progress.js';
import { DUPLICATE_KEY, insertEach } from './mongo-writes.js';

export interface MongoClaimsOptions {
  /** The clock claims are timed by. */
  readonly now: () => number;
  /** This store's publish progress: what it claimed in inserts is marked there. */
  readonly progress: PublishProgress;
}

type Claimable = Pick<EventDocument, '_id' | 'claimedBy'>;

/** The claims, and `published` for documents already read (the log's hydration and scans). */
export interface MongoPublishClaims extends PublishClaims {
  publishedOf(documents: readonly Claimable[]): Promise<Set<string>>;
}

export function createMongoPublishClaims(db: Db, options: MongoClaimsOptions): MongoPublishClaims {
  const durable = { writeConcern: { w: 'majority' as const } };
  const events = db.collection<EventDocument>(EVENT_COLLECTIONS.events, durable);
  const claims = db.collection<ClaimDocument>(EVENT_COLLECTIONS.claims, durable);
  const published = db.collection<PublishedDocument>(EVENT_COLLECTIONS.published, durable);
  const { now, progress } = options;

  // Claims of concurrent publishers go to the server together: one find and one insertMany
  // per batch instead of a findOne and an insertOne per event (both compete with the ingest's inserts).
  const statusBatch = createBatcher<string, Pick<EventDocument, '_id' | 'status' | 'claimedAt' | 'claimedBy'> | null>(async (ids) => {
    const found = await events.find({ _id: { $in: [...ids] } }, { projection: { _id: 1, status: 1, claimedAt: 1, claimedBy: 1 } }).toArray();
    const byId = new Map(found.map((d) => [d._id, d]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  const claimBatch = createBatcher<ClaimDocument, boolean>((documents) => insertEach(claims, documents, true, (code, error) => (code === DUPLICATE_KEY ? false : error)));
  // The marks of concurrent publishes (one per webhook on the ingest path) leave in one insertMany.
  // Already recorded (a takeover that raced a slow publisher) is fine; anything else fails its id.
  const markBatch = createBatcher<string, true>((ids) =>
    insertEach(
      published,
      ids.map((_id) => ({ _id })),
      true as const,
      (code, error) => (code === DUPLICATE_KEY ? (true as const) : error),
    ),
  );

  /** Which of the events were published: by their holder's progress, a `published_events` document, or a claim from before the outbox. */
  async function publishedOf(documents: readonly Claimable[]): Promise<Set<string>> {
    if (documents.length === 0) return new Set();
    const ids = documents.map((d) => d._id);
    const [byHolder, marks, legacy] = await Promise.all([
      progress.publishedOf(documents),
      published.find({ _id: { $in: ids } }).toArray(),
      claims.find({ _id: { $in: ids }, event: { $exists: false } }, { projection: { _id: 1 } }).toArray(),
    ]);
    return new Set([...byHolder, ...marks.map((m) => m._id), ...legacy.map((c) => c._id)]);
  }

  async function publishedAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const documents = await events.find({ _id: { $in: [...ids] } }, { projection: { _id: 1, claimedBy: 1 } }).toArray();
    // Ids without an event (retention took it) keep their marks.
    const known = new Set(documents.map((d) => d._id));
    return publishedOf([...documents, ...ids.filter((id) => !known.has(id)).map((_id) => ({ _id }))]);
  }

  /** The attempt number a takeover would claim, or null when the latest claim still holds (or the event was published). */
  async function nextAttempt(id: string, embedded: ClaimDocument | null, takeOverAfterMs: number): Promise<number | null> {
    // Claim ids are `<id>` and `<id>:<n>`; ids have a fixed width, so the range holds only this event's.
    const held = [...(embedded ? [embedded] : []), ...(await claims.find({ _id: { $gte: id, $lt: `${id};` } }).toArray())];
    const latest = held.reduce<ClaimDocument | null>((a, c) => ((c.attempt ?? 0) >= (a?.attempt ?? -1) ? c : a), null);
    if (!latest) return 0;
    // A claim from before the outbox means the event was published.
    if (latest.event === undefined) return null;
    if (now() - latest.claimedAt.getTime() < takeOverAfterMs) return null;
    return (latest.attempt ?? 0) + 1;
  }

  async function claimPublish(id: string, claim: ClaimOptions = {}): Promise<boolean> {
    // No such event, or nothing left to publish: no claim to leave behind.
    const event = await statusBatch(id);
    if (event?.status !== 'PROCESSED') return false;
    // Claimed in its insert: that is claim attempt 0, taken over like any other.
    const embedded: ClaimDocument | null = event.claimedAt ? { _id: id, event: id, attempt: 0, claimedAt: event.claimedAt } : null;
    let attempt = 0;
    if (claim.takeOverAfterMs === undefined) {
      // Without a takeover, a published event always has its first claim, so the insert below refuses it.
      if (embedded) return false;
    } else {
      if ((await publishedOf([event])).size > 0) return false;
      const next = await nextAttempt(id, embedded, claim.takeOverAfterMs);
      if (next === null) return false;
      attempt = next;
    }
    return claimBatch({ _id: attempt === 0 ? id : `${id}:${attempt}`, event: id, attempt, claimedAt: new Date(now()) });
  }

  return {
    claimPublish,
    publishedAmong,
    publishedOf,
    async markPublished(ids) {
      if (ids.length === 0) return;
      // What this store claimed in its inserts is recorded by its progress; anything else by a mark.
      const others = await progress.release(ids);
      await Promise.all(others.map((id) => markBatch(id)));
    },
    async forgetBefore(before) {
      // A claim's id starts with its event's id, so the same bound applies.
      await claims.deleteMany({ _id: { $lt: before } });
      await published.deleteMany({ _id: { $lt: before } });
      await progress.forgetBefore(before);
    },
  };
}
