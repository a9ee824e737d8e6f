// How far this store's own publishes got, so that a webhook costs one document
// write: the event insert carries its publish claim (`claimedAt`, `claimedBy`:
// this store's holder id) and nothing is written per event after the publish.
// Instead the holder records, in one `publish_progress` document of its own,
// `below`: every event it claimed with a smaller id was published, except the
// ids listed in `open` (an insert whose outcome is unknown, a publish that
// failed or never started, e.g. an after-stored hook rejected). The outbox of
// any instance reads it to tell what a crash left behind. One replaceOne per
// interval covers every publish of that interval (a write per event on
// FerretDB's SQLite backend is what held ingest back), and only its holder
// writes it, so FerretDB's non-atomic updates never race.
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { newEventId } from '../event-id.js';
import { EVENT_COLLECTIONS, type ProgressDocument } from './mongo-documents.js';

/** Open ids one progress document lists at most; past it, `below` stops at the oldest (events are then published twice rather than lost). */
const MAX_OPEN = 10_000;

export interface PublishProgress {
  /** This store's id in `claimedBy` and in its progress document. */
  readonly holder: string;
  /** An id about to be inserted claimed by this holder: unpublished until released. */
  hold(id: string): void;
  /** The id was never stored (its insert hit a duplicate key). */
  drop(id: string): void;
  /** Records the held ids as published once the next progress write is durable; resolves with the ids this holder did not hold (they need a mark of their own). */
  release(ids: readonly string[]): Promise<string[]>;
  /** Which of the events claimed in their insert are published by their holder's recorded progress. */
  publishedOf(documents: readonly Claimable[]): Promise<Set<string>>;
  /** Forgets the progress of holders with nothing kept after `before` (retention). */
  forgetBefore(before: string): Promise<void>;
  /** Writes what is released so far and stops the timer (store close). */
  flush(): Promise<void>;
}

interface Claimable {
  readonly _id: string;
  readonly claimedBy?: string;
}

export interface ProgressOptions {
  /** Least time between two progress writes: the publishes of the interval share one. @default 100 (ms) */
  readonly intervalMs?: number;
  /** A held id still unpublished after this long is listed open, so the watermark moves past it; below the outbox's lease. @default 3_000 (ms) */
  readonly holdMs?: number;
  /** Open ids are forgotten after this long; by then an outbox took them over. @default 600_000 (10 minutes) */
  readonly keepOpenMs?: number;
  readonly now: () => number;
}

export function createPublishProgress(db: Db, options: ProgressOptions): PublishProgress {
  const progress = db.collection<ProgressDocument>(EVENT_COLLECTIONS.progress, { writeConcern: { w: 'majority' } });
  const { now } = options;
  const intervalMs = options.intervalMs ?? 100;
  const holdMs = options.holdMs ?? 3_000;
  const keepOpenMs = options.keepOpenMs ?? 600_000;
  const holder = randomBytes(8).toString('hex');
  /** Held ids (insert to publish) and when they were held. */
  const pending = new Map<string, number>();
  /** Held ids listed open, and when they were held. */
  const open = new Map<string, number>();
  /** Released ids the progress document does not cover yet: this store answers for them from memory. */
  let released = new Set<string>();
  let writingIds = new Set<string>();
  let changed = false;
  let lastWrite = 0;
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;
  let closed = false;
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const ager = setInterval(() => {
    if ([...pending.values()].some((at) => now() - at > holdMs)) schedule();
  }, holdMs);
  ager.unref();

  async function write(): Promise<void> {
    const done = waiters;
    waiters = [];
    changed = false;
    lastWrite = now();
    writingIds = released;
    released = new Set();
    try {
      await progress.replaceOne({ _id: holder }, { ...watermark(pending, open, lastWrite, { holdMs, keepOpenMs }), at: new Date(lastWrite) }, { upsert: true });
      done.forEach((w) => w.resolve());
    } catch (error) {
      changed = true;
      for (const id of writingIds) released.add(id);
      done.forEach((w) => w.reject(error));
    } finally {
      writingIds = new Set();
      writing = null;
      if (changed || waiters.length > 0) schedule();
    }
  }

  function schedule(): void {
    if (timer || writing || closed) return;
    timer = setTimeout(() => {
      timer = null;
      writing = write();
    }, Math.max(0, lastWrite + intervalMs - now()));
    // A store that cannot write keeps retrying, but never keeps the process alive for it.
    timer.unref();
  }

  return {
    holder,
    hold(id) {
      pending.set(id, now());
    },
    drop(id) {
      pending.delete(id);
    },
    async release(ids) {
      const others: string[] = [];
      let mine = 0;
      for (const id of ids) {
        if (pending.delete(id) || open.delete(id)) {
          mine += 1;
          released.add(id);
        } else others.push(id);
      }
      if (mine > 0) {
        if (closed) throw new Error(`the store is closed: the publish of ${mine} events is not recorded, so the outbox may publish them again`);
        changed = true;
        await new Promise<void>((resolve, reject) => {
          waiters.push({ resolve, reject });
          schedule();
        });
      }
      return others;
    },
    publishedOf: (documents) => readPublished(progress, documents, holder, (id) => released.has(id) || writingIds.has(id)),
    async forgetBefore(before) {
      await progress.deleteMany({ below: { $lt: before }, _id: { $ne: holder } });
    },
    async flush() {
      closed = true;
      clearInterval(ager);
      if (timer) clearTimeout(timer);
      timer = null;
      await writing;
      if (changed || waiters.length > 0) await write();
    },
  };
}

/** Moves holds that ran out to `open`, forgets open ids kept long enough, and says what the progress document records. */
function watermark(pending: Map<string, number>, open: Map<string, number>, at: number, limits: { readonly holdMs: number; readonly keepOpenMs: number }): { below: string; open: string[] } {
  for (const [id, heldAt] of pending) {
    if (at - heldAt <= limits.holdMs) continue;
    pending.delete(id);
    open.set(id, heldAt);
  }
  for (const [id, heldAt] of open) if (at - heldAt > limits.keepOpenMs) open.delete(id);
  let below: string | null = null;
  for (const id of pending.keys()) if (below === null || id < below) below = id;
  // Nothing held: every id made so far is below a fresh one.
  below ??= newEventId();
  if (open.size <= MAX_OPEN) return { below, open: [...open.keys()] };
  for (const id of open.keys()) if (id < below) below = id;
  return { below, open: [] };
}

/** The documents published by their holders' recorded progress; `releasedHere`: this holder's publishes not written yet. */
async function readPublished(progress: Collection<ProgressDocument>, documents: readonly Claimable[], holder: string, releasedHere: (id: string) => boolean): Promise<Set<string>> {
  const holders = [...new Set(documents.flatMap((d) => (d.claimedBy ? [d.claimedBy] : [])))];
  if (holders.length === 0) return new Set();
  const found = await progress.find({ _id: { $in: holders } }).toArray();
  const of = new Map(found.map((p) => [p._id, { below: p.below, open: new Set(p.open) }]));
  return new Set(
    documents.flatMap((d) => {
      if (d.claimedBy === holder && releasedHere(d._id)) return [d._id];
      const p = d.claimedBy ? of.get(d.claimedBy) : undefined;
      return p && d._id < p.below && !p.open.has(d._id) ? [d._id] : [];
    }),
  );
}
