// The event log of the embedded store: events kept in id order in this
// process. Events are copied in and out so callers never alias stored state;
// the raw body of a delivery is kept once, however many events it holds.
// Whether an event was published is the claims' to say (`isPublished`).
import type { ProviderName } from '../../model.js';
import { newEventId } from '../event-id.js';
import type { EventFilter, EventLog, EventStatus, InsertOptions, InsertResult, NewEvent, ProcessedFields, StoredEvent, UnpublishedScan } from '../types.js';

/** A stored event without its body and publish state: bodies are shared by a delivery's events. */
type Row = Omit<StoredEvent, 'rawBody' | 'published'> & { readonly body: { readonly text: string } };

export interface MemoryEventLog extends EventLog {
  /** The status of a stored event, null when there is none (for the claims). */
  statusOf(id: string): EventStatus | null;
}

export interface MemoryLogOptions {
  readonly retentionMs: number;
  readonly isPublished: (id: string) => boolean;
  /** Takes the inserter's claim for `claimForPublish`. */
  readonly claimInserted: (id: string) => void;
}

/** Index of the first row whose id is >= `id` (rows are sorted by id). */
function firstIndexNotBefore(rows: readonly Row[], id: string): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((rows[mid]?.id ?? '') < id) low = mid + 1;
    else high = mid;
  }
  return low;
}

function matches(row: Row, filter: EventFilter): boolean {
  return (
    (filter.provider == null || row.provider === filter.provider) &&
    (filter.status == null || row.status === filter.status) &&
    (filter.kind == null || row.kind === filter.kind) &&
    (filter.conversationId == null || row.message?.conversationId === filter.conversationId) &&
    (filter.accounts == null || filter.accounts.some((a) => a.provider === row.provider && a.account === (row.account ?? 'env')))
  );
}

/** Up to `limit` rows matching the filter, walking from index `from` in direction `step`. */
function collect(rows: readonly Row[], filter: EventFilter, limit: number, from: number, step: 1 | -1): Row[] {
  const result: Row[] = [];
  for (let i = from; i >= 0 && i < rows.length && result.length < limit; i += step) {
    const row = rows[i] as Row;
    if (matches(row, filter)) result.push(row);
  }
  return result;
}

const dedupeKey = (provider: ProviderName, eventKey: string): string => `${provider}\u0000${eventKey}`;

export function createMemoryEventLog(options: MemoryLogOptions): MemoryEventLog {
  // Ids are created here in increasing order, so insertion order is id order.
  let rows: Row[] = [];
  const byId = new Map<string, Row>();
  const byKey = new Map<string, string>();
  const out = (row: Row): StoredEvent => {
    const { body, ...rest } = row;
    return { ...structuredClone(rest), rawBody: body.text, published: options.isPublished(row.id) };
  };
  /** Rows after `after` (exclusive), oldest first. */
  const startAfter = (after: string | null): number => {
    if (after === null) return 0;
    const i = firstIndexNotBefore(rows, after);
    return rows[i]?.id === after ? i + 1 : i;
  };

  async function insertEvents(events: readonly NewEvent[], insert: InsertOptions = {}): Promise<InsertResult[]> {
    const bodies = new Map<string, { text: string }>();
    return events.map((event) => {
      const key = dedupeKey(event.provider, event.eventKey);
      const existing = byId.get(byKey.get(key) ?? '');
      if (existing) return { inserted: false, event: out(existing) };
      let body = bodies.get(event.rawBody);
      if (!body) bodies.set(event.rawBody, (body = { text: event.rawBody }));
      const { rawBody: _rawBody, ...fields } = structuredClone(event);
      const row: Row = { ...fields, body, id: newEventId() };
      byId.set(row.id, row);
      rows.push(row);
      byKey.set(key, row.id);
      if (insert.claimForPublish && row.status === 'PROCESSED') options.claimInserted(row.id);
      return { inserted: true, event: out(row) };
    });
  }

  function scanUnpublished(page: { readonly limit: number; readonly after: string | null; readonly before: string }): UnpublishedScan {
    const events: StoredEvent[] = [];
    let scanned = 0;
    let last: string | null = null;
    for (let i = startAfter(page.after); i < rows.length && scanned < page.limit; i += 1) {
      const row = rows[i] as Row;
      if (row.id >= page.before) break;
      if (row.status !== 'PROCESSED') continue;
      scanned += 1;
      last = row.id;
      if (!options.isPublished(row.id)) events.push(out(row));
    }
    return { events, scannedTo: scanned === page.limit ? last : null };
  }

  function markProcessed(id: string, processed: ProcessedFields): StoredEvent | null {
    const row = byId.get(id);
    if (!row) return null;
    if (row.status === 'PROCESSED') return out(row);
    const { kind, message, providerEventType, account } = structuredClone(processed);
    const updated: Row = { ...row, status: 'PROCESSED', reason: null, kind, message, providerEventType, ...(account ? { account } : {}) };
    byId.set(id, updated);
    rows[firstIndexNotBefore(rows, id)] = updated;
    return out(updated);
  }

  return {
    retentionMs: options.retentionMs,
    insertEvents,
    async insertEvent(event) {
      return (await insertEvents([event]))[0] as InsertResult;
    },
    scanUnpublished: async (page) => scanUnpublished(page),
    async listEvents(filter, page) {
      const start = page.before === null ? rows.length : firstIndexNotBefore(rows, page.before);
      return collect(rows, filter, page.limit, start - 1, -1).map(out);
    },
    async listEventsAfter(filter, page) {
      return collect(rows, filter, page.limit, startAfter(page.after), 1).map(out);
    },
    async getEvent(id) {
      const row = byId.get(id);
      return row ? out(row) : null;
    },
    markProcessed: async (id, processed) => markProcessed(id, processed),
    async markUnannounced(ids) {
      for (const id of ids) {
        const row = byId.get(id);
        if (!row) continue;
        const updated: Row = { ...row, unannounced: true };
        byId.set(id, updated);
        rows[firstIndexNotBefore(rows, id)] = updated;
      }
    },
    async deleteEventsBefore(before) {
      const cut = firstIndexNotBefore(rows, before);
      const gone = rows.slice(0, cut);
      rows = rows.slice(cut);
      for (const row of gone) {
        byId.delete(row.id);
        byKey.delete(dedupeKey(row.provider, row.eventKey));
      }
      return gone.length;
    },
    statusOf: (id) => byId.get(id)?.status ?? null,
  };
}
