// Index creation that survives restarts, a second instance and existing data:
// list what exists, create only what is missing, one index per createIndexes
// call (FerretDB panics when one call re-creates several existing indexes), and
// treat "already exists" from a racing instance as success once the listing
// shows the same definition. A real conflict (same name, other keys; a unique
// index over duplicate data) is an error that keeps the store not ready.
import { MongoServerError, type Collection, type Document } from 'mongodb';

export interface IndexSpec {
  readonly name: string;
  readonly key: Readonly<Record<string, 1 | -1>>;
  readonly unique?: boolean;
}

const NAMESPACE_NOT_FOUND = 26;

async function existingIndexes<T extends Document>(collection: Collection<T>): Promise<Map<string, Document>> {
  try {
    const listed = await collection.listIndexes().toArray();
    return new Map(listed.map((index) => [String(index['name']), index]));
  } catch (error) {
    if (error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND) return new Map();
    throw error;
  }
}

function sameIndex(found: Document, spec: IndexSpec): boolean {
  return JSON.stringify(found['key']) === JSON.stringify(spec.key) && Boolean(found['unique']) === Boolean(spec.unique);
}

/** Makes sure every index in `specs` exists on the collection as specified. */
export async function ensureIndexes<T extends Document>(collection: Collection<T>, specs: readonly IndexSpec[]): Promise<void> {
  let existing = await existingIndexes(collection);
  for (const spec of specs) {
    const found = existing.get(spec.name);
    if (found) {
      if (!sameIndex(found, spec)) throw conflict(collection, spec, found);
      continue;
    }
    try {
      await collection.createIndex(spec.key as Document, { name: spec.name, ...(spec.unique ? { unique: true } : {}) });
    } catch (error) {
      // Another instance may have created it between our listing and our call.
      existing = await existingIndexes(collection);
      const now = existing.get(spec.name);
      if (!now || !sameIndex(now, spec)) {
        throw new Error(`Could not create index ${spec.name} on ${collection.collectionName}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
  }
}

function conflict<T extends Document>(collection: Collection<T>, spec: IndexSpec, found: Document): Error {
  return new Error(
    `Index ${spec.name} on ${collection.collectionName} exists with another definition: expected ${JSON.stringify(spec.key)}${spec.unique ? ' unique' : ''}, found ${JSON.stringify(found['key'])}${found['unique'] ? ' unique' : ''}; drop it to let the gateway recreate it`,
  );
}
