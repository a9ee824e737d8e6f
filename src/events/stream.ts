// The subscription stream: replay from the store after a cursor, then live
// from the pubsub, as one async iterator that graphql-ws drains. The live
// subscription starts before the replay reads the store, and live events are
// held until the replay is done, so nothing published in between is missed;
// ids the replay delivered are skipped when they also arrive live, so nothing
// comes twice. After a pubsub outage the process catches every stream up from
// the store (catch-up.ts). graphql-ws calls `return()` when the client
// completes or the socket closes (even abruptly), which unsubscribes.
import type { Logger } from 'pino';
import type { AccountSet } from '../auth.js';
import type { GatewayMetrics } from '../metrics.js';
import type { MessageEventKind, ProviderName } from '../model.js';
import { sharedEvents } from './catch-up.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { isExpired } from './store/retention.js';
import { toPublished, type EventFilter, type EventStore, type PublishedEvent, type PubSub, type StoredEvent } from './types.js';

/** Events held for a subscriber that is not reading; past this its subscription ends (slow subscriber). */
export const MAX_BUFFERED_EVENTS = 1_000;
const REPLAY_PAGE = 100;
/** How long replayed ids are remembered against a late live copy (outbox grace + lease, with margin). */
const REPLAYED_MEMORY_MS = 60_000;

/** What a subscriber asked for, in provider terms (the resolver decodes global ids). */
export interface EventSelector {
  readonly kind: MessageEventKind;
  readonly provider?: ProviderName | null;
  readonly locationId?: string | null;
  readonly conversation?: { readonly provider: ProviderName; readonly providerId: string } | null;
  readonly contact?: { readonly provider: ProviderName; readonly providerId: string } | null;
  /** The subscriber's key reaches only these accounts (live and replayed events alike); null: every account. */
  readonly accounts?: AccountSet | null;
}

/** An event as one subscription delivers it: with the cursor to resume after it. */
export type DeliveredEvent = PublishedEvent & { readonly cursor: string };

export function matches(selector: EventSelector, e: PublishedEvent): boolean {
  const { kind, provider, locationId, conversation, contact, accounts } = selector;
  return (
    e.kind === kind &&
    (!accounts || accounts.has(e.provider, e.message.account)) &&
    (!provider || e.provider === provider) &&
    (!locationId || e.message.locationId === locationId) &&
    (!conversation || (e.provider === conversation.provider && e.message.conversationId === conversation.providerId)) &&
    (!contact || (e.provider === contact.provider && e.message.contactRef === contact.providerId))
  );
}

/** The part of a selector the store can filter on; `matches` does the rest. */
function storeFilter(selector: EventSelector): EventFilter {
  return {
    status: 'PROCESSED',
    kind: selector.kind,
    provider: selector.provider ?? selector.conversation?.provider ?? selector.contact?.provider ?? null,
    conversationId: selector.conversation?.providerId ?? null,
    accounts: selector.accounts?.refs() ?? null,
  };
}

export class CursorError extends Error {
  override readonly name = 'CursorError';
}

/**
 * The event id to resume after; throws a CursorError saying what is wrong with the cursor.
 * An event the subscriber may not see (another tenant's) is as unknown as one never stored,
 * so a cursor cannot tell a tenant that some other account's event exists.
 */
export async function checkCursor(store: EventStore, cursor: string, visible: (event: StoredEvent) => boolean = () => true): Promise<string> {
  const id = decodeCursor(cursor);
  if (id === null) throw new CursorError(`"after" is not an event cursor: "${cursor.slice(0, 80)}"`);
  const days = Math.round((store.retentionMs / 86_400_000) * 10) / 10;
  if (isExpired(id, store.retentionMs)) throw new CursorError(`"after" is older than the event retention (${days} days); subscribe without it`);
  const event = await store.getEvent(id);
  if (!event || !visible(event)) throw new CursorError(`"after" names no stored event (unknown or past the ${days}-day retention)`);
  return id;
}

