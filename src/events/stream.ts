// The subscription stream: resume from the store after a cursor, then live
// from the pubsub, as one async iterator that graphql-ws drains. The live
// subscription starts before the resume reads the store, and live events are
// held until the resume is done, so nothing published in between is missed;
// ids the resume delivered are skipped when they also arrive live, so nothing
// comes twice. After a pubsub outage the gateway catches every stream up from
// the store (live-events.ts). graphql-ws calls `return()` when the client
// completes or the socket closes (even abruptly), which unsubscribes.
import type { Logger } from 'pino';
import type { AccountSet } from '../auth.js';
import type { GatewayMetrics } from '../metrics.js';
import type { MessageEventKind, ProviderName } from '../model.js';
import { decodeEventCursor, encodeEventCursor } from './cursor.js';
import type { LiveEvents } from './live-events.js';
import { isExpired } from './retention.js';
import { toPublished, type EventFilter, type EventLog, type PublishedEvent, type PubSub, type StoredEvent } from './types.js';

/** Events held for a subscriber that is not reading; past this its subscription ends (slow subscriber). */
export const MAX_BUFFERED_EVENTS = 1_000;
const RESUME_PAGE = 100;
/** How long resumed ids are remembered against a late live copy (outbox grace + lease, with margin). */
const RESUMED_MEMORY_MS = 60_000;

