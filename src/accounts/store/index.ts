// Picks the accounts store the way events/store/index.ts picks the event
// store: MongoDB (the same database) when configured, else in process.
import type { AccountStore } from './types.js';
import { createMemoryAccountStore } from './memory.js';
import { createMongoAccountStore } from './mongo.js';

export type { AccountDocument, AccountStore } from './types.js';
export { createMemoryAccountStore } from './memory.js';
export { createMongoAccountStore } from './mongo.js';

export function createAccountStore(config: { readonly mongodbUrl: string | null; readonly mongodbDb: string }): AccountStore {
  return config.mongodbUrl === null ? createMemoryAccountStore() : createMongoAccountStore({ url: config.mongodbUrl, db: config.mongodbDb });
}
