// Carries outbound status changes to `outboundMessageUpdated` subscribers of
// every instance: in process without Redis, over one Redis channel with it.
// Only the doorbell: the store is the log, and a subscriber that resumes with
// `after` reads what it missed from there.
import type { RedisPair } from '../infra/clients.js';
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

export function createOutboundBus(redis: RedisPair | null, prefix = 'gw'): OutboundBus {
  const listeners = listenerSet();
  if (!redis) {
    return {
      publish: async (record) => listeners.emit(record),
      subscribe: (l) => listeners.add(l),
      listenerCount: () => listeners.size(),
      close: async () => undefined,
    };
  }
  // The gateway's shared pair: commands publish, the subscriber connection (shared with the
  // message-event pubsub, each taking only its own channel) listens.
  const channel = `${prefix}:outbound-updates`;
  const onMessage = (from: string, text: string): void => {
    if (from !== channel) return;
    try {
      listeners.emit(JSON.parse(text) as OutboundRecord);
    } catch {
      // not one of ours
    }
  };
  redis.subscriber.on('message', onMessage);
  let subscribing: Promise<unknown> | null = null;
  return {
    async publish(record) {
      await redis.command.publish(channel, JSON.stringify(record));
    },
    subscribe(l) {
      subscribing ??= redis.subscriber.subscribe(channel).catch(() => {
        subscribing = null;
      });
      return listeners.add(l);
    },
    listenerCount: () => listeners.size(),
    async close() {
      redis.subscriber.off('message', onMessage);
      if (subscribing) await redis.subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
