// What one process shares between all its subscriptions of a pubsub: the
// events it has seen (so a second publish of the same event, after an outbox
// takeover, reaches no one twice) and the catch-up after the pubsub lost its
// subscription (a Redis outage): one store read for the whole process,
// handed to every subscription, instead of one per subscriber.
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.js';
import { idFloor } from './cursor.js';
import { toPublished, type EventStore, type PublishedEvent, type PubSub, type StoredEvent } from './types.js';

/** Events remembered for dedupe; a duplicate arrives within the outbox lease, far fewer events than this. */
const SEEN_LIMIT = 20_000;
/** How far before the outage the catch-up reads: publishes in flight when it began. */
const LOOKBACK_MS = 5_000;
const PAGE = 200;
/** A catch-up reads at most this many pages; a longer outage is what cursors (resume) are for. */
const MAX_PAGES = 50;

export interface SharedEvents {
  /**
   * The event to deliver, or null for a duplicate: the first object seen for an
   * id is the one every subscription delivers (and shares per-event work on).
   */
  admit(event: PublishedEvent): PublishedEvent | null;
  /** Registers a subscription for catch-ups; returns the unregister function. */
  onCatchUp(listener: (event: PublishedEvent) => void): () => void;
}

const shared = new WeakMap<PubSub, SharedEvents>();

export function sharedEvents(pubsub: PubSub, store: EventStore, logger: Logger, metrics?: GatewayMetrics): SharedEvents {
  let existing = shared.get(pubsub);
  if (!existing) shared.set(pubsub, (existing = createSharedEvents(pubsub, store, logger, metrics)));
  return existing;
}

function createSharedEvents(pubsub: PubSub, store: EventStore, logger: Logger, metrics?: GatewayMetrics): SharedEvents {
  const seen = new Map<string, PublishedEvent>();
  const listeners = new Set<(event: PublishedEvent) => void>();
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
    let replayed = 0;
    for (let page = 0; page < MAX_PAGES && listeners.size > 0; page += 1) {
      const events: readonly StoredEvent[] = await store.listEventsAfter({ status: 'PROCESSED' }, { limit: PAGE, after });
      for (const stored of events) {
        const event = toPublished(stored);
        if (!event || seen.has(event.eventId)) continue;
        admit(event);
        replayed += 1;
        for (const listener of [...listeners]) listener(event);
      }
      if (events.length < PAGE) break;
      after = (events[events.length - 1] as StoredEvent).id;
    }
    metrics?.countReplayed(replayed);
    logger.info({ replayed, lostAt: new Date(lostAt).toISOString() }, 'pubsub subscription restored; subscribers caught up from the store');
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
  };
}
