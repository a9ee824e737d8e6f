// Picks the accounts store the way events/store/index.ts picks the event
// store: MongoDB (the same database) when configured, else in process.
import type { Db } from 'mongodb';
import type { AccountStore } from './types.js';
import { createMemoryAccountStore } from './memory.js';
import { createMongoAccountStore } from './mongo.js';

export type { AccountDocument, AccountStore } from './types.js';
export { createMemoryAccountStore } from './memory.js';
export { createMongoAccountStore } from './mongo.js';

/** `db`: the gateway's shared database, when it has one (its client is closed by its owner). */
export function createAccountStore(config: { readonly mongodbUrl: string | null; readonly mongodbDb: string }, db: Db | null = null): AccountStore {
  if (config.mongodbUrl === null) return createMemoryAccountStore();
  return db ? createMongoAccountStore({ db }) : createMongoAccountStore({ url: config.mongodbUrl, db: config.mongodbDb });
}