export interface EventStreamDeps {
  readonly pubsub: PubSub;
  readonly store: EventStore;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export interface EventStreamOptions {
  /** An event id (checked with checkCursor): replay what was stored after it first. */
  readonly after?: string | null;
  /** Runs as each event is handed to the subscriber (per-event resolver state). */
  readonly onEvent?: (event: PublishedEvent) => void;
  /** @default MAX_BUFFERED_EVENTS */
  readonly maxBuffered?: number;
}

export function openEventStream(deps: EventStreamDeps, selector: EventSelector, options: EventStreamOptions = {}): AsyncIterableIterator<DeliveredEvent> {
  const { pubsub, store, metrics, logger } = deps;
  const maxBuffered = options.maxBuffered ?? MAX_BUFFERED_EVENTS;
  const events = sharedEvents(pubsub, store, logger, metrics);
  const queue: PublishedEvent[] = [];
  let waiting: { resolve: (r: IteratorResult<DeliveredEvent>) => void; reject: (e: unknown) => void } | null = null;
  let failure: Error | null = null;
  let done = false;
  /** The largest id delivered: the cursor, so resuming never repeats an event delivered out of id order. */
  let cursorId = options.after ?? '';
  let replaying = Boolean(options.after);
  let held: PublishedEvent[] = [];
  let replayed: Set<string> | null = null;
  let readable: (() => void) | null = null;

  const deliver = (event: PublishedEvent): void => {
    if (done) return;
    if (waiting) {
      const { resolve } = waiting;
      waiting = null;
      resolve({ value: hand(event), done: false });
      return;
    }
    if (queue.length >= maxBuffered) {
      metrics.countSlowSubscriber();
      logger.warn({ buffered: queue.length }, 'subscriber too slow: subscription ended');
      fail(new Error(`subscriber too slow: ${queue.length} events unread; resubscribe with after: "${encodeCursor(cursorId || event.eventId)}" to resume`));
      return;
    }
    queue.push(event);
  };
  const hand = (event: PublishedEvent): DeliveredEvent => {
    if (event.eventId > cursorId) cursorId = event.eventId;
    options.onEvent?.(event);
    return { ...event, cursor: encodeCursor(cursorId) };
  };
  const onLive = (incoming: PublishedEvent): void => {
    const event = events.admit(incoming);
    if (done || !event || !matches(selector, event) || replayed?.has(event.eventId)) return;
    if (replaying) held.push(event);
    else deliver(event);
  };

  const unsubscribe = pubsub.subscribe(onLive);
  const stopCatchUp = events.onCatchUp(onLive);
  metrics.subscriptions.inc();

  function fail(error: Error): void {
    failure = error;
    queue.length = 0;
    if (waiting) {
      const { reject } = waiting;
      waiting = null;
      reject(error);
    }
    finish();
  }
  function finish(): IteratorResult<DeliveredEvent> {
    if (!done) {
      done = true;
      unsubscribe();
      stopCatchUp();
      metrics.subscriptions.dec();
      waiting?.resolve({ value: undefined, done: true });
      waiting = null;
    }
    return { value: undefined, done: true };
  }

  async function replay(after: string): Promise<void> {
    const seen = new Set<string>();
    replayed = seen;
    let from = after;
    let count = 0;
    for (;;) {
      const page: readonly StoredEvent[] = await store.listEventsAfter(storeFilter(selector), { limit: REPLAY_PAGE, after: from });
      for (const stored of page) {
        const event = toPublished(stored);
        if (!event || !matches(selector, event)) continue;
        seen.add(event.eventId);
        count += 1;
        deliver(event);
      }
      if (page.length < REPLAY_PAGE || done) break;
      from = (page[page.length - 1] as StoredEvent).id;
      // Read the next page only once the subscriber has taken most of this one.
      while (queue.length > REPLAY_PAGE / 2 && !done) await new Promise<void>((resolve) => (readable = resolve));
    }
    metrics.countReplayed(count);
    replaying = false;
    const live = held;
    held = [];
    for (const event of live) if (!seen.has(event.eventId)) deliver(event);
    setTimeout(() => {
      if (replayed === seen) replayed = null;
    }, REPLAYED_MEMORY_MS).unref();
  }

  if (options.after) {
    replay(options.after).catch((err: unknown) => {
      logger.error({ err }, 'replaying stored events for a subscription failed');
      fail(new Error('replaying stored events failed: event store unreachable; resubscribe with the same "after" to try again'));
    });
  }

  return {
    next() {
      if (failure) return Promise.reject(failure);
      const event = queue.shift();
      if (queue.length <= REPLAY_PAGE / 2 && readable) {
        const wake = readable;
        readable = null;
        wake();
      }
      if (event) return Promise.resolve({ value: hand(event), done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return() {
      readable?.();
      return Promise.resolve(finish());
    },
    throw(err: unknown) {
      finish();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
