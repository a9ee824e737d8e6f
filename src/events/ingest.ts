// Webhook ingest: route -> verify -> parse/normalize -> persist (stamp, store,
// after-stored hooks: persist.ts) -> answer -> publish.
// A delivery whose payload names a known account (route) is verified with that
// account's webhook secrets and its events are stamped with the account.
// A delivery is acknowledged only once every event in it is durably stored and
// the after-stored hooks ran; duplicates are stored once and published once; an
// authentic payload that cannot be normalized is stored as unprocessable and
// still acknowledged. `receive` resolves with what to answer as soon as that is
// done; the publish it starts runs on through the outbox, which tracks it and
// also publishes whatever it could not (so a failed publish never waits for a
// redelivery).
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.js';
import type { ProviderName, WebhookRecord } from '../model.js';
import type { ParsedEvent, PayloadScope, Provider, VerifyResult, WebhookRequest } from '../providers/provider.js';
import { unprocessable } from '../providers/delivery.js';
import { tracePublish, traceVerify } from './ingest-spans.js';
import { createOutbox, type Outbox } from './outbox.js';
import { createPersist, type AfterStoredHook } from './persist.js';
import { createReplay, type ReplayFn } from './replay.js';
import { createStoredSecrets, createWebhookCreations, type StoredSecrets, type WebhookOwner } from './secrets.js';
import type { EventStore, InsertResult, PubSub } from './types.js';

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
  /**
   * Marks a webhook creation for `provider` in progress until the returned
   * function is called: a delivery failing verification meanwhile waits for
   * its secret (a Smooch delivery can arrive before its webhook's secret is saved).
   */
  beginWebhookCreation(provider: ProviderName): () => void;
  /** Resolves once every publish started so far has finished (the outbox's). */
  drain(): Promise<void>;
  /** Re-runs a stored event through normalize -> persist -> publish, idempotently (replay.ts). */
  readonly replay: ReplayFn;
}

export interface IngestOptions {
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  /** The event log, the publish claims (for an outbox of its own) and the webhook mirror (secrets). */
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
   * Hooks run after a delivery's (or a replay's) events are durably stored and
   * BEFORE the provider gets its 200; see AfterStoredHook (persist.ts). If one
   * rejects, the delivery is answered with the provider's retry status.
   * @default none
   */
  readonly afterStored?: readonly AfterStoredHook[];
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
  const outbox = options.outbox ?? createOutbox({ log: store, claims: store, pubsub, logger, metrics });
  const creations = createWebhookCreations();
  const secrets = createStoredSecrets(store, { ttlMs: options.secretsTtlMs ?? 5_000, creations });
  const maxEvents = options.maxEventsPerDelivery ?? 100;
  const persist = createPersist({ log: store, claims: store, afterStored: options.afterStored });
  const routeOf = router(options.route, logger);
  const replay = createReplay({
    providers,
    log: store,
    persist,
    outbox,
    logger,
    maxEventsPerDelivery: maxEvents,
    route: async (name, json) => {
      const receiver = providers.get(name)?.receiver;
      const route = receiver ? await routeOf(name, receiver.scope(json)) : null;
      return route && route.account !== 'env' ? route.account : null;
    },
  });

  async function receive(name: ProviderName, req: WebhookRequest): Promise<IngestResult> {
    const provider = providers.get(name);
    if (!provider) return { status: 404, body: { error: 'provider_not_configured', message: `${name} is not configured on this gateway` } };
    const { receiver } = provider;
    const json = parseJson(req.rawBody);
    const route = json === undefined ? null : await routeOf(name, receiver.scope(json));

    let verified: VerifyResult;
    try {
      verified = await traceVerify(() => verify(provider, name, req, secrets, route ? (w) => route.owns(w) : undefined));
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

    const parsed = parse(provider, name, req, json, maxEvents, logger);
    if (parsed === 'reject') {
      metrics.countWebhook(name, 'bad_request');
      return { status: 400, body: { error: 'invalid_json', message: 'the request body is not valid JSON' } };
    }
    return persistDelivery(name, req, parsed, route, provider.receiver.retryStatus);
  }

  async function persistDelivery(name: ProviderName, req: WebhookRequest, parsed: readonly ParsedEvent[], route: DeliveryRoute | null, retryStatus: number): Promise<IngestResult> {
    const origin = { provider: name, rawBody: req.rawBody.toString('utf8'), receivedAt: req.receivedAt.toISOString(), account: route && route.account !== 'env' ? route.account : null };
    let results: readonly InsertResult[];
    try {
      results = await persist.storeDelivery(origin, parsed, { source: 'webhook', claimForPublish: true });
    } catch (err) {
      metrics.countWebhook(name, 'store_unavailable', parsed.length);
      logger.error({ err, provider: name }, 'webhook not acknowledged: event store unreachable or an after-stored hook failed');
      return { status: retryStatus, body: storeUnavailable };
    }
    // What this delivery inserted, its insert claimed (duplicates were published by their first delivery, or are the outbox's).
    const inserted = results.flatMap((r) => (r.inserted ? [r.event] : []));
    void tracePublish(inserted, () => outbox.publish(inserted, { claimed: true })).catch((err: unknown) =>
      logger.error({ err }, 'publishing webhook events failed; the outbox retries them'),
    );
    return { status: 200, body: answer(name, results, metrics, logger) };
  }

  return {
    receive,
    replay,
    invalidateSecrets: (provider) => secrets.invalidate(provider),
    beginWebhookCreation: (provider) => creations.begin(provider),
    drain: () => outbox.drain(),
  };
}

/** The route of a delivery; failures count as none. */
function router(route: IngestOptions['route'], logger: Logger): (name: ProviderName, scope: PayloadScope) => Promise<DeliveryRoute | null> {
  return async (name, scope) => {
    if (!route) return null;
    try {
      return await route(name, scope);
    } catch (err) {
      logger.warn({ err, provider: name }, 'webhook not routed to its account: accounts unreadable; verified as before accounts');
      return null;
    }
  };
}

/** Verifies against the configured and stored secrets, re-reading the stored ones once on a failure. */
async function verify(provider: Provider, name: ProviderName, req: WebhookRequest, secrets: StoredSecrets, only: WebhookOwner | undefined): Promise<VerifyResult> {
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

function parse(provider: Provider, name: ProviderName, req: WebhookRequest, json: unknown, maxEvents: number, logger: Logger): readonly ParsedEvent[] | 'reject' {
  if (json === undefined) {
    return provider.receiver.invalidJson === 'reject' ? 'reject' : [unprocessable(req.rawBody, null, 'the request body is not valid JSON')];
  }
  const parsed = provider.receiver.parse(json, req);
  if (parsed.length <= maxEvents) return parsed;
  logger.warn({ provider: name, events: parsed.length, max: maxEvents }, 'webhook delivery over the event limit stored as unprocessable');
  return [unprocessable(req.rawBody, null, `the delivery holds ${parsed.length} events; at most ${maxEvents} are processed per delivery, so it is kept whole as unprocessable`)];
}

function parseJson(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
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
