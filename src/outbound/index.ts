// Sending (issue 19), wired from its parts: the store (MongoDB or in
// process), the bus, the dispatcher, the mutation's service, the webhook
// observer and the worker. The composition root builds one per gateway.
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { OutboundConfig } from '../config.js';
import type { AfterStoredHook } from '../events/persist.js';
import type { StoredEvent } from '../events/types.js';
import type { RedisPair } from '../infra/clients.js';
import type { Loaders } from '../loaders.js';
import type { ProviderName } from '../model.js';
import type { MessageSender } from '../providers/sender.js';
import { createOutboundBus, type OutboundBus } from './bus.js';
import { createDispatcher } from './dispatch.js';
import { createOutboundMetrics } from './metrics.js';
import { createMemoryOutboundStore } from './memory-store.js';
import { createMongoOutboundStore } from './mongo-store.js';
import { createObserver } from './observe.js';
import { createSendService, type SendService } from './service.js';
import type { OutboundRecord, OutboundStore } from './types.js';
import { createOutboundWorker, WORKER_BUDGET_WAIT_MS, type OutboundWorker } from './worker.js';

export type { OutboundRecord, OutboundStore } from './types.js';

export interface OutboundDeps {
  readonly config: OutboundConfig & {
    /** The gateway's shared database; null: the embedded (in-memory) store. */
    readonly db: Db | null;
    /** The gateway's shared Redis pair; null: updates stay in this process. */
    readonly redis: RedisPair | null;
    readonly prefix: string;
    /** GATEWAY_UPSTREAM_TIMEOUT_MS: the lease outlasts the longest attempt. */
    readonly upstreamTimeoutMs: number;
  };
  readonly logger: Logger;
  readonly registry: Registry;
  senderFor(provider: ProviderName, account: string): Promise<MessageSender | null>;
  /** Drops a conversation's cached messages and list pages (before the mutation answers). */
  invalidate(provider: ProviderName, account: string, conversationId: string | null): Promise<void>;
  /** Fresh loaders over the gateway's accounts: the worker looks up recipients the mutation left pending for want of budget. */
  loaders?(): Loaders;
  /** Tests shorten the worker's pace and the lease. */
  readonly timing?: { readonly intervalMs?: number; readonly leaseMs?: number };
}

export interface Outbound {
  readonly store: OutboundStore;
  readonly bus: OutboundBus;
  readonly service: SendService;
  readonly worker: OutboundWorker;
  /** Moves sends forward by the provider webhooks among stored events; resolves with the ids of repeated messageSent events. */
  observe(events: readonly StoredEvent[]): Promise<readonly string[]>;
  /** The same as the ingest's after-stored hook (before the acknowledgement), duplicates of earlier deliveries included; answers the repeats unannounced. */
  readonly afterStored: AfterStoredHook;
  close(): Promise<void>;
}

/**
 * How long an attempt holds its send before another instance presumes it
 * interrupted: longer than any attempt can last (the worker's budget wait and
 * the upstream timeout, twice over), so a live attempt is never taken over.
 */
export function leaseFor(upstreamTimeoutMs: number): number {
  return WORKER_BUDGET_WAIT_MS + 2 * upstreamTimeoutMs;
}

export function createOutbound(deps: OutboundDeps): Outbound {
  const { config } = deps;
  const store = config.db ? createMongoOutboundStore({ db: config.db }) : createMemoryOutboundStore();
  const bus = createOutboundBus(config.redis, config.prefix);
  const metrics = createOutboundMetrics(deps.registry);
  const leaseMs = deps.timing?.leaseMs ?? leaseFor(config.upstreamTimeoutMs);
  const dispatcher = createDispatcher({
    store,
    bus,
    logger: deps.logger,
    senderFor: deps.senderFor,
    invalidate: (r: OutboundRecord) => deps.invalidate(r.provider, r.account, r.conversationId ?? r.target.conversationId),
    onOutcome: metrics.countOutcome,
    queueMaxMs: config.queueMaxMs,
    leaseMs,
    loaders: deps.loaders,
  });
  const service = createSendService({ store, dispatcher, senderFor: deps.senderFor, keyTtlMs: config.keyTtlMs, leaseMs, queueMaxMs: config.queueMaxMs });
  const worker = createOutboundWorker(store, dispatcher, deps.logger, { intervalMs: deps.timing?.intervalMs, onQueue: metrics.observeQueue });
  const observer = createObserver(store, dispatcher, deps.senderFor);
  return {
    store,
    bus,
    service,
    worker,
    observe: observer,
    afterStored: async ({ events }) => ({ unannounced: await observer(events) }),
    async close() {
      await worker.stop();
      await Promise.allSettled([store.close(), bus.close()]);
    },
  };
}
