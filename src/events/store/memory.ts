// The embedded event store for development and tests: the same contract as the
// MongoDB store, kept in this process only (lost on restart, not shared between
// instances). Events are copied in and out so callers never alias stored state;
// the raw body of a delivery is kept once, however many events it holds.
import type { ProviderName, WebhookRecord } from '../../model.js';
import { newEventId } from '../event-id.js';
import type { ClaimOptions, EventFilter, EventStore, InsertOptions, InsertResult, NewEvent, ProcessedFields, StoredEvent, UnpublishedScan } from '../types.js';
import { DEFAULT_RETENTION_MS } from './retention.js';

export interface MemoryStoreOptions {
  /** How long events are kept. @default 7 days (ms) */
  readonly retentionMs?: number;
  /** The clock claims are timed by (tests). @default Date.now */
  readonly now?: () => number;
}

/** A stored event without its body: bodies live in `bodies`, shared by a delivery's events. */
type Row = Omit<StoredEvent, 'rawBody'> & { readonly body: { readonly text: string } };

export function createMemoryStore(options: MemoryStoreOptions = {}): EventStore {
  // Ids are created here in increasing order, so insertion order is id order.
  let rows: Row[] = [];
  const byId = new Map<string, Row>();
  const byKey = new Map<string, string>();
  const claims = new Map<string, { at: number }>();
  const webhooks = new Map<string, WebhookRecord>();
  const now = options.now ?? Date.now;
  const savedAt = new Map<string, number>();

  const dedupeKey = (provider: ProviderName, eventKey: string): string => `${provider}\u0000${eventKey}`;
  const webhookKey = (provider: ProviderName, id: string): string => `${provider}:${id}`;
  const out = (row: Row): StoredEvent => {
    const { body, ...rest } = row;
    return { ...structuredClone(rest), rawBody: body.text };
  };

  /** Index of the first row whose id is >= `id` (rows are sorted by id). */
  const firstIndexNotBefore = (id: string): number => {
    let low = 0;
    let high = rows.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((rows[mid]?.id ?? '') < id) low = mid + 1;
      else high = mid;
    }
    return low;
  };

  const matches = (row: Row, filter: EventFilter): boolean =>
    (filter.provider == null || row.provider === filter.provider) &&
    (filter.status == null || row.status === filter.status) &&
    (filter.kind == null || row.kind === filter.kind) &&
    (filter.conversationId == null || row.message?.conversationId === filter.conversationId) &&
    (filter.accounts == null || filter.accounts.some((a) => a.provider === row.provider && a.account === (row.account ?? 'env')));

  const setPublished = (id: string): void => {
    const row = byId.get(id);
    if (!row || row.published) return;
    const updated = { ...row, published: true };
    byId.set(id, updated);
    rows[firstIndexNotBefore(id)] = updated;
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
      const row: Row = { ...fields, body, id: newEventId(), published: false };
      byId.set(row.id, row);
      rows.push(row);
      byKey.set(key, row.id);
      if (insert.claimForPublish && row.status === 'PROCESSED') claims.set(row.id, { at: now() });
      return { inserted: true, event: out(row) };
    });
  }

  return {
    retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
    insertEvents,
    async insertEvent(event) {
      return (await insertEvents([event]))[0] as InsertResult;
    },

    async claimPublish(id: string, claim: ClaimOptions = {}): Promise<boolean> {
      const row = byId.get(id);
      if (!row || row.published || row.status !== 'PROCESSED') return false;
      const held = claims.get(id);
      if (held && (claim.takeOverAfterMs === undefined || now() - held.at < claim.takeOverAfterMs)) return false;
      claims.set(id, { at: now() });
      return true;
    },

    async markPublished(ids: readonly string[]): Promise<void> {
      for (const id of ids) setPublished(id);
    },

    async scanUnpublished(page): Promise<UnpublishedScan> {
      const events: StoredEvent[] = [];
      let i = page.after === null ? 0 : firstIndexNotBefore(page.after);
      if (page.after !== null && rows[i]?.id === page.after) i += 1;
      let scanned = 0;
      let last: string | null = null;
      for (; i < rows.length && scanned < page.limit; i += 1) {
        const row = rows[i] as Row;
        if (row.id >= page.before) break;
        if (row.status !== 'PROCESSED') continue;
        scanned += 1;
        last = row.id;
        if (!row.published) events.push(out(row));
      }
      return { events, scannedTo: scanned === page.limit ? last : null };
    },

    async listEvents(filter, page): Promise<StoredEvent[]> {
      const result: StoredEvent[] = [];
      const start = page.before === null ? rows.length : firstIndexNotBefore(page.before);
      for (let i = start - 1; i >= 0 && result.length < page.limit; i -= 1) {
        const row = rows[i];
        if (row !== undefined && matches(row, filter)) result.push(out(row));
      }
      return result;
    },

    async listEventsAfter(filter, page): Promise<StoredEvent[]> {
      const result: StoredEvent[] = [];
      let i = firstIndexNotBefore(page.after);
      if (rows[i]?.id === page.after) i += 1;
      for (; i < rows.length && result.length < page.limit; i += 1) {
        const row = rows[i];
        if (row !== undefined && matches(row, filter)) result.push(out(row));
      }
      return result;
    },

    async getEvent(id: string): Promise<StoredEvent | null> {
      const row = byId.get(id);
      return row ? out(row) : null;
    },

    async markProcessed(id: string, processed: ProcessedFields): Promise<StoredEvent | null> {
      const row = byId.get(id);
      if (!row) return null;
      if (row.status === 'PROCESSED') return out(row);
      const { kind, message, providerEventType, account } = structuredClone(processed);
      const updated: Row = { ...row, status: 'PROCESSED', reason: null, kind, message, providerEventType, ...(account ? { account } : {}) };
      byId.set(id, updated);
      rows[firstIndexNotBefore(id)] = updated;
      return out(updated);
    },

    async deleteEventsBefore(before: string): Promise<number> {
      const cut = firstIndexNotBefore(before);
      const gone = rows.slice(0, cut);
      rows = rows.slice(cut);
      for (const row of gone) {
        byId.delete(row.id);
        byKey.delete(dedupeKey(row.provider, row.eventKey));
        claims.delete(row.id);
      }
      return gone.length;
    },

    async saveWebhook(webhook: WebhookRecord): Promise<void> {
      webhooks.set(webhookKey(webhook.provider, webhook.id), structuredClone(webhook));
      savedAt.set(webhookKey(webhook.provider, webhook.id), Date.now());
    },

    async deleteWebhook(provider: ProviderName, id: string, options: { savedBefore?: Date } = {}): Promise<void> {
      const key = webhookKey(provider, id);
      if (options.savedBefore && (savedAt.get(key) ?? 0) >= options.savedBefore.getTime()) return;
      webhooks.delete(key);
      savedAt.delete(key);
    },

    async listWebhooks(provider: ProviderName): Promise<WebhookRecord[]> {
      return [...webhooks.values()]
        .filter((webhook) => webhook.provider === provider)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((webhook) => structuredClone(webhook));
    },

    async getWebhook(provider: ProviderName, id: string): Promise<WebhookRecord | null> {
      const webhook = webhooks.get(webhookKey(provider, id));
      return webhook ? structuredClone(webhook) : null;
    },

    async ping(): Promise<void> {},

    async close(): Promise<void> {},
  };
}

