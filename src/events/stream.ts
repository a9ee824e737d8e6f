// The subscription stream: pubsub -> filter -> a per-subscriber async iterator
// that graphql-ws drains. graphql-ws calls `return()` when the client completes
// or the socket closes (even abruptly), which unsubscribes.
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.js';
import type { MessageEventKind, ProviderName } from '../model.js';
import type { PublishedEvent, PubSub } from './types.js';

/** Events buffered for a subscriber that is not reading; older ones are dropped past this. */
const MAX_BUFFERED_EVENTS = 1_000;

/** What a subscriber asked for, in provider terms (the resolver decodes global ids). */
export interface EventSelector {
  readonly kind: MessageEventKind;
  readonly provider?: ProviderName | null;
  readonly locationId?: string | null;
  readonly conversation?: { readonly provider: ProviderName; readonly providerId: string } | null;
  readonly contact?: { readonly provider: ProviderName; readonly providerId: string } | null;
}

export function matches(selector: EventSelector, e: PublishedEvent): boolean {
  const { kind, provider, locationId, conversation, contact } = selector;
  return (
    e.kind === kind &&
    (!provider || e.provider === provider) &&
    (!locationId || e.message.locationId === locationId) &&
    (!conversation || (e.provider === conversation.provider && e.message.conversationId === conversation.providerId)) &&
    (!contact || (e.provider === contact.provider && e.message.contactRef === contact.providerId))
  );
}

export interface EventStreamDeps {
  readonly pubsub: PubSub;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export function openEventStream(deps: EventStreamDeps, selector: EventSelector, onNext: () => void = () => undefined): AsyncIterableIterator<PublishedEvent> {
  const { pubsub, metrics, logger } = deps;
  const queue: PublishedEvent[] = [];
  let waiting: ((r: IteratorResult<PublishedEvent>) => void) | null = null;
  let done = false;
  const unsubscribe = pubsub.subscribe((event) => {
    if (done || !matches(selector, event)) return;
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve({ value: event, done: false });
      return;
    }
    if (queue.length >= MAX_BUFFERED_EVENTS) {
      queue.shift();
      logger.warn('subscriber too slow: dropped its oldest buffered event');
    }
    queue.push(event);
  });
  metrics.subscriptions.inc();

  function finish(): IteratorResult<PublishedEvent> {
    if (!done) {
      done = true;
      unsubscribe();
      metrics.subscriptions.dec();
      waiting?.({ value: undefined, done: true });
      waiting = null;
    }
    return { value: undefined, done: true };
  }

  return {
    next() {
      onNext();
      const event = queue.shift();
      if (event) return Promise.resolve({ value: event, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
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
