// The MongoDB outbound store's lookups by provider message, both by `_id`
// alone (FerretDB's SQLite backend pushes no other filter down, so a query on
// the records' messageId would read every send of the last 24 hours for every
// outbound webhook and every message list): a link per provider message to
// the send that made it (`outbound_links`), and the webhooks about messages no
// send had named yet (`outbound_observations`, numbered per message).
import { MongoServerError, type Collection } from 'mongodb';
import type { ProviderName } from '../model.js';
import { OBSERVATION_TTL_MS, type Observation, type OutboundRecord } from './types.js';
import { retryTransient } from '../infra/transient.js';

/** `_id` = messageKey(provider, account, messageId): the send whose answer named the message. */
export interface LinkDoc {
  _id: string;
  recordId: string;
  expiresAt: number;
  expireAt: Date;
}

/** `_id` = `<messageKey>\u0000<n>`, n = 0, 1, 2… in the order they came. */
export type ObservationDoc = Observation & { _id: string; expiresAt: number; expireAt: Date };

export interface MessageLookups {
  /** Links the message to its send; written before the record names it, so a reader that finds the record named finds the link too. */
  link(record: OutboundRecord, messageId: string): Promise<void>;
  find(provider: ProviderName, account: string, messageId: string): Promise<OutboundRecord | null>;
  findMany(provider: ProviderName, account: string, messageIds: readonly string[]): Promise<readonly OutboundRecord[]>;
  observe(observation: Observation): Promise<void>;
  observations(provider: ProviderName, account: string, messageId: string): Promise<readonly Observation[]>;
}

const DUPLICATE_KEY = 11000;
/** Far more reports than any provider sends about one message (sent, delivered, read, a failure): a runaway guard. */
const MAX_OBSERVATIONS = 64;
const durable = { writeConcern: { w: 'majority' as const } };

const isDuplicate = (err: unknown): boolean => err instanceof MongoServerError && err.code === DUPLICATE_KEY;
const messageKey = (provider: ProviderName, account: string, messageId: string): string => `${provider}\u0000${account}\u0000${messageId}`;

export interface MessageLookupDeps {
  readonly links: Collection<LinkDoc>;
  readonly observations: Collection<ObservationDoc>;
  /** The record by `_id`, null when missing or expired. */
  readonly record: (id: string) => Promise<OutboundRecord | null>;
  readonly now: () => number;
}

export function createMessageLookups({ links, observations, record, now }: MessageLookupDeps): MessageLookups {
  async function find(provider: ProviderName, account: string, messageId: string): Promise<OutboundRecord | null> {
    const link = await links.findOne({ _id: messageKey(provider, account, messageId) });
    if (!link || link.expiresAt <= now()) return null;
    const r = await record(link.recordId);
    // Found only once the record itself names the message: the write observe.ts's "one of them always sees both" rests on.
    return r && r.provider === provider && r.account === account && r.messageId === messageId ? r : null;
  }

  return {
    async link(r, messageId) {
      const write = (): Promise<unknown> =>
        retryTransient(() => links.updateOne({ _id: messageKey(r.provider, r.account, messageId) }, { $set: { recordId: r.id, expiresAt: r.expiresAt, expireAt: new Date(r.expiresAt) } }, { upsert: true, ...durable }));
      // Two racing upserts of a new link both try to insert it: the loser's is an update now.
      await write().catch((err: unknown) => (isDuplicate(err) ? write() : Promise.reject(err)));
    },
    find,
    async findMany(provider, account, messageIds) {
      // One `_id` lookup per message, side by side: `_id: {$in: …}` is not pushed down by FerretDB (a scan).
      const found = await Promise.all([...new Set(messageIds)].map((m) => find(provider, account, m)));
      return found.filter((r): r is OutboundRecord => r !== null);
    },
    async observe(observation) {
      // The first free number, each taken by a unique insert: racing webhooks about one message each get their own.
      const key = messageKey(observation.provider, observation.account, observation.messageId);
      const expiresAt = now() + OBSERVATION_TTL_MS;
      for (let n = 0; n < MAX_OBSERVATIONS; n++) {
        try {
          await observations.insertOne({ ...observation, _id: `${key}\u0000${n}`, expiresAt, expireAt: new Date(expiresAt) }, durable);
          return;
        } catch (err) {
          if (!isDuplicate(err)) throw err;
        }
      }
      throw new Error(`Expected fewer than ${MAX_OBSERVATIONS} reports about message ${observation.messageId}, found that many`);
    },
    async observations(provider, account, messageId) {
      const key = messageKey(provider, account, messageId);
      const found: Observation[] = [];
      // Numbers are taken in order, so the first one missing ends them (rarely more than 3).
      for (let n = 0; n < MAX_OBSERVATIONS; n++) {
        const doc = await observations.findOne({ _id: `${key}\u0000${n}` });
        if (!doc) break;
        if (doc.expiresAt <= now()) continue;
        const { provider: p, account: a, messageId: m, status, failureReason, at, eventId } = doc;
        found.push({ provider: p, account: a, messageId: m, status, failureReason, at, ...(eventId ? { eventId } : {}) });
      }
      return found;
    },
  };
}
