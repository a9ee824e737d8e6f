// The response cache: whole answers of HTTP queries, stored as the bytes that
// were sent and served again without running the operation. An answer is kept
// with the entity-cache counters of everything it was built from (read-tracking.ts)
// and their generations; a hit compares them with the current ones, so the
// invalidation that drops the entity cache's entries (webhooks and sends bump
// counters before their 200) drops the answers too, on every instance sharing
// the backend. A query that starts after a webhook's 200 reads the bumped
// counters and never gets an answer built before it.
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheBackend } from './backend.js';
import type { ReadRecord } from './read-tracking.js';
import type { ResponseStore, StoredResponse } from './response-store.js';

/** What makes two requests the same answer: the operation and what the caller may see. */
export interface ResponseKeyParts {
  readonly query: string;
  readonly operationName: string | null;
  /** Variables as sent (JSON-serializable). */
  readonly variables: unknown;
  readonly role: string;
  /** The key's account scope (`AccountSet.key`); null: every account. */
  readonly scope: string | null;
  /** Headers that change the answer's encoding (accept). */
  readonly accept: string;
}

export interface ResponseCache {
  /** The key of a request's answer. */
  keyOf(parts: ResponseKeyParts): string;
  /** The stored answer, if its counters are all still at the generations it was built under. */
  lookup(key: string): Promise<StoredResponse | null>;
  /** Stores an answer built from `reads` (nothing when the record refuses sharing or read nothing). */
  store(key: string, reads: ReadRecord, headers: ReadonlyArray<readonly [string, string]>, body: string): Promise<void>;
}

export interface ResponseCacheOptions {
  /** Generations: the entity cache's backend, whose counters webhooks bump. */
  readonly generations: CacheBackend;
  readonly store: ResponseStore;
  readonly registry: Registry;
  /** Key prefix shared with the entity cache. */
  readonly prefix: string;
  /** Answers larger than this are not stored. @default 4_194_304 (4 MiB) */
  readonly maxBodyBytes?: number;
  /** The backend failed: the request runs uncached. */
  readonly failed: (operation: 'read' | 'write', err: unknown) => void;
}

/** The store's observer and the metrics, made before the store so it can report into them. */
export function responseCacheMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'gateway_response_cache_requests_total',
      help: 'Response cache look-ups by result (hit; miss: absent; stale: built before a counter it depends on was bumped)',
      labelNames: ['result'],
      registers: [registry],
    }),
    evictions: new Counter({ name: 'gateway_response_cache_evictions_total', help: 'Answers evicted from the in-process response cache to make room', registers: [registry] }),
    bytes: new Gauge({ name: 'gateway_response_cache_bytes', help: 'Bytes of answers held by the in-process response cache (0 with Redis, which holds them)', registers: [registry] }),
    storedBytes: new Counter({ name: 'gateway_response_cache_stored_bytes_total', help: 'Bytes of answers written to the response cache', registers: [registry] }),
  };
}

export type ResponseCacheMetrics = ReturnType<typeof responseCacheMetrics>;

export function createResponseCache(options: ResponseCacheOptions, metrics: ResponseCacheMetrics): ResponseCache {
  const { generations, store, prefix, failed } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;

  return {
    keyOf(parts) {
      const text = JSON.stringify([parts.query, parts.operationName, parts.variables ?? null, parts.role, parts.scope, parts.accept]);
      return `${prefix}:r:${createHash('sha256').update(text).digest('base64url')}`;
    },
    async lookup(key) {
      let entry: StoredResponse | undefined;
      let current: number[];
      try {
        entry = await store.get(key);
        if (!entry) {
          metrics.requests.inc({ result: 'miss' });
          return null;
        }
        current = (await generations.read([], entry.counters)).generations;
      } catch (err) {
        failed('read', err);
        return null;
      }
      const stored = entry.generations;
      for (let i = 0; i < stored.length; i++) {
        if (stored[i] !== (current[i] ?? 0)) {
          metrics.requests.inc({ result: 'stale' });
          void store.delete(key).catch(() => undefined);
          return null;
        }
      }
      metrics.requests.inc({ result: 'hit' });
      return entry;
    },
    async store(key, reads, headers, body) {
      if (reads.refusal !== null || reads.generations.size === 0 || body.length > maxBodyBytes || !(reads.ttlMs > 0) || !Number.isFinite(reads.ttlMs)) return;
      const bytes = Buffer.from(body, 'utf8');
      const entry: StoredResponse = { counters: [...reads.generations.keys()], generations: [...reads.generations.values()], headers, body: bytes };
      try {
        await store.set(key, entry, reads.ttlMs);
        metrics.storedBytes.inc(bytes.length);
      } catch (err) {
        failed('write', err);
      }
    },
  };
}
