// Relay connections over the providers' own cursors. An edge cursor records
// the provider cursor of the page the edge came from and the offset just past
// the edge, so `after` can resume mid-page. `first` above 100 is rejected; a
// provider page shorter than `first` (fixed page sizes, filtering) is topped up
// by following the provider's next cursor.
import { userInputError } from './errors.js';
import type { PageRequest } from './model.js';
import type { ProviderPage } from './providers/provider.js';

export const MAX_PAGE_SIZE = 100;
/** Upstream pages read for one connection at most, so a sparse filter cannot fan out without bound. */
export const MAX_PAGES_PER_CONNECTION = 10;

export interface ConnectionArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Edge<T> {
  readonly node: T;
  readonly cursor: string;
}

export interface Connection<T> {
  readonly edges: ReadonlyArray<Edge<T>>;
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
}

interface Position {
  readonly cursor: string | null;
  readonly offset: number;
}

function encodePageCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.cursor, position.offset]), 'utf8').toString('base64url');
}

function decodePageCursor(cursor: string): Position {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      (value[0] === null || typeof value[0] === 'string') &&
      Number.isInteger(value[1]) &&
      value[1] >= 0 &&
      value[1] <= MAX_PAGE_SIZE
    ) {
      return { cursor: value[0] as string | null, offset: value[1] as number };
    }
  } catch {
    // fall through to the error below
  }
  throw userInputError(`"after" is not a cursor this gateway issued: "${cursor.slice(0, 80)}"`);
}

export function pageSize(first: number | null | undefined): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw userInputError(`"first" must be from 1 to ${MAX_PAGE_SIZE}, got ${n}`, { argumentName: 'first' });
  }
  return n;
}

export interface PaginateOptions<T> {
  /** Items failing it are skipped (filters the provider cannot apply upstream). */
  readonly matches?: (item: T) => boolean;
  /** Sees every upstream page (loader priming). */
  readonly onPage?: (page: ProviderPage<T>) => void;
}

/**
 * Encodes its cursor only when read: most queries never select edge cursors,
 * and an inbox query makes hundreds of edges. It keeps what the cursor is made
 * of (its page and index), not the cursor's position, so it allocates nothing
 * more until then.
 */
class LazyEdge<T> implements Edge<T> {
  #cursor: string | null = null;
  constructor(
    readonly node: T,
    private readonly page: ProviderPage<T>,
    private readonly index: number,
    private readonly pageCursor: string | null,
  ) {}
  get cursor(): string {
    return (this.#cursor ??= encodePageCursor(positionAfter(this.page, this.index, this.pageCursor)));
  }
}

/** Where a connection resumes after the item at `index` of a page read at `pageCursor`. */
function positionAfter<T>(page: ProviderPage<T>, index: number, pageCursor: string | null): Position {
  const itemCursor = page.itemCursors?.[index];
  if (itemCursor) return { cursor: itemCursor, offset: 0 };
  const atPageEnd = index + 1 === page.items.length && page.nextCursor !== null;
  return atPageEnd ? { cursor: page.nextCursor, offset: 0 } : { cursor: pageCursor, offset: index + 1 };
}

export async function paginate<T>(
  args: ConnectionArgs,
  fetchPage: (request: PageRequest) => Promise<ProviderPage<T>>,
  options: PaginateOptions<T> = {},
): Promise<Connection<T>> {
  const first = pageSize(args.first);
  const start = args.after ? decodePageCursor(args.after) : { cursor: null, offset: 0 };
  const edges: Edge<T>[] = [];
  let position: Position = start;
  let hasNextPage = false;
  let resumeAt: Position | null = null;

  for (let pages = 0; ; pages++) {
    if (pages === MAX_PAGES_PER_CONNECTION) {
      hasNextPage = true;
      resumeAt = position;
      break;
    }
    const limit = Math.min(MAX_PAGE_SIZE, position.offset + first - edges.length);
    const page = await fetchPage({ cursor: position.cursor, limit });
    options.onPage?.(page);
    let index = position.offset;
    for (; index < page.items.length && edges.length < first; index++) {
      const item = page.items[index] as T;
      if (options.matches && !options.matches(item)) continue;
      edges.push(new LazyEdge(item, page, index, position.cursor));
    }
    if (edges.length === first) {
      hasNextPage = index < page.items.length || page.nextCursor !== null;
      break;
    }
    if (page.nextCursor === null) break;
    position = { cursor: page.nextCursor, offset: 0 };
  }

  return { edges, pageInfo: lazyPageInfo(edges, hasNextPage, start.cursor !== null || start.offset > 0, resumeAt) };
}

/** Start and end cursors are encoded when read (own getters, so a JSON copy still carries them). */
function lazyPageInfo<T>(edges: ReadonlyArray<Edge<T>>, hasNextPage: boolean, hasPreviousPage: boolean, resumeAt: Position | null): Connection<T>['pageInfo'] {
  return {
    hasNextPage,
    hasPreviousPage,
    get startCursor(): string | null {
      return edges[0]?.cursor ?? null;
    },
    get endCursor(): string | null {
      // A sparse filter that stopped the scan with no edge still lets the client resume where it stopped.
      const last = edges[edges.length - 1];
      return last?.cursor ?? (resumeAt ? encodePageCursor(resumeAt) : null);
    },
  };
}

/** A connection over a list already in memory (stored events use their own id cursors instead). */
export function emptyConnection<T>(): Connection<T> {
  return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
}
