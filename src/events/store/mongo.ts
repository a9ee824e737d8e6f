// The MongoDB event store: the event log (mongo-log.ts), the publish claims
// (mongo-claims.ts) and the webhook mirror (mongo-webhooks.ts) on one
// database, with the readiness probe. These modules are the only ones that
// import the driver.
import { randomUUID } from 'node:crypto';
import { redact } from '../redact.js';
import { DEFAULT_RETENTION_MS, deleteEventsBefore } from '../retention.js';
import type { EventStore } from '../types.js';
import { createMongoPublishClaims } from './mongo-claims.js';
import { openMongoTarget, type MongoConnectionOptions } from '../../infra/clients.js';
import { EVENT_COLLECTIONS } from './mongo-documents.js';
import { createMongoEventLog } from './mongo-log.js';
import { createPublishProgress, type ProgressOptions } from './mongo-progress.js';
import { createMongoWebhookMirror } from './mongo-webhooks.js';

/**
 * Where the store keeps its collections (a URL and database name, or an
 * injected `Db` whose client was made with `ignoreUndefined: true`), and how.
 */
export type MongoStoreOptions = MongoConnectionOptions & {
  /** How long events are kept (enforced by the retention timer, retention.ts). @default 7 days (ms) */
  readonly retentionMs?: number;
  /** The clock claims are timed by (tests). @default Date.now */
  readonly now?: () => number;
  /** How this store records its own publishes (mongo-progress.ts; tests shorten them). @default intervalMs 100, holdMs 3_000, heartbeatMs 1_000 */
  readonly publishProgress?: Pick<ProgressOptions, 'intervalMs' | 'holdMs' | 'heartbeatMs'>;
};

export function createMongoStore(options: MongoStoreOptions): EventStore {
  const database = openMongoTarget(options);
  const { db } = database;
  const now = options.now ?? Date.now;
  const progress = createPublishProgress(db, { ...options.publishProgress, now });
  const { publishedOf, ...claims } = createMongoPublishClaims(db, { now, progress });
  const { ready, ...log } = createMongoEventLog(db, { retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS, now, claims: { publishedOf }, progress });
  const probes = db.collection<{ _id: string; at: Date }>(EVENT_COLLECTIONS.probes, { writeConcern: { w: 'majority' } });
  const probeId = randomUUID();

  return {
    ...log,
    ...claims,
    ...createMongoWebhookMirror(db),
    deleteEventsBefore: (before) => deleteEventsBefore(log, claims, before),
    async ping(): Promise<void> {
      try {
        await ready();
        // Reachable is not enough: a store that cannot take a durable write cannot acknowledge webhooks.
        await probes.replaceOne({ _id: probeId }, { at: new Date() }, { upsert: true });
      } catch (error) {
        throw new Error(redact(error instanceof Error ? error.message : String(error)), { cause: error });
      }
    },
    async close(): Promise<void> {
      // What this store published is recorded before it goes, so no other instance publishes it again.
      await progress.flush().catch(() => undefined);
      await probes.deleteOne({ _id: probeId }).catch(() => undefined);
      await database.close();
    },
  };
}
