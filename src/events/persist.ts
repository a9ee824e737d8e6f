// The persist step of the event pipeline, shared by the webhook ingest and the
// replay of a stored event (re-normalizing it, replay.ts): stamp the normalized events with the
// account their delivery was routed to, store them, then run the after-stored
// hooks. The ingest acknowledges a delivery only once this resolved, so a hook
// runs after the events are durable and before the provider gets its 200. A
// hook may answer events that must not be published (a repeat of a send's
// messageSent): they are marked published here, before anyone publishes them.
import type { ProviderName } from '../model.js';
import type { ParsedEvent } from '../providers/provider.js';
import { traceInvalidate, traceStore } from './ingest-spans.js';
import type { EventLog, InsertOptions, InsertResult, NewEvent, ProcessedFields, PublishClaims, StoredEvent } from './types.js';

/** What one persist stored, as the after-stored hooks see it. */
export interface StoredBatch {
  /** `webhook`: a delivery before its acknowledgement; `replay`: a stored event re-normalized by replayEvent. */
  readonly source: 'webhook' | 'replay';
  readonly provider: ProviderName;
  /** Every event as stored, in delivery order, duplicates of earlier deliveries included. */
  readonly events: readonly StoredEvent[];
  /** Those this persist inserted or turned processed (not duplicates). */
  readonly fresh: readonly StoredEvent[];
}

/**
 * THE EXTENSION POINT of the event pipeline: runs after events are durably
 * stored and before the delivery is acknowledged (cache invalidation, a
 * directory of seen users, matching deliveries to sent messages). Hooks run in
 * the order given, each once per persist, on every instance that stores. A hook
 * that rejects fails the persist: the provider gets its retry status (the events
 * stay stored; the redelivery dedupes and runs the hooks again), so a hook that
 * only observes should catch its own errors.
 */
export type AfterStoredHook = (batch: StoredBatch) => Promise<void | AfterStoredAnswer>;

/** What a hook may answer about the batch it saw. */
export interface AfterStoredAnswer {
  /**
   * Ids of the batch's events that stay stored but are never published as
   * message events (the repeated `messageSent` of one send: outbound/observe.ts).
   * They are marked published before the ingest or the outbox could publish them.
   */
  readonly unannounced?: readonly string[];
}

/** Where a delivery's events came from: what every event of it carries. */
export interface DeliveryOrigin {
  readonly provider: ProviderName;
  readonly rawBody: string;
  /** ISO-8601 UTC. */
  readonly receivedAt: string;
  /** The stored account the delivery was routed to; null for the environment's, or none known. */
  readonly account: string | null;
}

export interface Persist {
  /** Stores a delivery's parsed events (stamped with its account), then runs the hooks; one result per event, in order. */
  storeDelivery(origin: DeliveryOrigin, parsed: readonly ParsedEvent[], options: { readonly source: StoredBatch['source'] } & InsertOptions): Promise<readonly InsertResult[]>;
  /** Turns a stored unprocessable event processed with its parsed event now normalized, then runs the hooks; null when the event is gone. */
  storeReplayed(stored: StoredEvent, parsed: ParsedEvent, account: string | null): Promise<StoredEvent | null>;
}

export interface PersistOptions {
  readonly log: EventLog;
  /** Where events a hook answers as unannounced are marked published; required when a hook may answer some. @default none */
  readonly claims?: PublishClaims;
  /** @default none */
  readonly afterStored?: readonly AfterStoredHook[];
}

export function createPersist(options: PersistOptions): Persist {
  const { log } = options;
  const hooks = options.afterStored ?? [];

  /** Runs the hooks; resolves with the ids of the batch's events now marked published unannounced. */
  async function runHooks(batch: StoredBatch): Promise<ReadonlySet<string>> {
    if (hooks.length === 0) return new Set();
    const unannounced = new Set<string>();
    const run = async (): Promise<void> => {
      for (const hook of hooks) for (const id of (await hook(batch))?.unannounced ?? []) unannounced.add(id);
    };
    // The webhook's spans; a replay runs inside its GraphQL operation's span.
    await (batch.source === 'webhook' ? traceInvalidate(run) : run());
    const ids = batch.events.filter((e) => unannounced.has(e.id) && e.status === 'PROCESSED').map((e) => e.id);
    if (ids.length === 0) return new Set();
    if (!options.claims) throw new Error(`an after-stored hook answered ${ids.length} events unannounced, but the persist step was given no publish claims to mark them in`);
    // Flagged first, so nothing that reads the log (a resume, a catch-up, the outbox) publishes them even before the mark.
    // Rejects like a hook would: the delivery is retried, and its redelivery marks them again.
    await log.markUnannounced(ids);
    await options.claims.markPublished(ids);
    return new Set(ids);
  }

  return {
    async storeDelivery(origin, parsed, { source, ...insert }) {
      const events = parsed.map((p) => toNewEvent(origin, p));
      const write = (): Promise<readonly InsertResult[]> => log.insertEvents(events, insert);
      const results = await (source === 'webhook' ? traceStore(events.length, write) : write());
      const stored = results.map((r) => r.event);
      const unannounced = await runHooks({ source, provider: origin.provider, events: stored, fresh: results.flatMap((r) => (r.inserted ? [r.event] : [])) });
      return results.map((r) => (unannounced.has(r.event.id) ? { ...r, event: asPublished(r.event) } : r));
    },
    async storeReplayed(stored, parsed, account) {
      const event = toNewEvent({ provider: stored.provider, rawBody: stored.rawBody, receivedAt: stored.receivedAt, account }, parsed);
      if (event.status !== 'PROCESSED' || !event.kind || !event.message) throw new Error(`expected a normalized event, got one unprocessable: ${event.reason}`);
      const fields: ProcessedFields = { kind: event.kind, message: event.message, providerEventType: event.providerEventType, ...(event.account ? { account: event.account } : {}) };
      const updated = await log.markProcessed(stored.id, fields);
      if (!updated) return null;
      const unannounced = await runHooks({ source: 'replay', provider: stored.provider, events: [updated], fresh: [updated] });
      return unannounced.has(updated.id) ? asPublished(updated) : updated;
    },
  };
}

const asPublished = (event: StoredEvent): StoredEvent => ({ ...event, published: true });

/** A parsed event as stored: a delivery routed to a stored account stamps the event and its message with it (their ids then name it). */
export function toNewEvent(origin: DeliveryOrigin, parsed: ParsedEvent): NewEvent {
  const { provider, rawBody, receivedAt, account } = origin;
  const base = { provider, ...(account ? { account } : {}), eventKey: parsed.eventKey, providerEventType: parsed.providerEventType, rawBody, receivedAt };
  if (!parsed.result.ok) return { ...base, kind: null, status: 'UNPROCESSABLE', reason: parsed.result.reason, message: null };
  const { kind, message } = parsed.result.event;
  return { ...base, kind, status: 'PROCESSED', reason: null, message: account ? { ...message, account } : message };
}
