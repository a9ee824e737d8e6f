// Carries outbound status changes to `outboundMessageUpdated` subscribers of
// every instance: in process without Redis, over one Redis channel with it.
// Only the doorbell: the store is the log, and a subscriber that resumes with
// `after` reads what it missed from there.
import { Redis } from 'ioredis';
import type { OutboundRecord } from './types.js';

export interface OutboundBus {
  publish(record: OutboundRecord): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: (record: OutboundRecord) => void): () => void;
  /** Local subscribers (tests wait for a subscription to be in place). */
  listenerCount(): number;
  close(): Promise<void>;
}

function listenerSet(): { add(l: (r: OutboundRecord) => void): () => void; emit(r: OutboundRecord): void; size(): number } {
  const listeners = new Set<(r: OutboundRecord) => void>();
  return {
    add(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    size: () => listeners.size,
    emit(r) {
      for (const l of listeners) {
        try {
          l(r);
        } catch {
          // one subscriber's failure is not the others'
        }
      }
    },
  };
}

export function createOutboundBus(redisUrl: string | null, prefix = 'gw'): OutboundBus {
  const listeners = listenerSet();
  if (!redisUrl) {
    return {
      publish: async (record) => listeners.emit(record),
      subscribe: (l) => listeners.add(l),
      listenerCount: () => listeners.size(),
      close: async () => undefined,
    };
  }
  const channel = `${prefix}:outbound-updates`;
  const publisher = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 2 });
  const subscriber = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: null });
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  subscriber.on('message', (_channel: string, text: string) => {
    try {
      listeners.emit(JSON.parse(text) as OutboundRecord);
    } catch {
      // not one of ours
    }
  });
  let subscribing: Promise<unknown> | null = null;
  return {
    async publish(record) {
      await publisher.publish(channel, JSON.stringify(record));
    },
    subscribe(l) {
      subscribing ??= subscriber.subscribe(channel).catch(() => {
        subscribing = null;
      });
      return listeners.add(l);
    },
    listenerCount: () => listeners.size(),
    async close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
