// What one gateway shares between all its subscriptions: the events it has
// seen (so a second publish of the same event, after an outbox takeover,
// reaches no one twice), per-event state the resolvers keep once for every
// subscription delivering an event, and the catch-up after the pubsub lost its
// subscription (a Redis outage): one store read for the whole gateway, handed
// to every subscription, instead of one per subscriber. Made once per gateway
// and passed to each stream (no module state).
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.js';
import { idFloor } from './cursor.js';
import { toPublished, type EventLog, type PublishedEvent, type PubSub, type StoredEvent } from './types.js';

/** Events remembered for dedupe; a duplicate arrives within the outbox lease, far fewer events than this. */
const SEEN_LIMIT = 20_000;
/** How far before the outage the catch-up reads: publishes in flight when it began. */
const LOOKBACK_MS = 5_000;
const PAGE = 200;
/** A catch-up reads at most this many pages; a longer outage is what cursors (resume) are for. */
const MAX_PAGES = 50;

export interface LiveEvents {
  /**
   * The event to deliver, or null for a duplicate: the first object seen for an
   * id is the one every subscription delivers (and shares per-event work on).
   */
  admit(event: PublishedEvent): PublishedEvent | null;
  /** Registers a subscription for catch-ups; returns the unregister function. */
  onCatchUp(listener: (event: PublishedEvent) => void): () => void;
  /**
   * State kept once per admitted event and key, for every subscription
   * delivering it (the resolvers' loaders); forgotten with the event object.
   */
  perEvent<T extends object>(event: PublishedEvent, key: string, create: () => T): T;
}

export interface LiveEventsOptions {
  readonly pubsub: PubSub;
  readonly log: EventLog;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
}

export function createLiveEvents(options: LiveEventsOptions): LiveEvents {
  const { pubsub, log, logger, metrics } = options;
  const seen = new Map<string, PublishedEvent>();
  const listeners = new Set<(event: PublishedEvent) => void>();
  const state = new WeakMap<PublishedEvent, Map<string, object>>();
  let stopWatching: (() => void) | null = null;

  const admit = (event: PublishedEvent): PublishedEvent | null => {
    const first = seen.get(event.eventId);
    if (first) return first === event ? event : null;
    seen.set(event.eventId, event);
    if (seen.size > SEEN_LIMIT) seen.delete(seen.keys().next().value as string);
    return event;
  };

  async function catchUp(lostAt: number): Promise<void> {
    let after = idFloor(lostAt - LOOKBACK_MS);
    let caughtUp = 0;
    for (let page = 0; page < MAX_PAGES && listeners.size > 0; page += 1) {
      const events: readonly StoredEvent[] = await log.listEventsAfter({ status: 'PROCESSED' }, { limit: PAGE, after });
      for (const stored of events) {
        const event = toPublished(stored);
        if (!event || seen.has(event.eventId)) continue;
        admit(event);
        caughtUp += 1;
        for (const listener of [...listeners]) listener(event);
      }
      if (events.length < PAGE) break;
      after = (events[events.length - 1] as StoredEvent).id;
    }
    // The metric counts every event a subscription read from the store: resumes and catch-ups.
    metrics?.countReplayed(caughtUp);
    logger.info({ caughtUp, lostAt: new Date(lostAt).toISOString() }, 'pubsub subscription restored; subscribers caught up from the store');
  }

  return {
    admit,
    onCatchUp(listener) {
      listeners.add(listener);
      stopWatching ??=
        pubsub.onResubscribed?.((lostAt) => {
          catchUp(lostAt).catch((err: unknown) => logger.error({ err }, 'catching subscribers up from the store failed'));
        }) ?? null;
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          stopWatching?.();
          stopWatching = null;
        }
      };
    },
    perEvent<T extends object>(event: PublishedEvent, key: string, create: () => T): T {
      let byKey = state.get(event);
      if (!byKey) state.set(event, (byKey = new Map()));
      let value = byKey.get(key) as T | undefined;
      if (!value) byKey.set(key, (value = create()));
      return value;
    },
  };
}
