// Webhook ingest: verify -> parse/normalize -> store -> answer -> publish.
// A delivery is acknowledged only once every event in it is durably stored;
// duplicates are stored once and published once; an authentic payload that
// cannot be normalized is stored as unprocessable and still acknowledged.
// `receive` resolves with what to answer as soon as the events are stored; the
// publish it starts runs on, and `drain()` waits for it (shutdown).
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.js';
import type { ProviderName } from '../model.js';
import type { ParsedEvent, Provider, WebhookRequest } from '../providers/provider.js';
import { unprocessable } from '../providers/delivery.js';
import type { EventStore, NewEvent, PubSub, StoredEvent } from './types.js';

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
}

export interface IngestOptions {
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  readonly store: EventStore;
  readonly pubsub: PubSub;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /**
   * Runs after a delivery's events are stored and before it is answered 200 (the
   * cache invalidates here). A rejection answers the provider's retry status.
   */
  readonly onStored?: (events: readonly StoredEvent[]) => Promise<void>;
  /** How long stored webhook secrets are reused before the store is asked again. @default 5_000 (ms) */
  readonly secretsTtlMs?: number;
}

export function createIngest(options: IngestOptions): Ingest {
  const { providers, store, pubsub, metrics, logger } = options;
  const secretsTtlMs = options.secretsTtlMs ?? 5_000;
  const secretsCache = new Map<ProviderName, { at: number; secrets: Promise<readonly string[]> }>();

  function storedSecrets(provider: ProviderName): Promise<readonly string[]> {
    const cached = secretsCache.get(provider);
    if (cached && Date.now() - cached.at < secretsTtlMs) return cached.secrets;
    const secrets = store
      .listWebhooks(provider)
      .then((hooks) => hooks.map((h) => h.secret).filter((s): s is string => typeof s === 'string' && s.length > 0));
    secretsCache.set(provider, { at: Date.now(), secrets });
    secrets.catch(() => secretsCache.delete(provider));
    return secrets;
  }

  async function publishStored(stored: readonly StoredEvent[]): Promise<void> {
    for (const event of stored) {
      if (event.status !== 'PROCESSED' || event.published || !event.message || !event.kind) continue;
      try {
        if (!(await store.claimPublish(event.id))) continue; // another delivery of the same event won
        await pubsub.publish({
          eventId: event.id,
          provider: event.provider,
          kind: event.kind,
          providerEventType: event.providerEventType,
          receivedAt: event.receivedAt,
          message: event.message,
        });
      } catch (err) {
        logger.error({ err, eventId: event.id, provider: event.provider }, 'publishing a stored event failed');
        // Leave it unpublished so the provider's next delivery of it publishes it.
        await store.releasePublish(event.id).catch(() => undefined);
      }
    }
  }

  /** Publishes of acknowledged deliveries still running; the store and pubsub must outlive them. */
  const inFlight = new Set<Promise<void>>();
  function publishLater(stored: readonly StoredEvent[]): void {
    const publishing = publishStored(stored)
      .catch((err: unknown) => logger.error({ err }, 'publishing webhook events failed'))
      .finally(() => inFlight.delete(publishing));
    inFlight.add(publishing);
  }

  async function receive(name: ProviderName, req: WebhookRequest): Promise<IngestResult> {
    const provider = providers.get(name);
    if (!provider) return { status: 404, body: { error: 'provider_not_configured', message: `${name} is not configured on this gateway` } };
    const { receiver } = provider;

    let verified;
    try {
      verified = await receiver.verify(req, { storedSecrets: () => storedSecrets(name) });
    } catch (err) {
      logger.warn({ err, provider: name }, 'webhook verification could not read stored secrets');
      metrics.countWebhook(name, 'store_unavailable');
      return { status: receiver.retryStatus, body: { error: 'store_unavailable', message: 'event store unreachable; retry later' } };
    }
    if (!verified.ok) {
      metrics.countWebhook(name, 'unauthorized');
      logger.warn({ provider: name, reason: verified.reason }, 'webhook rejected: not authentic');
      return { status: 401, body: { error: 'unauthorized', message: verified.reason } };
    }

    let parsed: readonly ParsedEvent[];
    let json: unknown;
    try {
      json = JSON.parse(req.rawBody.toString('utf8'));
    } catch {
      json = undefined;
    }
    if (json === undefined) {
      if (receiver.invalidJson === 'reject') {
        metrics.countWebhook(name, 'bad_request');
        return { status: 400, body: { error: 'invalid_json', message: 'the request body is not valid JSON' } };
      }
      parsed = [unprocessable(req.rawBody, null, 'the request body is not valid JSON')];
    } else {
      parsed = receiver.parse(json, req);
    }

    const receivedAt = req.receivedAt.toISOString();
    const rawBody = req.rawBody.toString('utf8');
    let results;
    try {
      results = await Promise.all(parsed.map((p) => store.insertEvent(toNewEvent(name, p, rawBody, receivedAt))));
    } catch (err) {
      metrics.countWebhook(name, 'store_unavailable', parsed.length);
      logger.error({ err, provider: name }, 'webhook not stored: event store unreachable');
      return { status: receiver.retryStatus, body: { error: 'store_unavailable', message: 'event store unreachable; retry later' } };
    }

    if (options.onStored) {
      try {
        await options.onStored(results.map((r) => r.event));
      } catch (err) {
        logger.error({ err, provider: name }, 'webhook stored but not acknowledged: cache invalidation failed');
        return { status: receiver.retryStatus, body: { error: 'cache_unavailable', message: 'cache unreachable; retry later' } };
      }
    }

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
    publishLater(results.map((r) => r.event));
    return { status: 200, body: { received: results.length, duplicates, unprocessable: rejected, eventIds: results.map((r) => r.event.id) } };
  }

  return {
    receive,
    invalidateSecrets(provider) {
      secretsCache.delete(provider);
    },
    async drain() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function toNewEvent(provider: ProviderName, parsed: ParsedEvent, rawBody: string, receivedAt: string): NewEvent {
  const base = { provider, eventKey: parsed.eventKey, providerEventType: parsed.providerEventType, rawBody, receivedAt };
  return parsed.result.ok
    ? { ...base, kind: parsed.result.event.kind, status: 'PROCESSED', reason: null, message: parsed.result.event.message }
    : { ...base, kind: null, status: 'UNPROCESSABLE', reason: parsed.result.reason, message: null };
}
