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
// The document also bounds what its holder may have inserted (`until`, written
// before an insert needs it, and kept ahead by a heartbeat), so the outbox can
// tell from these few documents alone that nothing in a range of ids is left
// unpublished, instead of scanning `events` (a full collection scan on
// FerretDB, whatever the filter) every second.
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { idFloor } from '../cursor.js';
import { idClock, newEventId } from '../event-id.js';
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
  /**
   * Resolves once the progress document bounds the ids made from now on
   * (`until`): call it before making the id of an insert. Writes the document
   * first when need be (this holder's first insert, or a heartbeat that could
   * not write); rejects when it cannot.
   */
  cover(): Promise<void>;
  /** A processed event made (or inserted) without a claim: unpublished until a mark of its own, so its range is not called clean meanwhile. */
  track(id: string): void;
  /** Whether some processed event with an id in (after, before) may be unpublished, from the progress documents alone. */
  mayHaveUnpublished(after: string | null, before: string): Promise<boolean>;
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
  /** An idle holder rewrites its document this often (at least `intervalMs`), so it reads caught up; well below the outbox's grace. @default 1_000 (ms) */
  readonly heartbeatMs?: number;
  /** Open ids are forgotten after this long; by then an outbox took them over. @default 600_000 (10 minutes) */
  readonly keepOpenMs?: number;
  readonly now: () => number;
}

export function createPublishProgress(db: Db, options: ProgressOptions): PublishProgress {
  const progress = db.collection<ProgressDocument>(EVENT_COLLECTIONS.progress, { writeConcern: { w: 'majority' } });
  const holder = randomBytes(8).toString('hex');
  const state: ProgressState = { pending: new Map(), open: new Map(), unclaimed: new Map(), released: new Set(), writingIds: new Set() };
  const writer = createWriter(progress, holder, state, options);
  return {
    holder,
    hold(id) {
      state.pending.set(id, options.now());
    },
    drop(id) {
      state.pending.delete(id);
      state.unclaimed.delete(id);
    },
    track(id) {
      state.unclaimed.set(id, options.now());
    },
    cover: () => writer.cover(),
    async release(ids) {
      const others: string[] = [];
      let mine = 0;
      for (const id of ids) {
        if (state.pending.delete(id) || state.open.delete(id)) {
          mine += 1;
          state.released.add(id);
        } else {
          // An unclaimed event gets a mark of its own; the document just stops listing it.
          if (state.unclaimed.delete(id)) writer.changed();
          others.push(id);
        }
      }
      if (mine > 0) await writer.recorded(mine);
      return others;
    },
    publishedOf: (documents) => readPublished(progress, documents, holder, (id) => state.released.has(id) || state.writingIds.has(id)),
    mayHaveUnpublished: (after, before) => mayHaveUnpublished(progress, after, before),
    async forgetBefore(before) {
      await progress.deleteMany({ below: { $lt: before }, _id: { $ne: holder } });
    },
    flush: () => writer.flush(),
  };
}

interface ProgressState {
  /** Held ids (insert to publish) and when they were held. */
  readonly pending: Map<string, number>;
  /** Held ids listed open, and when they were held. */
  readonly open: Map<string, number>;
  /** Tracked unclaimed ids and when: they hold `below` back like holds, then are listed open, but are never this holder's to record. */
  readonly unclaimed: Map<string, number>;
  /** Released ids the progress document does not cover yet: this store answers for them from memory. */
  released: Set<string>;
  writingIds: Set<string>;
}

