// Drives what the mutation did not finish: queued sends whose turn came,
// sends whose attempt was interrupted (their lease ran out: a crash, a kill
// -9, a timeout), and the expiry sweep. Every instance runs one; the lease
// guard in the store lets exactly one of them take each send.
import type { Logger } from 'pino';
import type { Dispatcher } from './dispatch.js';
import type { OutboundStore } from './types.js';

export interface OutboundWorkerOptions {
  /** How often it looks for due sends. @default 500 (ms) */
  readonly intervalMs?: number;
  /** How often expired sends are deleted. @default 300_000 (5 minutes) */
  readonly sweepMs?: number;
  /** Queue depth and age, after each pass (metrics). */
  readonly onQueue?: (depth: number, oldestAgeSeconds: number) => void;
}

export interface OutboundWorker {
  start(): void;
  stop(): Promise<void>;
  /** One pass now (tests, and right after start). */
  runOnce(): Promise<void>;
}

const BATCH = 50;
/** No client waits on the worker: a queued send may wait this long for its budget slot. */
export const WORKER_BUDGET_WAIT_MS = 5_000;

export function createOutboundWorker(store: OutboundStore, dispatcher: Dispatcher, logger: Logger, options: OutboundWorkerOptions = {}): OutboundWorker {
  const intervalMs = options.intervalMs ?? 500;
  const sweepMs = options.sweepMs ?? 300_000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let lastSweep = 0;

  async function pass(): Promise<void> {
    const due = await store.due(Date.now(), BATCH);
    // In order per conversation: one at a time within a conversation, conversations side by side.
    const byConversation = new Map<string, typeof due>();
    for (const r of due) {
      const key = `${r.scope}/${r.target.conversationId ?? r.target.contactRef ?? r.id}`;
      byConversation.set(key, [...(byConversation.get(key) ?? []), r]);
    }
    await Promise.all(
      [...byConversation.values()].map(async (records) => {
        for (const r of records) {
          // A send requeued for later still goes before the ones queued behind it.
          if (r.status === 'QUEUED' && (await store.queuedBefore(r)) > 0) break;
          const after = await dispatcher.attempt(r, { budgetWaitMs: WORKER_BUDGET_WAIT_MS });
          if (after.status === 'QUEUED') break; // still no budget: the later ones wait behind it
        }
      }),
    );
    if (Date.now() - lastSweep >= sweepMs) {
      lastSweep = Date.now();
      await store.sweep(Date.now());
    }
    if (options.onQueue) {
      const { depth, oldest } = await store.queueStats();
      options.onQueue(depth, oldest === null ? 0 : (Date.now() - oldest) / 1000);
    }
  }

  function runOnce(): Promise<void> {
    running ??= pass()
      .catch((err: unknown) => logger.warn({ err }, 'outbound worker pass failed; retrying'))
      .finally(() => {
        running = null;
      });
    return running;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => void runOnce(), intervalMs);
      timer.unref();
      void runOnce();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
    runOnce,
  };
}
