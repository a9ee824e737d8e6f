// Trusted documents: with GATEWAY_TRUSTED_DOCUMENTS, the gateway runs only the
// operations a manifest lists, on HTTP and graphql-ws alike. A client may send
// the full document or only its hash (Apollo's persisted-query extension);
// either way the SHA-256 of the document must be listed. Read once at start-up;
// checked in one place, the operation pipeline's source step (trustedDocumentsPlugin),
// before anything is parsed or registered as a persisted query.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../errors.js';
import { persistedHash, type OperationPlugin } from './pipeline.js';

/** What a request carries: a document, the hash of one, or both. */
export interface OperationSource {
  readonly query?: string | null;
  readonly sha256Hash?: string | null;
}

export interface TrustedDocuments {
  readonly size: number;
  /**
   * The document to run: the listed one for a hash-only request, else the one sent.
   * Throws PERSISTED_QUERY_NOT_LISTED (HTTP 400) for anything not in the manifest;
   * returns undefined when the request carries neither (left to the transport to refuse).
   */
  resolve(source: OperationSource): string | undefined;
}

export function sha256Hex(document: string): string {
  return createHash('sha256').update(document).digest('hex');
}

/** Reads a manifest file; throws an Error naming the file and every problem with it. */
export function loadTrustedDocuments(path: string): TrustedDocuments {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`GATEWAY_TRUSTED_DOCUMENTS: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`GATEWAY_TRUSTED_DOCUMENTS: ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return createTrustedDocuments(json, path);
}

/**
 * Accepts Apollo's persisted query manifest (`{ format: "apollo-persisted-query-manifest",
 * version: 1, operations: [{ id, body, ... }] }`) or a plain `{ "<sha256>": "<document>" }` map.
 * Every id must be the SHA-256 of its body, which is the hash clients send.
 */
export function createTrustedDocuments(json: unknown, source = 'the manifest'): TrustedDocuments {
  const entries = manifestEntries(json);
  if (typeof entries === 'string') throw new Error(`GATEWAY_TRUSTED_DOCUMENTS: ${source} ${entries}`);
  const problems: string[] = [];
  const byHash = new Map<string, string>();
  entries.forEach(([id, body], index) => {
    if (typeof id !== 'string' || typeof body !== 'string' || body.trim() === '') {
      problems.push(`entry ${index + 1} needs a string id and a non-empty document`);
      return;
    }
    const actual = sha256Hex(body);
    if (actual !== id.toLowerCase()) problems.push(`entry ${index + 1}: id ${id.slice(0, 80)} is not the SHA-256 of its document (${actual})`);
    else byHash.set(actual, body);
  });
  if (problems.length > 0) throw new Error(`GATEWAY_TRUSTED_DOCUMENTS: ${source}: ${problems.join('; ')}`);

  return {
    size: byHash.size,
    resolve({ query, sha256Hash }) {
      if (query) {
        const hash = sha256Hex(query);
        if (byHash.has(hash)) return query;
        throw notListed(hash);
      }
      if (!sha256Hash) return undefined;
      const listed = byHash.get(sha256Hash.toLowerCase());
      if (listed !== undefined) return listed;
      throw notListed(sha256Hash);
    },
  };
}

function manifestEntries(json: unknown): Array<[unknown, unknown]> | string {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'must be a JSON object';
  const record = json as Record<string, unknown>;
  if ('format' in record || 'operations' in record) {
    if (record.format !== 'apollo-persisted-query-manifest' || record.version !== 1 || !Array.isArray(record.operations)) {
      return 'must be format "apollo-persisted-query-manifest", version 1, with an operations array';
    }
    return record.operations.map((op) => {
      const o = (typeof op === 'object' && op !== null ? op : {}) as Record<string, unknown>;
      return [o.id, o.body];
    });
  }
  return Object.entries(record);
}

function notListed(hash: string): GraphQLError {
  return new GraphQLError(`This gateway runs only the operations listed in its trusted documents; ${hash.slice(0, 80)} is not one of them`, {
    extensions: { code: ErrorCode.PersistedQueryNotListed, http: { status: 400 } },
  });
}

/**
 * The pipeline step: a hash-only request of a listed operation gets its
 * document from the manifest (no APQ round trip needed); anything unlisted is
 * refused with PERSISTED_QUERY_NOT_LISTED.
 */
export function trustedDocumentsPlugin(documents: TrustedDocuments): OperationPlugin {
  return {
    onSource: ({ query, extensions }) => documents.resolve({ query, sha256Hash: persistedHash(extensions) }),
  };
}