/** What a subscriber asked for, in provider terms (the resolver decodes global ids). */
export interface EventSelector {
  readonly kind: MessageEventKind;
  readonly provider?: ProviderName | null;
  readonly locationId?: string | null;
  readonly conversation?: { readonly provider: ProviderName; readonly providerId: string } | null;
  readonly contact?: { readonly provider: ProviderName; readonly providerId: string } | null;
  /** The subscriber's key reaches only these accounts (live and resumed events alike); null: every account. */
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
export async function checkCursor(log: EventLog, cursor: string, visible: (event: StoredEvent) => boolean = () => true): Promise<string> {
  const id = decodeEventCursor(cursor);
  if (id === null) throw new CursorError(`"after" is not an event cursor: "${cursor.slice(0, 80)}"`);
  const days = Math.round((log.retentionMs / 86_400_000) * 10) / 10;
  if (isExpired(id, log.retentionMs)) throw new CursorError(`"after" is older than the event retention (${days} days); subscribe without it`);
  const event = await log.getEvent(id);
  if (!event || !visible(event)) throw new CursorError(`"after" names no stored event (unknown or past the ${days}-day retention)`);
  return id;
}

export interface EventStreamDeps {
  readonly pubsub: PubSub;
  readonly store: EventLog;
  /** The gateway's dedupe and catch-up, shared by all its streams. */
  readonly liveEvents: LiveEvents;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export interface EventStreamOptions {
  /** An event id (checked with checkCursor): resume with what was stored after it first. */
  readonly after?: string | null;
  /** @default MAX_BUFFERED_EVENTS */
  readonly maxBuffered?: number;
}

type Waiter = { resolve: (r: IteratorResult<DeliveredEvent>) => void; reject: (e: unknown) => void };

/** The subscriber's side: a bounded queue, the cursor, and the end of the stream. */
function createQueue(deps: EventStreamDeps, maxBuffered: number, after: string, onEnd: () => void) {
  const { metrics, logger } = deps;
  const queue: PublishedEvent[] = [];
  let waiting: Waiter | null = null;
  let failure: Error | null = null;
  let done = false;
  /** The largest id delivered: the cursor, so resuming never repeats an event delivered out of id order. */
  let cursorId = after;
  let readable: (() => void) | null = null;

  const hand = (event: PublishedEvent): DeliveredEvent => {
    if (event.eventId > cursorId) cursorId = event.eventId;
    return { ...event, cursor: encodeEventCursor(cursorId) };
  };
  function finish(): IteratorResult<DeliveredEvent> {
    if (!done) {
      done = true;
      onEnd();
      waiting?.resolve({ value: undefined, done: true });
      waiting = null;
    }
    return { value: undefined, done: true };
  }
  function fail(error: Error): void {
    failure = error;
    queue.length = 0;
    const rejecting = waiting;
    waiting = null;
    rejecting?.reject(error);
    finish();
  }
  function deliver(event: PublishedEvent): void {
    if (done) return;
    if (waiting) {
      const { resolve } = waiting;
      waiting = null;
      resolve({ value: hand(event), done: false });
    } else if (queue.length >= maxBuffered) {
      metrics.countSlowSubscriber();
      logger.warn({ buffered: queue.length }, 'subscriber too slow: subscription ended');
      fail(new Error(`subscriber too slow: ${queue.length} events unread; resubscribe with after: "${encodeEventCursor(cursorId || event.eventId)}" to resume`));
    } else {
      queue.push(event);
    }
  }
  function next(): Promise<IteratorResult<DeliveredEvent>> {
    if (failure) return Promise.reject(failure);
    const event = queue.shift();
    if (queue.length <= RESUME_PAGE / 2 && readable) {
      const wake = readable;
      readable = null;
      wake();
    }
    if (event) return Promise.resolve({ value: hand(event), done: false });
    if (done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (waiting = { resolve, reject }));
  }
  /** Resolves once the subscriber has taken most of what is queued (or the stream ended). */
  async function drained(): Promise<void> {
    while (queue.length > RESUME_PAGE / 2 && !done) await new Promise<void>((resolve) => (readable = resolve));
  }
  const release = (): void => readable?.();
  return { deliver, fail, finish, next, drained, release, isDone: () => done };
}

type Queue = ReturnType<typeof createQueue>;

/** Reads what was stored after `after`, delivering the matching events; resolves with their ids. */
async function resumeFromStore(deps: EventStreamDeps, selector: EventSelector, after: string, queue: Queue, resumed: Set<string>): Promise<void> {
  let from = after;
  let count = 0;
  for (;;) {
    const page: readonly StoredEvent[] = await deps.store.listEventsAfter(storeFilter(selector), { limit: RESUME_PAGE, after: from });
    for (const stored of page) {
      const event = toPublished(stored);
      if (!event || !matches(selector, event)) continue;
      resumed.add(event.eventId);
      count += 1;
      queue.deliver(event);
    }
    if (page.length < RESUME_PAGE || queue.isDone()) break;
    from = (page[page.length - 1] as StoredEvent).id;
    // Read the next page only once the subscriber has taken most of this one.
    await queue.drained();
  }
  deps.metrics.countReplayed(count);
}

export function openEventStream(deps: EventStreamDeps, selector: EventSelector, options: EventStreamOptions = {}): AsyncIterableIterator<DeliveredEvent> {
  const { pubsub, liveEvents, metrics, logger } = deps;
  let resuming = Boolean(options.after);
  let held: PublishedEvent[] = [];
  let resumed: Set<string> | null = null;
  const queue = createQueue(deps, options.maxBuffered ?? MAX_BUFFERED_EVENTS, options.after ?? '', () => {
    unsubscribe();
    stopCatchUp();
    metrics.subscriptions.dec();
  });
  const onLive = (incoming: PublishedEvent): void => {
    const event = liveEvents.admit(incoming);
    if (queue.isDone() || !event || !matches(selector, event) || resumed?.has(event.eventId)) return;
    if (resuming) held.push(event);
    else queue.deliver(event);
  };
  const unsubscribe = pubsub.subscribe(onLive);
  const stopCatchUp = liveEvents.onCatchUp(onLive);
  metrics.subscriptions.inc();

  async function resume(after: string): Promise<void> {
    const seen = new Set<string>();
    resumed = seen;
    await resumeFromStore(deps, selector, after, queue, seen);
    resuming = false;
    const live = held;
    held = [];
    for (const event of live) if (!seen.has(event.eventId)) queue.deliver(event);
    setTimeout(() => {
      if (resumed === seen) resumed = null;
    }, RESUMED_MEMORY_MS).unref();
  }

  if (options.after) {
    resume(options.after).catch((err: unknown) => {
      logger.error({ err }, 'resuming a subscription from the store failed');
      // The client-facing wording predates 'resume'; clients may match on it.
      queue.fail(new Error('replaying stored events failed: event store unreachable; resubscribe with the same "after" to try again'));
    });
  }

  return {
    next: () => queue.next(),
    return() {
      queue.release();
      return Promise.resolve(queue.finish());
    },
    throw(err: unknown) {
      queue.finish();
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
