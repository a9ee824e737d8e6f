// The outbox: the store is the log, the pubsub only the doorbell. Every stored,
// processed event reaches the pubsub once: first right after the 200 (the
// ingest's own publish, which goes through here), and otherwise from the
// sweep, which runs at start-up and every `intervalMs` on every instance and
// publishes what is still unpublished: events whose publish failed, and events
// of a process that died between the 200 and the publish. The claim in the
// store picks one publisher; a claim older than `leaseMs` on a still-unpublished
// event is presumed abandoned and taken over by exactly one instance. Every
// publish in flight is tracked here, and only here.
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.js';
import { idFloor } from './cursor.js';
import { toPublished, type ClaimOptions, type EventLog, type PublishClaims, type PubSub, type StoredEvent } from './types.js';

export interface OutboxOptions {
  /** The event log the sweep scans. */
  readonly log: EventLog;
  readonly claims: PublishClaims;
  readonly pubsub: PubSub;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
  /** Time between sweeps. @default 1_000 (ms) */
  readonly intervalMs?: number;
  /** Age an unpublished event must reach before the sweep takes it from the ingest's own publish. @default 2_000 (ms) */
  readonly graceMs?: number;
  /** Age of a claim after which an unpublished event is claimed again. Longer than any publish should take. @default 10_000 (ms) */
  readonly leaseMs?: number;
  /** Events per store read in a sweep. @default 100 */
  readonly batchSize?: number;
}

export interface Outbox {
  /**
   * Publishes freshly stored events (those no one else claimed); a failure is left to the sweep.
   * `claimed`: the events were claimed in their insert (InsertOptions.claimForPublish), so no claim is taken here.
   */
  publish(events: readonly StoredEvent[], options?: { readonly claimed?: boolean }): Promise<void>;
  /**
   * A replay's publish: like `publish`, but a claim older than
   * `takeOverAfterMs` on a still-unpublished event is taken over (the sweep
   * may be past an event that was just made processed). Resolves with the ids
   * this call published.
   */
  publishReplayed(events: readonly StoredEvent[], claim: Required<ClaimOptions>): Promise<readonly string[]>;
  /** One pass over the unpublished events; resolves with how many it published. */
  sweep(): Promise<number>;
  /** Sweeps now, then every `intervalMs`, until stop(). */
  start(): void;
  /** Resolves once every publish started so far has finished. */
  drain(): Promise<void>;
  /** Stops sweeping and waits for every publish in flight. */
  stop(): Promise<void>;
}

/** The largest id below `id` (ids are fixed-width lowercase hex), for an exclusive `after`. */
function idBefore(id: string): string {
  return id.slice(0, -1) + (id.endsWith('0') ? '' : (parseInt(id.slice(-1), 16) - 1).toString(16));
}

/** Pages one sweep reads at most, so a backlog cannot hold a sweep forever. */
const MAX_PAGES_PER_SWEEP = 20;

type Publisher = ReturnType<typeof createPublisher>;

/** Claiming and publishing, shared by the ingest's publish, re-normalizations and the sweep. */
function createPublisher(options: OutboxOptions) {
  const { claims, pubsub, logger, metrics } = options;
  /** Claims this instance holds on events it failed to publish: retried without waiting for the lease. */
  const failedHere = new Set<string>();

  /** Publishes the events this caller claimed, in order; marks the ones that made it. */
  async function publishClaimed(claimed: readonly StoredEvent[], path: 'ingest' | 'outbox'): Promise<string[]> {
    const published: string[] = [];
    // Sent without waiting on each other: the pubsub keeps their order.
    const outcomes = await Promise.allSettled(claimed.map((e) => pubsub.publish(toPublished(e)!)));
    outcomes.forEach((outcome, i) => {
      const event = claimed[i] as StoredEvent;
      if (outcome.status === 'fulfilled') {
        published.push(event.id);
        failedHere.delete(event.id);
      } else {
        failedHere.add(event.id);
        metrics?.countPublishFailure();
        logger.error({ err: outcome.reason, eventId: event.id, provider: event.provider }, 'publishing a stored event failed; the outbox retries it');
      }
    });
    metrics?.countPublished(path, published.length);
    // If this fails the events stay offered; a second publish is dropped by subscribers' dedupe.
    await claims.markPublished(published).catch((err: unknown) => logger.error({ err }, 'recording published events failed'));
    return published;
  }

  async function claimAll(events: readonly StoredEvent[], takeOver: (e: StoredEvent) => number | undefined): Promise<StoredEvent[]> {
    const candidates = publishable(events);
    const won = await Promise.all(
      candidates.map((e) => {
        const takeOverAfterMs = takeOver(e);
        return claims.claimPublish(e.id, takeOverAfterMs === undefined ? {} : { takeOverAfterMs }).catch((err: unknown) => {
          logger.error({ err, eventId: e.id }, 'claiming a stored event for publishing failed; the outbox retries it');
          return false;
        });
      }),
    );
    return candidates.filter((_, i) => won[i]);
  }

  return { publishClaimed, claimAll, failedHere: (id: string) => failedHere.has(id) };
}

