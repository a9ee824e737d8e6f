// The outbound store of the embedded (development) mode: everything in
// process, nothing survives a restart, exactly the semantics of the MongoDB adapter.
import type { ProviderName } from '../model.js';
import { nextSeq } from './seq.js';
import { OBSERVATION_TTL_MS, type ClaimResult, type Observation, type OutboundFilter, type OutboundPatch, type OutboundRecord, type OutboundStatus, type OutboundStore } from './types.js';

export function matchesFilter(r: OutboundRecord, f: OutboundFilter): boolean {
  return (
    (!f.provider || r.provider === f.provider) &&
    (!f.scopes || f.scopes.includes(r.scope)) &&
    (!f.conversationId || r.conversationId === f.conversationId || r.target.conversationId === f.conversationId) &&
    (!f.ids || f.ids.includes(r.id))
  );
}

export function createMemoryOutboundStore(now: () => number = Date.now): OutboundStore {
  const records = new Map<string, OutboundRecord>();
  const byKey = new Map<string, string>();
  /** Webhooks about messages no send had named yet, each kept OBSERVATION_TTL_MS. */
  const observed: Array<{ readonly observation: Observation; readonly expiresAt: number }> = [];
  /** Outbound id -> the event published as its messageSent. */
  const announcements = new Map<string, string>();
  /** When each attempt (`<dueAt>:<round>`) was taken, per send. */
  const attempts = new Map<string, Map<string, number>>();
  const live = (r: OutboundRecord | undefined): OutboundRecord | null => (r && r.expiresAt > now() ? r : null);

  return {
    async claim(record): Promise<ClaimResult> {
      const existing = live(records.get(byKey.get(`${record.scope}\u0000${record.idempotencyKey}`) ?? ''));
      if (existing) return { inserted: false, record: existing };
      // A key claimed again after its send expired has the same id: nothing of the old send carries over.
      announcements.delete(record.id);
      attempts.delete(record.id);
      records.set(record.id, record);
      byKey.set(`${record.scope}\u0000${record.idempotencyKey}`, record.id);
      return { inserted: true, record };
    },
    get: async (id) => live(records.get(id)),
    getMany: async (ids) => ids.map((id) => live(records.get(id))).filter((r): r is OutboundRecord => r !== null),
    findByKey: async (scope, key) => live(records.get(byKey.get(`${scope}\u0000${key}`) ?? '')),
    findByMessage: async (provider, account, messageId) =>
      [...records.values()].find((r) => r.provider === provider && r.account === account && r.messageId === messageId && live(r)) ?? null,
    findByMessages: async (provider, account, messageIds) =>
      [...records.values()].filter((r) => r.provider === provider && r.account === account && r.messageId !== null && messageIds.includes(r.messageId) && live(r)),
    async update(id, from: readonly OutboundStatus[], patch: OutboundPatch, guard) {
      const r = live(records.get(id));
      if (!r || !from.includes(r.status) || (guard && r.dueAt !== guard.dueAt)) return null;
      const updated: OutboundRecord = { ...r, ...patch, seq: nextSeq(now()), updatedAt: new Date(now()).toISOString() };
      records.set(id, updated);
      return updated;
    },
    async announce(record, eventId) {
      const announced = announcements.get(record.id) ?? eventId;
      announcements.set(record.id, announced);
      return announced;
    },
    async takeAttempt(record, leaseMs) {
      const taken = attempts.get(record.id) ?? new Map<string, number>();
      attempts.set(record.id, taken);
      for (let round = 0; ; round++) {
        const key = `${record.dueAt}:${round}`;
        const at = taken.get(key);
        if (at === undefined) {
          taken.set(key, now());
          return true;
        }
        if (at > now() - leaseMs) return false;
      }
    },
    async due(at, limit) {
      return [...records.values()]
        .filter((r) => (r.status === 'QUEUED' || r.status === 'SENDING') && r.dueAt !== null && r.dueAt <= at && live(r))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        .slice(0, limit);
    },
    async changedAfter(seq, filter, limit) {
      return [...records.values()]
        .filter((r) => r.seq > seq && matchesFilter(r, filter) && live(r))
        .sort((a, b) => a.seq.localeCompare(b.seq))
        .slice(0, limit);
    },
    async queuedBefore(record) {
      const conversation = record.target.conversationId;
      return [...records.values()].filter((r) => r.status === 'QUEUED' && r.scope === record.scope && r.target.conversationId === conversation && r.createdAt < record.createdAt && live(r)).length;
    },
    async observe(observation) {
      observed.push({ observation, expiresAt: now() + OBSERVATION_TTL_MS });
      if (observed.length > 10_000) observed.splice(0, observed.length - 10_000);
    },
    observations: async (provider: ProviderName, account, messageId) =>
      observed.filter(({ observation: o, expiresAt }) => o.provider === provider && o.account === account && o.messageId === messageId && expiresAt > now()).map((o) => o.observation),
    async queueStats() {
      const queued = [...records.values()].filter((r) => r.status === 'QUEUED' && live(r));
      const oldest = queued.reduce<number | null>((min, r) => Math.min(min ?? Infinity, Date.parse(r.createdAt)), null);
      return { depth: queued.length, oldest };
    },
    async sweep(at) {
      observed.splice(0, observed.length, ...observed.filter((o) => o.expiresAt > at));
      let deleted = 0;
      for (const [id, r] of records) {
        if (r.expiresAt <= at) {
          records.delete(id);
          announcements.delete(id);
          attempts.delete(id);
          byKey.delete(`${r.scope}\u0000${r.idempotencyKey}`);
          deleted++;
        }
      }
      return deleted;
    },
    close: async () => undefined,
  };
}
