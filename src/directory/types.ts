// The directory of what the gateway has seen, per account: the contacts and
// conversations a provider cannot list itself (Smooch), named by webhooks,
// lookups and sends. It holds ids and activity times only: the entities' fields
// still come from the provider (through the cache).
import type { ProviderName } from '../model.js';

export type DirectoryKind = 'contact' | 'conversation';

/** One entity named by a webhook, a lookup or a send. */
export interface Sighting {
  readonly kind: DirectoryKind;
  /** The provider's id of the contact or conversation. */
  readonly id: string;
  /** A conversation's contact, when known. */
  readonly contactRef?: string | null;
  /**
   * When the entity was last active (ISO 8601): a webhook's message time moves it
   * to the front. Null for a lookup: the entity is added when unknown (as of
   * `knownSince`), and a known one keeps its place.
   */
  readonly activityAt: string | null;
  /** For a lookup of an unknown entity: its place in the list (its own last update). @default now */
  readonly knownSince?: string | null;
}

export interface DirectoryEntry {
  readonly id: string;
  readonly contactRef: string | null;
  readonly activityAt: string;
  /** Resumes the list right after this entry, however much activity arrives at the front meanwhile. */
  readonly cursor: string;
}

export interface DirectoryPage {
  readonly entries: readonly DirectoryEntry[];
  /** The cursor after the last entry when more follow, else null. */
  readonly nextCursor: string | null;
}

export interface DirectoryListRequest {
  /** A cursor of an entry this directory returned, or null for the newest. */
  readonly after: string | null;
  /** 1 to 100. */
  readonly limit: number;
}

export interface Directory {
  /**
   * Records sightings of one account (`env` for the environment's). Resolves once
   * they are durable: ingest awaits it before answering the provider. Rejects
   * when the store is unreachable.
   */
  record(provider: ProviderName, account: string, sightings: readonly Sighting[]): Promise<void>;
  /** Newest activity first (ties by id, descending); an unknown cursor is BAD_USER_INPUT. */
  list(provider: ProviderName, account: string, kind: DirectoryKind, request: DirectoryListRequest): Promise<DirectoryPage>;
  close(): Promise<void>;
}

/** A directory bound to one provider account, as an adapter sees it. */
export interface AccountDirectory {
  record(sightings: readonly Sighting[]): Promise<void>;
  list(kind: DirectoryKind, request: DirectoryListRequest): Promise<DirectoryPage>;
}

export function forAccount(directory: Directory, provider: ProviderName, account: string): AccountDirectory {
  return {
    record: (sightings) => directory.record(provider, account, sightings),
    list: (kind, request) => directory.list(provider, account, kind, request),
  };
}