/** The sweep: scans from a floor below which every processed event is published, and raises it. */
function createSweep(options: OutboxOptions, publisher: Publisher): () => Promise<number> {
  const { log } = options;
  const graceMs = options.graceMs ?? 2_000;
  const leaseMs = options.leaseMs ?? 10_000;
  const batchSize = options.batchSize ?? 100;
  /**
   * Every processed event below this id is published: sweeps scan from here.
   * Starts at the retention horizon, so a restarted process looks at
   * everything still kept once, then only at what is new.
   */
  let floor: string | null = idFloor(Date.now() - log.retentionMs);

  return async function sweepOnce() {
    let count = 0;
    const before = idFloor(Date.now() - graceMs);
    let after: string | null = floor;
    /** The first event of this sweep still unpublished: the next sweeps start there. */
    let firstLeft: string | null = null;
    for (let page = 0; page < MAX_PAGES_PER_SWEEP; page += 1) {
      const scan = await log.scanUnpublished({ limit: batchSize, after, before });
      const claimed = await publisher.claimAll(scan.events, (e) => (publisher.failedHere(e.id) ? 0 : leaseMs));
      const done = await publisher.publishClaimed(claimed, 'outbox');
      count += done.length;
      firstLeft ??= scan.events.find((e) => !done.includes(e.id))?.id ?? null;
      if (scan.scannedTo === null) {
        after = null;
        break;
      }
      after = scan.scannedTo;
    }
    // Everything below the floor is published; scanning resumes just below the first one left.
    const reached = after ?? before;
    const next = firstLeft !== null && firstLeft < reached ? idBefore(firstLeft) : reached;
    if (floor === null || next > floor) floor = next;
    return count;
  };
}

export function createOutbox(options: OutboxOptions): Outbox {
  const { logger } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const publisher = createPublisher(options);
  const sweepOnce = createSweep(options, publisher);
  const inFlight = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | null = null;
  let sweeping: Promise<number> | null = null;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };
  const drain = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  const sweep = (): Promise<number> => {
    sweeping ??= track(sweepOnce()).finally(() => (sweeping = null));
    return sweeping;
  };

  return {
    async publish(events, publishOptions = {}) {
      const claimed = publishOptions.claimed ? Promise.resolve(publishable(events)) : publisher.claimAll(events, () => undefined);
      await track(claimed.then((won) => publisher.publishClaimed(won, 'ingest')));
    },
    publishReplayed(events, claim) {
      return track(publisher.claimAll(events, () => claim.takeOverAfterMs).then((claimed) => publisher.publishClaimed(claimed, 'ingest')));
    },
    sweep,
    start() {
      if (timer) return;
      const tick = (): void => {
        sweep().catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'outbox sweep failed; retrying'));
      };
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    drain,
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await drain();
    },
  };
}

/** The events there is something to publish for: not published yet, and processed into a message event. */
function publishable(events: readonly StoredEvent[]): StoredEvent[] {
  return events.filter((e) => !e.published && toPublished(e) !== null);
}
