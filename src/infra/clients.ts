// The one place that constructs MongoDB and Redis clients. The composition root
// opens one MongoClient (events, accounts, keys and every other collection) and
// one Redis pair (commands; pubsub subscriptions) per process and hands them to
// the parts (shared.ts); a part given a URL instead (tests, tools) opens its own
// through the same functions, so every client is configured the same way.
import { MongoClient, type Db } from 'mongodb';
import { Redis } from 'ioredis';

export interface MongoDatabase {
  readonly db: Db;
  /** Closes the client. */
  close(): Promise<void>;
}

export interface MongoClientOptions {
  /**
   * How long an operation waits for a usable server before it rejects
   * (MongoServerSelectionError): the gateway starts and answers /healthz while
   * MongoDB is down, and each operation fails after this instead of hanging.
   * @default 2_000 (2 seconds)
   */
  readonly serverSelectionTimeoutMs?: number;
}

/**
 * A database of a new client. The client does not connect until first used.
 * The URL goes to the driver as given (config.ts parsed it with the driver's
 * own parser) and is never logged.
 */
export function openMongoDatabase(url: string, dbName: string, options: MongoClientOptions = {}): MongoDatabase {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 2_000,
    // Absent optional fields stay absent instead of coming back as null.
    ignoreUndefined: true,
    appName: 'messaging-gateway',
  });
  return { db: client.db(dbName), close: () => client.close() };
}

export interface RedisClientOptions {
  /** How long one connection attempt may take. @default 2_000 (ms) */
  readonly connectTimeoutMs?: number;
  /** CLIENT SETNAME, so an operator (and a test) can tell the gateway's connections apart. */
  readonly connectionName?: string;
}

/**
 * A Redis connection, opened on first use so start-up does not wait for Redis.
 * `command`: a command fails after one reconnect attempt (a cache miss, a
 * publish the ingest can report, a budget that falls back to this process).
 * `subscriber`: a SUBSCRIBE waits however long Redis is away, and the client
 * re-subscribes by itself after every reconnect.
 * Errors surface as rejected commands (and /readyz); the client's own 'error'
 * events are silenced, or it would also print every reconnect attempt.
 */
export function openRedis(url: string, role: 'command' | 'subscriber', options: RedisClientOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    maxRetriesPerRequest: role === 'command' ? 1 : null,
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  });
  redis.on('error', () => {});
  return redis;
}

/** Where a MongoDB store works: a URL of a client of its own (tests, tools), or a database of the gateway's shared client. */
export type MongoConnectionOptions =
  | {
      /** `mongodb://` or `mongodb+srv://` URL; credentials, replica set and TLS options go in it. */
      readonly url: string;
      /** Name of the database holding the collections. */
      readonly db: string;
      /** @default 2_000 (ms), see MongoClientOptions */
      readonly serverSelectionTimeoutMs?: number;
    }
  | {
      /** A database of a client the caller owns: the store never closes it. */
      readonly db: Db;
    };

/** The database a store works in; `close()` closes the client only if it was made here. */
export function openMongoTarget(options: MongoConnectionOptions): MongoDatabase {
  if (typeof options.db !== 'string') return { db: options.db, close: async () => undefined };
  if (!('url' in options)) throw new Error('Expected a MongoDB url with a database name, or a Db; got a database name alone');
  return openMongoDatabase(options.url, options.db, { serverSelectionTimeoutMs: options.serverSelectionTimeoutMs });
}

/**
 * Closes a Redis connection. Only a live connection can say goodbye: QUIT on one still
 * (re)connecting would wait in the offline queue for a server that may never come.
 */
export async function quitRedis(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** One command connection and one subscriber connection, shared by every part of a gateway. */
export interface RedisPair {
  readonly command: Redis;
  readonly subscriber: Redis;
}
