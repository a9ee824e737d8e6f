// The in-process pubsub (development, single instance) and the local fan-out
// the Redis pubsub reuses for its own listeners. A listener that throws is
// reported and skipped: one broken subscription must not starve the others.
import type { PubSub, PublishedEvent } from '../types.js';

export interface PubSubOptions {
  /**
   * Receives what a listener threw (and, for Redis, a message that could not be
   * decoded). Delivery to the other listeners goes on either way.
   * @default emits a Node.js process warning
   */
  readonly onError?: (error: unknown) => void;
}

/** Local listeners of one pubsub instance. */
export interface ListenerSet {
  add(listener: (event: PublishedEvent) => void): () => void;
  deliver(event: PublishedEvent): void;
  readonly size: number;
}

export function reportToProcess(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), { type: 'PubSubListenerError' });
}

export function createListenerSet(onError: (error: unknown) => void = reportToProcess): ListenerSet {
  const listeners = new Set<(event: PublishedEvent) => void>();
  return {
    add(listener) {
      // Wrapped so the same function can be subscribed twice and each
      // unsubscribe removes exactly its own subscription.
      const entry = (event: PublishedEvent): void => listener(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    deliver(event) {
      // A snapshot: listeners added or removed by a listener take effect from the next event.
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch (error) {
          onError(error);
        }
      }
    },
    get size() {
      return listeners.size;
    },
  };
}

export function createMemoryPubSub(options: PubSubOptions = {}): PubSub {
  const listeners = createListenerSet(options.onError);
  return {
    async publish(event: PublishedEvent): Promise<void> {
      listeners.deliver(event);
    },
    subscribe(listener: (event: PublishedEvent) => void): () => void {
      return listeners.add(listener);
    },
    listenerCount(): number {
      return listeners.size;
    },
    async ping(): Promise<void> {},
    async close(): Promise<void> {},
  };
}
