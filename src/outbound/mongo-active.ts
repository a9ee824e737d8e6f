// The MongoDB outbound store's index of unsettled sends (`outbound_active`):
// one small document per QUEUED or SENDING record, so the worker's
// `due`, `queuedBefore` and `queueStats` read this collection (a few
// documents) instead of every send of the last 24 hours (FerretDB's SQLite
// backend pushes no filter but `_id` equality down: any other query reads the
// whole collection). The record is the truth and an entry only a hint: every
// candidate is checked against its record by `_id`. The writes are ordered so
// that a lost or failed one can only delay a send, never hide it for good:
// the claim writes the entry before the record and checks it is still there
// after; dropping an entry is followed by a read of its record (re-entered if
// it is unsettled after all); the sweep re-enters any unsettled record missing
// from it. These write-then-read pairs are what make a racing claim and drop
// see each other.
import { MongoServerError, type Collection } from 'mongodb';
import { PENDING } from './state.js';
import type { OutboundRecord, OutboundStatus } from './types.js';
import { retryTransient } from '../infra/transient.js';

/** An unsettled send as the worker looks for it (`_id` = the record's id). */
export interface ActiveDoc {
  _id: string;
  scope: string;
  /** `target.conversationId`: sends go in order per conversation. */
  conversationId: string | null;
  createdAt: string;
  status: OutboundStatus;
  dueAt: number | null;
  expiresAt: number;
  /** `expiresAt` as a date, for a TTL index where the server has them. */
  expireAt: Date;
}

export interface ActiveIndex {
  /** Enters (or refreshes) an unsettled record. */
  put(record: OutboundRecord): Promise<void>;
  /** Drops the entry, then re-enters it if its record is unsettled after all (a racing claim or change). */
  drop(id: string): Promise<void>;
  /** Whether the record has an entry matching it; re-entered when not (the claim's check after its insert). */
  ensure(record: OutboundRecord): Promise<void>;
  due(at: number, limit: number): Promise<readonly OutboundRecord[]>;
  queuedBefore(record: OutboundRecord): Promise<number>;
  queueStats(): Promise<{ readonly depth: number; readonly oldest: number | null }>;
  /** Re-enters unsettled records missing from the index or ahead of it (the sweep's backstop: reads every record). */
  reconcile(at: number): Promise<number>;
}

const durable = { writeConcern: { w: 'majority' as const } };
const DUPLICATE_KEY = 11000;

export const isPending = (status: OutboundStatus): boolean => PENDING.includes(status);

function entryOf(r: OutboundRecord): ActiveDoc {
  return { _id: r.id, scope: r.scope, conversationId: r.target.conversationId, createdAt: r.createdAt, status: r.status, dueAt: r.dueAt, expiresAt: r.expiresAt, expireAt: new Date(r.expiresAt) };
}

/** Whether the entry says what the record says (an entry that differs is rewritten from the record). */
const inStep = (e: ActiveDoc, r: OutboundRecord): boolean =>
  e.status === r.status && e.dueAt === r.dueAt && e.conversationId === r.target.conversationId && e.createdAt === r.createdAt && e.expiresAt === r.expiresAt;

export interface ActiveIndexDeps {
  readonly active: Collection<ActiveDoc>;
  /** The record by `_id`, null when missing or expired. */
  readonly record: (id: string) => Promise<OutboundRecord | null>;
  /** Every unsettled, unexpired record (a scan: the sweep's reconciliation only). */
  readonly unsettled: (at: number) => Promise<readonly OutboundRecord[]>;
}

export function createActiveIndex({ active, record, unsettled }: ActiveIndexDeps): ActiveIndex {
  async function put(r: OutboundRecord, retried = false): Promise<void> {
    const { _id, ...rest } = entryOf(r);
    try {
      await retryTransient(() => active.updateOne({ _id }, { $set: rest }, { upsert: true, ...durable }));
    } catch (err) {
      // Two upserts of a new entry both try to insert it (racing claims of one key): the loser's is an update now.
      if (retried || !(err instanceof MongoServerError) || err.code !== DUPLICATE_KEY) throw err;
      await put(r, true);
    }
  }

  async function drop(id: string): Promise<void> {
    await active.deleteOne({ _id: id }, durable);
    const r = await record(id);
    if (r && isPending(r.status)) await put(r);
  }

  /** The entries' records, checked: unsettled ones answered, the others' entries dropped, lagging entries repaired. */
  async function verified(entries: readonly ActiveDoc[]): Promise<OutboundRecord[]> {
    const records = await Promise.all(entries.map((e) => record(e._id)));
    const live: OutboundRecord[] = [];
    await Promise.all(
      entries.map(async (e, i) => {
        const r = records[i];
        if (!r || !isPending(r.status)) return drop(e._id);
        live.push(r);
        if (!inStep(e, r)) await put(r);
      }),
    );
    return live.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  return {
    put,
    drop,
    async ensure(r) {
      const e = await active.findOne({ _id: r.id });
      if (!e || !inStep(e, r)) await put(r);
    },
    async due(at, limit) {
      // A scan, but of unsettled sends only. An entry due by its own dueAt whose record is not due yet lags: it is repaired, not answered.
      const entries = await active.find({ dueAt: { $lte: at } }).sort({ createdAt: 1 }).limit(limit).toArray();
      return (await verified(entries)).filter((r) => r.dueAt !== null && r.dueAt <= at).slice(0, limit);
    },
    async queuedBefore(r) {
      // Some, not how many: candidates are checked one by one (each a record read), likeliest first, until one is really QUEUED.
      const entries = await active.find({ scope: r.scope, conversationId: r.target.conversationId, createdAt: { $lt: r.createdAt } }).toArray();
      // Whatever an entry's own status says (it may lag), its record decides.
      const likeliest = [...entries].sort((a, b) => Number(b.status === 'QUEUED') - Number(a.status === 'QUEUED') || a.createdAt.localeCompare(b.createdAt));
      for (const e of likeliest) {
        const q = await record(e._id);
        if (q && q.status === 'QUEUED' && q.scope === r.scope && q.target.conversationId === r.target.conversationId && q.createdAt < r.createdAt) return 1;
      }
      return 0;
    },
    async queueStats() {
      // Every worker pass on every instance asks: the depth is the entries' (a stale one counts until the next due() drops it),
      // and only the oldest is checked against its record (stale ones met on the way are dropped).
      const queued = (await active.find({ status: 'QUEUED' }).toArray()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      for (const [i, e] of queued.entries()) {
        const r = await record(e._id);
        if (r && r.status === 'QUEUED') return { depth: queued.length - i, oldest: Date.parse(r.createdAt) };
        if (!r || !isPending(r.status)) await drop(e._id);
      }
      return { depth: 0, oldest: null };
    },
    async reconcile(at) {
      let repaired = 0;
      for (const r of await unsettled(at)) {
        const e = await active.findOne({ _id: r.id });
        // An entry behind its record only costs a check in `due`; one missing or ahead of it would delay the send.
        if (e && e.status === r.status && e.conversationId === r.target.conversationId && (e.dueAt ?? Infinity) <= (r.dueAt ?? Infinity)) continue;
        await put(r);
        repaired++;
      }
      return repaired;
    },
  };
}