/** Writes of the progress document: at most one per interval (and per heartbeat when idle), or at once when an insert needs its `until`. */
function createWriter(progress: Collection<ProgressDocument>, holder: string, state: ProgressState, options: ProgressOptions) {
  const { now } = options;
  const intervalMs = options.intervalMs ?? 100;
  const holdMs = options.holdMs ?? 3_000;
  const keepOpenMs = options.keepOpenMs ?? 600_000;
  // Inserts never wait on a heartbeat that is on time: `until` runs 5 periods ahead, and an insert forces a write only under 2 left.
  const periodMs = Math.max(options.heartbeatMs ?? 1_000, intervalMs);
  let changed = false;
  let lastWrite = 0;
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<unknown> | null = null;
  let forcing: Promise<void> | null = null;
  let closed = false;
  /** The `until` of the last durable write: every id below it is covered. */
  let durableUntil: string | null = null;
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const ager = setInterval(() => {
    if ([...state.pending.values(), ...state.unclaimed.values()].some((at) => now() - at > holdMs)) schedule();
  }, holdMs);
  ager.unref();
  // Only a holder that ever wrote keeps its document fresh; a store that never inserts writes nothing.
  const heartbeat = setInterval(() => {
    if (durableUntil === null) return;
    changed = true;
    schedule();
  }, periodMs);
  heartbeat.unref();

  /** Resolves with the error of a failed write, null once it is durable. `paced`: counts toward the interval. */
  async function write(paced: boolean): Promise<unknown> {
    const done = waiters;
    waiters = [];
    changed = false;
    if (paced) lastWrite = now();
    state.writingIds = state.released;
    state.released = new Set();
    const until = idFloor(idClock() + 5 * periodMs);
    try {
      const mark = watermark(state, now(), { holdMs, keepOpenMs });
      await progress.replaceOne({ _id: holder }, { ...mark, until, at: new Date(now()) }, { upsert: true });
      if (durableUntil === null || until > durableUntil) durableUntil = until;
      done.forEach((w) => w.resolve());
      return null;
    } catch (error) {
      changed = true;
      for (const id of state.writingIds) state.released.add(id);
      done.forEach((w) => w.reject(error));
      return error;
    } finally {
      state.writingIds = new Set();
      writing = null;
      if (changed || waiters.length > 0) schedule();
    }
  }

  function schedule(): void {
    if (timer || writing || closed) return;
    timer = setTimeout(() => {
      timer = null;
      writing = write(true);
    }, Math.max(0, lastWrite + intervalMs - now()));
    // A store that cannot write keeps retrying, but never keeps the process alive for it.
    timer.unref();
  }

  const covered = (): boolean => durableUntil !== null && durableUntil > idFloor(idClock() + 2 * periodMs);

  /** One write now, outside the pace (an insert waits on it). */
  async function force(): Promise<void> {
    while (writing) await writing;
    if (covered()) return;
    if (timer) clearTimeout(timer);
    timer = null;
    const pending = write(false);
    writing = pending;
    const error = await pending;
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }

  return {
    changed(): void {
      changed = true;
      schedule();
    },
    /** Resolves once the next write recorded what was just released. */
    recorded(count: number): Promise<void> {
      if (closed) return Promise.reject(new Error(`the store is closed: the publish of ${count} events is not recorded, so the outbox may publish them again`));
      changed = true;
      return new Promise<void>((resolve, reject) => {
        waiters.push({ resolve, reject });
        schedule();
      });
    },
    async cover(): Promise<void> {
      // A closing store's client is going away: its inserts fail on their own.
      while (!closed && !covered()) {
        forcing ??= force().finally(() => (forcing = null));
        await forcing;
      }
    },
    async flush(): Promise<void> {
      closed = true;
      clearInterval(ager);
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      timer = null;
      await writing;
      if (changed || waiters.length > 0) await write(true);
    },
  };
}

/** Whether a progress document leaves room for an unpublished processed event in (after, before). */
async function mayHaveUnpublished(progress: Collection<ProgressDocument>, after: string | null, before: string): Promise<boolean> {
  const inRange = (id: string): boolean => (after === null || id > after) && id < before;
  // One document per holder ever (until retention forgets it): a small read, unlike a scan of `events`.
  const documents = await progress.find({}).toArray();
  return documents.some(
    (p) =>
      p.open.some(inRange) ||
      // Its events from `below` up to `until` may be unpublished; none of them is past `until`.
      (p.below < before && (p.until === undefined || after === null || p.until > after)),
  );
}

/** Moves holds that ran out to `open`, forgets open ids kept long enough, and says what the progress document records. */
function watermark(state: ProgressState, at: number, limits: { readonly holdMs: number; readonly keepOpenMs: number }): { below: string; open: string[] } {
  const { pending, open, unclaimed } = state;
  for (const [id, heldAt] of pending) {
    if (at - heldAt <= limits.holdMs) continue;
    pending.delete(id);
    open.set(id, heldAt);
  }
  for (const [id, heldAt] of open) if (at - heldAt > limits.keepOpenMs) open.delete(id);
  for (const [id, heldAt] of unclaimed) if (at - heldAt > limits.keepOpenMs) unclaimed.delete(id);
  let below: string | null = null;
  for (const id of pending.keys()) if (below === null || id < below) below = id;
  // Unclaimed ids: listed open once they are old, and never counted published by it (they have no holder).
  const listed = [...open.keys()];
  for (const [id, since] of unclaimed) {
    if (at - since > limits.holdMs) listed.push(id);
    else if (below === null || id < below) below = id;
  }
  // Nothing held: every id made so far is below a fresh one.
  below ??= newEventId();
  if (listed.length <= MAX_OPEN) return { below, open: listed };
  for (const id of listed) if (id < below) below = id;
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
