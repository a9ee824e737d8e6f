// Webhook ingest: route -> verify -> parse/normalize -> store -> onStored -> answer -> publish.
// A delivery whose payload names a known account (route) is verified with that
// account's webhook secrets and its events are stamped with the account.
// A delivery is acknowledged only once every event in it is durably stored;
// duplicates are stored once and published once; an authentic payload that
// cannot be normalized is stored as unprocessable and still acknowledged.
// `receive` resolves with what to answer as soon as the events are stored; the
// publish it starts runs on through the outbox, which also publishes whatever
// this publish could not (so a failed publish never waits for a redelivery).
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.js';
import type { ProviderName, WebhookRecord } from '../model.js';
import type { ParsedEvent, PayloadScope, Provider, VerifyResult, WebhookRequest } from '../providers/provider.js';
import { unprocessable } from '../providers/delivery.js';
import { traceInvalidate, tracePublish, traceStore, traceVerify } from './ingest-spans.js';
import { createOutbox, type Outbox } from './outbox.js';
import { createReplay, type ReplayFn } from './replay.js';
import { createStoredSecrets, type WebhookOwner } from './secrets.js';
import type { EventStore, InsertResult, NewEvent, PubSub, StoredEvent } from './types.js';

/** What to answer the provider: the HTTP status its retry rules need, and a JSON body. */
export interface IngestResult {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface Ingest {
  /** Verifies, stores and answers one delivery; publishing what it stored continues after the answer. */
  receive(provider: ProviderName, req: WebhookRequest): Promise<IngestResult>;
  /** Forget cached webhook secrets of a provider (after a webhook mutation). */
  invalidateSecrets(provider: ProviderName): void;
  /** Resolves once every publish started so far has finished. */
  drain(): Promise<void>;
  /** Re-runs a stored event through normalize -> store -> publish, idempotently (replay.ts). */
  readonly replay: ReplayFn;
}

export interface IngestOptions {
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  readonly store: EventStore;
  readonly pubsub: PubSub;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Publishes what is stored; give the gateway's so its sweep covers this ingest's failures. @default one of its own, not sweeping */
  readonly outbox?: Outbox;
  /** How long stored webhook secrets are reused before the store is asked again. @default 5_000 (ms) */
  readonly secretsTtlMs?: number;
  /**
   * Events of one delivery that are processed; a delivery with more is stored
   * once, as one unprocessable event saying why (nothing accepted is lost).
   * @default 100
   */
  readonly maxEventsPerDelivery?: number;
  /**
   * INVALIDATION HOOK: runs after the events are durably stored and BEFORE the
   * provider gets its 200 (entity cache invalidation goes here, so a query that
   * starts after the 200 never sees data older than the webhook). Gets the
   * stored events, duplicates included. If it rejects, the delivery is answered
   * with the provider's retry status (the events stay stored; the redelivery
   * dedupes and runs the hook again).
   */
  readonly onStored?: (events: readonly StoredEvent[]) => Promise<void>;
  /**
   * The account a delivery belongs to, by the ids its payload names (unverified
   * until its secret checks out); null when none is known: verified and stored
   * as before accounts. Failures count as null. @default none
   */
  readonly route?: (provider: ProviderName, scope: PayloadScope) => Promise<DeliveryRoute | null>;
}

export interface DeliveryRoute {
  /** The account id (`env` for the environment's, whose events carry none). */
  readonly account: string;
  /** Whether a mirrored webhook is the account's: only those secrets verify the delivery, when it has any. */
  owns(webhook: WebhookRecord): boolean;
}

const storeUnavailable = { error: 'store_unavailable', message: 'event store unreachable; retry later' };

export function createIngest(options: IngestOptions): Ingest {
  const { providers, store, pubsub, metrics, logger } = options;
  const outbox = options.outbox ?? createOutbox({ store, pubsub, logger, metrics });
  const secrets = createStoredSecrets(store, { ttlMs: options.secretsTtlMs ?? 5_000 });
  const maxEvents = options.maxEventsPerDelivery ?? 100;
  const inFlight = new Set<Promise<void>>();
  const replay = createReplay({
    providers,
    store,
    outbox,
    logger,
    onStored: options.onStored,
    maxEventsPerDelivery: maxEvents,
    route: async (name, json) => {
      const receiver = providers.get(name)?.receiver;
      const route = receiver ? await routeOf(name, receiver.scope(json)) : null;
      return route && route.account !== 'env' ? route.account : null;
    },
  });

  /** Publishes what this delivery inserted: the insert claimed it (duplicates were published by their first delivery, or are the outbox's). */
  function publishLater(inserted: readonly StoredEvent[]): void {
    const publishing = tracePublish(inserted, () => outbox.publish(inserted, { claimed: true }))
      .catch((err: unknown) => logger.error({ err }, 'publishing webhook events failed; the outbox retries them'))
      .finally(() => inFlight.delete(publishing));
    inFlight.add(publishing);
  }

  /** Verifies against the configured and stored secrets, re-reading the stored ones once on a failure. */
  async function verify(provider: Provider, name: ProviderName, req: WebhookRequest, only: WebhookOwner | undefined): Promise<VerifyResult> {
    let usedCache = false;
    const first = await provider.receiver.verify(req, {
      storedSecrets: () => {
        usedCache = secrets.cached(name);
        return secrets.get(name, only);
      },
    });
    if (first.ok) return first;
    const fresh = await secrets.refresh(name, usedCache, only);
    if (fresh === null) return first;
    return provider.receiver.verify(req, { storedSecrets: () => Promise.resolve(fresh) });
  }

  function parse(provider: Provider, name: ProviderName, req: WebhookRequest, json: unknown): readonly ParsedEvent[] | 'reject' {
    if (json === undefined) {
      return provider.receiver.invalidJson === 'reject' ? 'reject' : [unprocessable(req.rawBody, null, 'the request body is not valid JSON')];
    }
    const parsed = provider.receiver.parse(json, req);
    if (parsed.length <= maxEvents) return parsed;
    logger.warn({ provider: name, events: parsed.length, max: maxEvents }, 'webhook delivery over the event limit stored as unprocessable');
    return [unprocessable(req.rawBody, null, `the delivery holds ${parsed.length} events; at most ${maxEvents} are processed per delivery, so it is kept whole as unprocessable`)];
  }

  async function receive(name: ProviderName, req: WebhookRequest): Promise<IngestResult> {
    const provider = providers.get(name);
    if (!provider) return { status: 404, body: { error: 'provider_not_configured', message: `${name} is not configured on this gateway` } };
    const { receiver } = provider;
    const json = parseJson(req.rawBody);
    const route = json === undefined ? null : await routeOf(name, receiver.scope(json));

    let verified: VerifyResult;
    try {
      verified = await traceVerify(() => verify(provider, name, req, route ? (w) => route.owns(w) : undefined));
    } catch (err) {
      logger.warn({ err, provider: name }, 'webhook verification could not read stored secrets');
      metrics.countWebhook(name, 'store_unavailable');
      return { status: receiver.retryStatus, body: storeUnavailable };
    }
    if (!verified.ok) {
      metrics.countWebhook(name, 'unauthorized');
      logger.warn({ provider: name, reason: verified.reason }, 'webhook rejected: not authentic');
      return { status: 401, body: { error: 'unauthorized', message: verified.reason } };
    }

    const parsed = stamp(parse(provider, name, req, json), route);
    if (parsed === 'reject') {
      metrics.countWebhook(name, 'bad_request');
      return { status: 400, body: { error: 'invalid_json', message: 'the request body is not valid JSON' } };
    }

    const receivedAt = req.receivedAt.toISOString();
    const rawBody = req.rawBody.toString('utf8');
    let results: readonly InsertResult[];
    try {
      const account = route && route.account !== 'env' ? route.account : null;
      results = await traceStore(parsed.length, () => store.insertEvents(parsed.map((p) => toNewEvent(name, p, rawBody, receivedAt, account)), { claimForPublish: true }));
      const { onStored } = options;
      const stored = results.map((r) => r.event);
      if (onStored) await traceInvalidate(() => onStored(stored));
    } catch (err) {
      metrics.countWebhook(name, 'store_unavailable', parsed.length);
      logger.error({ err, provider: name }, 'webhook not acknowledged: event store unreachable or onStored failed');
      return { status: receiver.retryStatus, body: storeUnavailable };
    }
    publishLater(results.flatMap((r) => (r.inserted ? [r.event] : [])));
    return { status: 200, body: answer(name, results, metrics, logger) };
  }

  async function routeOf(name: ProviderName, scope: PayloadScope): Promise<DeliveryRoute | null> {
    if (!options.route) return null;
    try {
      return await options.route(name, scope);
    } catch (err) {
      logger.warn({ err, provider: name }, 'webhook not routed to its account: accounts unreadable; verified as before accounts');
      return null;
    }
  }

  return {
    receive,
    replay,
    invalidateSecrets(provider) {
      secrets.invalidate(provider);
    },
    async drain() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function parseJson(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Marks the events of a delivery routed to a stored account as that account's (their ids then name it). */
function stamp(parsed: readonly ParsedEvent[] | 'reject', route: DeliveryRoute | null): readonly ParsedEvent[] | 'reject' {
  if (parsed === 'reject' || !route || route.account === 'env') return parsed;
  const account = route.account;
  return parsed.map((p) => (p.result.ok ? { ...p, result: { ok: true, event: { ...p.result.event, message: { ...p.result.event.message, account } } } } : p));
}

function answer(name: ProviderName, results: readonly InsertResult[], metrics: GatewayMetrics, logger: Logger): Record<string, unknown> {
  let duplicates = 0;
  let rejected = 0;
  for (const r of results) {
    if (!r.inserted) duplicates++;
    else if (r.event.status === 'UNPROCESSABLE') rejected++;
    metrics.countWebhook(name, !r.inserted ? 'duplicate' : r.event.status === 'UNPROCESSABLE' ? 'unprocessable' : 'accepted');
    if (r.inserted && r.event.status === 'UNPROCESSABLE') {
      logger.warn({ provider: name, eventId: r.event.id, reason: r.event.reason }, 'webhook event stored as unprocessable');
    }
  }
  return { received: results.length, duplicates, unprocessable: rejected, eventIds: results.map((r) => r.event.id) };
}

function toNewEvent(provider: ProviderName, parsed: ParsedEvent, rawBody: string, receivedAt: string, account: string | null): NewEvent {
  const base = { provider, ...(account ? { account } : {}), eventKey: parsed.eventKey, providerEventType: parsed.providerEventType, rawBody, receivedAt };
  return parsed.result.ok
    ? { ...base, kind: parsed.result.event.kind, status: 'PROCESSED', reason: null, message: parsed.result.event.message }
    : { ...base, kind: null, status: 'UNPROCESSABLE', reason: parsed.result.reason, message: null };
}
