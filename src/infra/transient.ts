// A write the database refused for a moment, retried in place. FerretDB's
// SQLite backend answers a write that met another writer's lock with "database
// is locked (SQLITE_BUSY)" instead of waiting for it: nothing was written
// (the transaction did not commit), so the same write may go again. MongoDB
// labels its own transient failures (TransientTransactionError), retried the same way.
import { MongoServerError } from 'mongodb';

const ATTEMPTS = 4;
const BASE_DELAY_MS = 15;

/** Whether the server refused the command for a moment and wrote nothing. */
export function isTransientWriteError(err: unknown): boolean {
  if (!(err instanceof MongoServerError)) return false;
  return /\bSQLITE_BUSY\b|database is locked/.test(err.message) || err.hasErrorLabel('TransientTransactionError');
}

/** Runs `write`, again after a short, growing pause while the server answers it is busy (at most 4 times in all). */
export async function retryTransient<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isTransientWriteError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, BASE_DELAY_MS * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
  }
}
