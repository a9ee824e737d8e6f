// The embedded event store for development and tests: the same contract as the
// MongoDB store, kept in this process only (lost on restart, not shared between
// instances). It wires the embedded event log, publish claims and webhook mirror.
import { DEFAULT_RETENTION_MS, deleteEventsBefore } from '../retention.js';
import type { EventStore } from '../types.js';
import { createMemoryPublishClaims } from './memory-claims.js';
import { createMemoryEventLog } from './memory-log.js';
import { createMemoryWebhookMirror } from './memory-webhooks.js';

export interface MemoryStoreOptions {
  /** How long events are kept. @default 7 days (ms) */
  readonly retentionMs?: number;
  /** The clock claims are timed by (tests). @default Date.now */
  readonly now?: () => number;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): EventStore {
  // The claims read event statuses from the log, the log reads publish marks from the claims.
  const claims = createMemoryPublishClaims({ now: options.now ?? Date.now, statusOf: (id) => log.statusOf(id) });
  const log = createMemoryEventLog({
    retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
    isPublished: claims.isPublished,
    claimInserted: claims.claimInserted,
  });
  const { statusOf: _statusOf, ...eventLog } = log;
  const { isPublished: _isPublished, claimInserted: _claimInserted, ...publishClaims } = claims;
  return {
    ...eventLog,
    ...publishClaims,
    ...createMemoryWebhookMirror(),
    deleteEventsBefore: (before) => deleteEventsBefore(log, claims, before),
    async ping() {},
    async close() {},
  };
}
