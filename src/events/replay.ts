// Replay of a stored webhook event after a fix (the `replayEvent` mutation; in
// this code base "replay" means only this): its raw body goes through the
// provider's parser again (normalize), the result goes through the ingest's
// persist step (persist.ts: stamp, store, after-stored hooks) and is handed
// to subscribers (publish), idempotently. An event stored as unprocessable that
// now normalizes becomes processed in place (same id, key and receivedAt) and is
// published once, whoever replays it and however often; a processed event is
// never published again (only an unpublished one is handed to the outbox).
// A delivery kept whole as one unprocessable event (not JSON, unknown shape)
// that now splits into events stores those as new events, deduplicated on
// their own keys like any delivery. The events keep the account their delivery
// was routed to; one stored without any is routed again by its payload's ids.
import type { Logger } from 'pino';
import type { ProviderName } from '../model.js';
import type { ParsedEvent, Provider, WebhookRequest } from '../providers/provider.js';
import type { Outbox } from './outbox.js';
import type { Persist } from './persist.js';
import type { EventLog, StoredEvent } from './types.js';

export type ReplayOutcome = 'PROCESSED' | 'ALREADY_PROCESSED' | 'STILL_UNPROCESSABLE';

export interface ReplayResult {
  readonly outcome: ReplayOutcome;
  /** The replayed event as stored after the replay. */
  readonly event: StoredEvent;
  /** Why it still cannot be normalized (STILL_UNPROCESSABLE only). */
  readonly reason: string | null;
  /** Events this replay stored besides `event` (a whole delivery that now splits into events). */
  readonly events: readonly StoredEvent[];
}

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(
    readonly kind: 'not_found' | 'provider_not_configured',
    message: string,
  ) {
    super(message);
  }
}

export interface ReplayOptions {
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  readonly log: EventLog;
  /** The ingest's persist step: what a replay stores runs the same after-stored hooks. */
  readonly persist: Persist;
  readonly outbox: Outbox;
  readonly logger: Logger;
  /** As in the ingest: a delivery with more events stays unprocessable. @default 100 */
  readonly maxEventsPerDelivery?: number;
  /**
   * A publish claim older than this on a still-unpublished event is presumed
   * failed, and the replay publishes the event itself (once: the claim decides).
   * @default 10_000 (10 seconds, the outbox lease)
   */
  readonly leaseMs?: number;
  /** The stored account a delivery's payload names (as the ingest routes it); null: none. @default none */
  readonly route?: (provider: ProviderName, json: unknown) => Promise<string | null>;
}

export type ReplayFn = (provider: ProviderName, id: string) => Promise<ReplayResult>;

export function createReplay(options: ReplayOptions): ReplayFn {
  const { providers, log, persist, outbox, logger } = options;
  const maxEvents = options.maxEventsPerDelivery ?? 100;
  const takeOver = { takeOverAfterMs: options.leaseMs ?? 10_000 };

  /** Publishes what is still unpublished; returns the events with `published` as it now is. */
  async function publish(events: readonly StoredEvent[]): Promise<StoredEvent[]> {
    const done = new Set(await outbox.publishReplayed(events, takeOver));
    return events.map((e) => (done.has(e.id) ? { ...e, published: true } : e));
  }

  /** Routing failures leave the event as it was stored: the environment's. */
  async function accountOf(name: ProviderName, stored: StoredEvent): Promise<string | null> {
    if (!options.route) return null;
    try {
      return await options.route(name, JSON.parse(stored.rawBody));
    } catch (err) {
      logger.warn({ err, provider: name, eventId: stored.id }, 'replayed event not routed to an account');
      return null;
    }
  }

  return async function replay(name, id) {
    const stored = await log.getEvent(id);
    if (!stored || stored.provider !== name) throw new ReplayError('not_found', `no stored ${name} event with id ${id} (unknown or past the retention)`);
    if (stored.status === 'PROCESSED') {
      const [event] = await publish([stored]);
      return { outcome: 'ALREADY_PROCESSED', event: event as StoredEvent, reason: null, events: [] };
    }
    const provider = providers.get(name);
    if (!provider) throw new ReplayError('provider_not_configured', `${name} is not configured on this gateway, so its events cannot be normalized`);

    const parsed = reparse(provider, stored, maxEvents);
    if (typeof parsed === 'string') return { outcome: 'STILL_UNPROCESSABLE', event: stored, reason: parsed, events: [] };
    const account = stored.account ?? (await accountOf(name, stored));
    const own = parsed.find((p) => p.eventKey === stored.eventKey);
    if (own) {
      if (!own.result.ok) return { outcome: 'STILL_UNPROCESSABLE', event: stored, reason: own.result.reason, events: [] };
      const updated = await persist.storeReplayed(stored, own, account);
      if (!updated) throw new ReplayError('not_found', `stored ${name} event ${id} was deleted during the replay (retention)`);
      const [event] = await publish([updated]);
      logger.info({ provider: name, eventId: id }, 'replayed an unprocessable webhook event: now processed');
      return { outcome: 'PROCESSED', event: event as StoredEvent, reason: null, events: [] };
    }

    const normalized = parsed.filter((p) => p.result.ok);
    if (normalized.length === 0) {
      const first = parsed.find((p) => !p.result.ok)?.result;
      return { outcome: 'STILL_UNPROCESSABLE', event: stored, reason: first && !first.ok ? first.reason : 'the delivery holds no events', events: [] };
    }
    const origin = { provider: name, rawBody: stored.rawBody, receivedAt: stored.receivedAt, account };
    const results = await persist.storeDelivery(origin, normalized, { source: 'replay' });
    const events = await publish(results.map((r) => r.event));
    const inserted = results.some((r) => r.inserted);
    if (inserted) logger.info({ provider: name, eventId: id, events: results.length }, 'replayed an unprocessable webhook delivery: stored its events');
    return { outcome: inserted ? 'PROCESSED' : 'ALREADY_PROCESSED', event: stored, reason: null, events };
  };
}

/** The events of the stored body as the provider's parser sees them now, or why there are none. */
function reparse(provider: Provider, stored: StoredEvent, maxEvents: number): readonly ParsedEvent[] | string {
  const req: WebhookRequest = { headers: {}, rawBody: Buffer.from(stored.rawBody, 'utf8'), receivedAt: new Date(stored.receivedAt) };
  let json: unknown;
  try {
    json = JSON.parse(stored.rawBody);
  } catch {
    return 'the request body is not valid JSON';
  }
  const parsed = provider.receiver.parse(json, req);
  if (parsed.length > maxEvents) return `the delivery holds ${parsed.length} events; at most ${maxEvents} are processed per delivery`;
  return parsed;
}
