// Picks the event store from configuration: MongoDB when a URL is configured,
// otherwise the in-process store (development only: nothing survives a restart).
import type { Db } from 'mongodb';
import type { EventStore } from '../types.js';
import { createMemoryStore } from './memory.js';
import { createMongoStore } from './mongo.js';

export { createMemoryStore, type MemoryStoreOptions } from './memory.js';
export { createMongoStore, type MongoStoreOptions } from './mongo.js';
export type { MongoConnectionOptions } from '../../infra/clients.js';

export function createStore(config: {
  readonly mongodbUrl: string | null;
  readonly mongodbDb: string;
  /** How long events are kept (GATEWAY_EVENT_RETENTION_DAYS). @default 7 days (ms) */
  readonly eventRetentionMs?: number;
}, db: Db | null = null): EventStore {
  const retentionMs = config.eventRetentionMs;
  if (config.mongodbUrl === null) return createMemoryStore({ retentionMs });
  // `db`: the gateway's shared database (its client is closed by its owner, not by the store).
  return db ? createMongoStore({ db, retentionMs }) : createMongoStore({ url: config.mongodbUrl, db: config.mongodbDb, retentionMs });
}
