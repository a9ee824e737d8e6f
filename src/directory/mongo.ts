// The MongoDB directory: one document per (provider, account, kind, id) in
// `directory`, listed by activity through one compound index. Only this file
// of the directory imports the driver.
import { MongoServerError, type AnyBulkWriteOperation, type Collection, type Filter } from 'mongodb';
import { openMongoTarget, type MongoConnectionOptions } from '../infra/clients.js';
import { ensureIndexes } from '../events/store/mongo-indexes.js';
import type { ProviderName } from '../model.js';
import { decodeDirectoryCursor, encodeDirectoryCursor, isoTime } from './cursor.js';
import type { Directory, DirectoryKind, Sighting } from './types.js';

export type MongoDirectoryOptions = MongoConnectionOptions & { readonly now?: () => number };

interface DirectoryDocument {
  readonly _id: string;
  readonly provider: ProviderName;
  readonly account: string;
  readonly kind: DirectoryKind;
  readonly id: string;
  readonly contactRef?: string | null;
  /** ISO 8601 UTC with milliseconds, so string order is time order. */
  readonly activityAt: string;
}

const DUPLICATE_KEY = 11000;

export function createMongoDirectory(options: MongoDirectoryOptions): Directory {
  const { db, close } = openMongoTarget(options);
  const entries: Collection<DirectoryDocument> = db.collection<DirectoryDocument>('directory');
  const now = options.now ?? Date.now;

  let indexes: Promise<void> | null = null;
  const ready = (): Promise<void> => {
    indexes ??= ensureIndexes(entries, [{ key: { provider: 1, account: 1, kind: 1, activityAt: -1, id: -1 }, name: 'by_activity' }]).catch((error: unknown) => {
      indexes = null;
      throw error;
    });
    return indexes;
  };

  async function record(provider: ProviderName, account: string, sightings: readonly Sighting[]): Promise<void> {
    if (sightings.length === 0) return;
    await ready();
    const nowIso = new Date(now()).toISOString();
    const ops = sightings.map((s) => upsert(provider, account, s, nowIso));
    try {
      await entries.bulkWrite(ops, { ordered: false });
    } catch (error) {
      // Two deliveries upserting one new entity at once: one insert wins, the other becomes an update on retry.
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
      await entries.bulkWrite(ops, { ordered: false });
    }
  }

  return {
    record,
    async list(provider, account, kind, request) {
      await ready();
      const after = request.after === null ? null : decodeDirectoryCursor(request.after);
      const filter: Filter<DirectoryDocument> = {
        provider,
        account,
        kind,
        ...(after ? { $or: [{ activityAt: { $lt: after.activityAt } }, { activityAt: after.activityAt, id: { $lt: after.id } }] } : {}),
      };
      const docs = await entries.find(filter).sort({ activityAt: -1, id: -1 }).limit(request.limit + 1).toArray();
      const shown = docs.slice(0, request.limit).map((d) => ({
        id: d.id,
        contactRef: d.contactRef ?? null,
        activityAt: d.activityAt,
        cursor: encodeDirectoryCursor(d),
      }));
      const last = shown[shown.length - 1];
      return { entries: shown, nextCursor: docs.length > request.limit && last ? last.cursor : null };
    },
    async close() {
      await close();
    },
  };
}

function upsert(provider: ProviderName, account: string, s: Sighting, nowIso: string): AnyBulkWriteOperation<DirectoryDocument> {
  const _id = `${provider}:${account}:${s.kind}:${s.id}`;
  const activityAt = isoTime(s.activityAt);
  const identity = { provider, account, kind: s.kind, id: s.id };
  const contact = s.contactRef ? { $set: { contactRef: s.contactRef } } : {};
  const update = activityAt
    ? { $setOnInsert: identity, $max: { activityAt }, ...contact }
    : { $setOnInsert: { ...identity, activityAt: isoTime(s.knownSince) ?? nowIso }, ...contact };
  return { updateOne: { filter: { _id }, update, upsert: true } };
}
