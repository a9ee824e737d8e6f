// The embedded event store for development and tests: the same contract as the
// MongoDB store, kept in this process only (lost on restart, not shared between
// instances). Events are copied in and out so callers never alias stored state.
import type { ProviderName, WebhookRecord } from '../../model.js';
import { newEventId } from '../event-id.js';
import type { EventFilter, EventStore, NewEvent, StoredEvent } from '../types.js';

export function createMemoryStore(): EventStore {
  // Ids are created here in increasing order, so insertion order is id order.
  const events: StoredEvent[] = [];
  const byId = new Map<string, number>();
  const byKey = new Map<string, string>();
  const webhooks = new Map<string, WebhookRecord>();

  const dedupeKey = (provider: ProviderName, eventKey: string): string => `${provider}\u0000${eventKey}`;
  const webhookKey = (provider: ProviderName, id: string): string => `${provider}:${id}`;

  const find = (id: string): StoredEvent | null => {
    const index = byId.get(id);
    return index === undefined ? null : (events[index] ?? null);
  };

  const setPublished = (id: string, published: boolean): boolean => {
    const index = byId.get(id);
    const event = index === undefined ? undefined : events[index];
    if (index === undefined || event === undefined || event.published === published) return false;
    events[index] = { ...event, published };
    return true;
  };

  /** Index of the first event whose id is >= `id` (events are sorted by id). */
  const firstIndexNotBefore = (id: string): number => {
    let low = 0;
    let high = events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((events[mid]?.id ?? '') < id) low = mid + 1;
      else high = mid;
    }
    return low;
  };

  const matches = (event: StoredEvent, filter: EventFilter): boolean =>
    (filter.provider == null || event.provider === filter.provider) &&
    (filter.status == null || event.status === filter.status) &&
    (filter.kind == null || event.kind === filter.kind) &&
    (filter.conversationId == null || event.message?.conversationId === filter.conversationId);

  return {
    async insertEvent(event: NewEvent): Promise<{ inserted: boolean; event: StoredEvent }> {
      const key = dedupeKey(event.provider, event.eventKey);
      const existingId = byKey.get(key);
      const existing = existingId === undefined ? null : find(existingId);
      if (existing) return { inserted: false, event: structuredClone(existing) };
      const stored: StoredEvent = { ...structuredClone(event), id: newEventId(), published: false };
      byId.set(stored.id, events.length);
      events.push(stored);
      byKey.set(key, stored.id);
      return { inserted: true, event: structuredClone(stored) };
    },

    async claimPublish(id: string): Promise<boolean> {
      return setPublished(id, true);
    },

    async releasePublish(id: string): Promise<void> {
      setPublished(id, false);
    },

    async listEvents(filter: EventFilter, page: { limit: number; before: string | null }): Promise<StoredEvent[]> {
      const result: StoredEvent[] = [];
      const start = page.before === null ? events.length : firstIndexNotBefore(page.before);
      for (let i = start - 1; i >= 0 && result.length < page.limit; i -= 1) {
        const event = events[i];
        if (event !== undefined && matches(event, filter)) result.push(structuredClone(event));
      }
      return result;
    },

    async getEvent(id: string): Promise<StoredEvent | null> {
      const event = find(id);
      return event ? structuredClone(event) : null;
    },

    async saveWebhook(webhook: WebhookRecord): Promise<void> {
      webhooks.set(webhookKey(webhook.provider, webhook.id), structuredClone(webhook));
    },

    async deleteWebhook(provider: ProviderName, id: string): Promise<void> {
      webhooks.delete(webhookKey(provider, id));
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
