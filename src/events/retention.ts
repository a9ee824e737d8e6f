// How long events are kept, and the sweep that enforces it on its own timer.
// Neither FerretDB nor the embedded store has TTL indexes, so retention is a
// periodic range delete on the time-ordered ids (the primary index serves it);
// it runs on every instance, and concurrent deletes of the same range are harmless.
import type { Logger } from 'pino';
import { idFloor, idTime } from './cursor.js';
import type { EventLog, PublishClaims } from './types.js';

/** 7 days: what a subscriber may be away and still resume without a gap. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Whether an event id is older than a retention window ending now. */
export function isExpired(eventId: string, retentionMs: number, now = Date.now()): boolean {
  return idTime(eventId) < now - retentionMs;
}

/** Deletes events with ids below `before`, then their publish claims; resolves with how many events went. */
export async function deleteEventsBefore(log: EventLog, claims: PublishClaims, before: string): Promise<number> {
  const deleted = await log.deleteEventsBefore(before);
  // Claims of events already gone: nobody can publish those any more.
  await claims.forgetBefore(before);
  return deleted;
}

/** Deletes what is past the log's retention; resolves with how many events went. */
export function enforceRetention(log: EventLog, claims: PublishClaims, now = Date.now()): Promise<number> {
  return deleteEventsBefore(log, claims, idFloor(now - log.retentionMs));
}

export interface RetentionOptions {
  readonly log: EventLog;
  readonly claims: PublishClaims;
  readonly logger: Logger;
  /** Time between deletes. @default 60_000 (1 minute) */
  readonly intervalMs?: number;
  /** The clock the retention window ends at (tests). @default Date.now */
  readonly now?: () => number;
}

export interface Retention {
  /** Deletes now, then every `intervalMs`, until stop(). */
  start(): void;
  /** Stops the timer and waits for a delete in progress. */
  stop(): Promise<void>;
}

export function createRetention(options: RetentionOptions): Retention {
  const { log, claims, logger } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  const tick = (): void => {
    running ??= enforceRetention(log, claims, now())
      .then((deleted) => {
        if (deleted > 0) logger.info({ deleted }, 'deleted events past the retention');
      })
      .catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'retention delete failed; retrying'))
      .finally(() => (running = null));
  };

  return {
    start() {
      if (timer) return;
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
