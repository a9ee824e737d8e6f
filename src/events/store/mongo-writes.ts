// Batched unordered inserts with one outcome per document, shared by the
// MongoDB event log and publish claims (the batcher in batch.ts groups them).
import { MongoBulkWriteError, MongoServerError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb';

export const DUPLICATE_KEY = 11000;

/**
 * Inserts the documents in one unordered insertMany. Each document's outcome
 * is `ok`, or for a failed write what `onFailed` makes of its error code
 * (by default the server's error for that document).
 */
export async function insertEach<T extends Document, R>(
  collection: Collection<T>,
  documents: readonly OptionalUnlessRequiredId<T>[],
  ok: R,
  onFailed: (code: number | undefined, error: Error) => R | Error = (_, error) => error,
): Promise<Array<R | Error>> {
  try {
    await collection.insertMany([...documents], { ordered: false });
    return documents.map(() => ok);
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const failed = new Map<number, R | Error>();
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    for (const w of writeErrors) failed.set(w.index, onFailed(w.code, new MongoServerError({ message: w.errmsg ?? 'write failed', code: w.code })));
    return documents.map((_, i) => (failed.has(i) ? (failed.get(i) as R | Error) : ok));
  }
}

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}
