// The database the MongoDB stores work in: an injected `Db` (its client is
// owned, and closed, by whoever made it), or one made here from a URL.
//
// A client made here does not connect: the driver connects on first use, so
// the gateway starts (and answers /healthz) while MongoDB is down, and each
// operation rejects after `serverSelectionTimeoutMs` instead of hanging. The
// URL goes to the driver as given (config.ts parsed it with the driver's own
// parser) and is never logged.
import type { Db } from 'mongodb';
import { openMongoDatabase as openClientDatabase } from '../../infra/clients.js';

export type MongoConnectionOptions =
  | {
      /** `mongodb://` or `mongodb+srv://` URL; credentials, replica set and TLS options go in it. */
      readonly url: string;
      /** Name of the database holding the collections. */
      readonly db: string;
      /**
       * How long an operation waits for a usable server before it rejects
       * (MongoServerSelectionError).
       * @default 2_000 (2 seconds)
       */
      readonly serverSelectionTimeoutMs?: number;
    }
  | {
      /** A database of a client the caller owns: the store never closes it. */
      readonly db: Db;
    };

export interface MongoDatabase {
  readonly db: Db;
  /** Closes the client if it was made here; an injected one is left to its owner. */
  close(): Promise<void>;
}

export function openMongoDatabase(options: MongoConnectionOptions): MongoDatabase {
  if (typeof options.db !== 'string') return { db: options.db, close: async () => undefined };
  if (!('url' in options)) throw new Error('a MongoDB store needs a url with a database name, or a Db');
  return openClientDatabase(options.url, options.db, { serverSelectionTimeoutMs: options.serverSelectionTimeoutMs });
}
