// The Fastify handler of GraphQL over HTTP: the HTTP adapter of the operation
// pipeline (graphql/pipeline.ts). It starts the operation's run, asks the
// pipeline for the document to run before Apollo sees the request (trusted
// documents: an unlisted operation is answered 400 here, never parsed nor
// registered as a persisted query; a hash-only listed one gets its document),
// and hands Apollo the request with the run in its context. With the response
// cache, a shareable query (cache/response-plugin.ts) is first looked up: a hit
// goes through the pipeline's checks and is answered with the stored bytes,
// never reaching Apollo; a miss runs with its entity-cache reads tracked and its
// answer stored.
import { Readable } from 'node:stream';
import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { getOperationAST, GraphQLError, parse, type DocumentNode } from 'graphql';
import type { Authenticator, Principal } from '../auth.js';
import { newReadRecord, trackReads } from '../cache/read-tracking.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { StoredResponse } from '../cache/response-store.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode } from '../errors.js';
import type { HttpOperationContext } from '../graphql/apollo.js';
import type { OperationPipeline, OperationRun, OperationSource } from '../graphql/pipeline.js';
import { graphqlErrorBody } from './reply.js';

export interface ApolloHandlerOptions {
  readonly apollo: ApolloServer<HttpOperationContext>;
  readonly pipeline: OperationPipeline;
  readonly auth: Authenticator;
  readonly contextFor: (principal: Principal | null) => GatewayContext;
  /** Whole answers of shareable queries. @default null (none) */
  readonly responses?: ResponseCache | null;
}

export function apolloHandler(options: ApolloHandlerOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const { apollo, pipeline, auth, contextFor } = options;
  const responses = options.responses ?? null;
  const documents = documentCache(pipeline);

  /** Answers from the stored bytes, once the pipeline has seen the operation as if it ran (role, limits, metrics). */
  function serveStored(reply: FastifyReply, run: OperationRun, stored: StoredResponse, query: string, params: RequestParams, principal: Principal): unknown {
    const document = documents(query);
    const operation = getOperationAST(document, params.operationName);
    if (!operation) return undefined;
    run.resolved({ document, operation, operationName: params.operationName, variables: params.variables, role: principal.role });
    run.result(undefined);
    for (const [name, value] of stored.headers) void reply.header(name, value);
    void reply.code(200);
    return stored.body;
  }

  async function answer(request: FastifyRequest, reply: FastifyReply, run: OperationRun): Promise<unknown> {
    let httpGraphQLRequest = toGraphQLRequest(request);
    const source = sourceOf(request);
    let query: string | undefined;
    if (source) {
      try {
        query = pipeline.resolveSource(source);
      } catch (err) {
        const error = err instanceof GraphQLError ? err : new GraphQLError(String(err));
        run.result([error]);
        const code = typeof error.extensions.code === 'string' ? error.extensions.code : ErrorCode.BadUserInput;
        return reply.code(400).send(graphqlErrorBody(error.message, code));
      }
      if (query !== undefined && query !== source.query) httpGraphQLRequest = withQuery(httpGraphQLRequest, query);
    }
    const shared = responses ? await shareable(request, auth, responses, query ?? source?.query) : null;
    if (shared) {
      const stored = await shared.cache.lookup(shared.key);
      if (stored) {
        try {
          const served = serveStored(reply, run, stored, shared.query, shared.params, shared.principal);
          if (served !== undefined) return served;
        } catch {
          // A step refused what it let through when the answer was stored: Apollo runs it and answers the refusal.
        }
      }
    }
    const reads = shared ? newReadRecord() : null;
    const execute = (): ReturnType<typeof apollo.executeHTTPGraphQLRequest> =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest,
        context: async () => Object.assign(contextFor(shared ? shared.principal : await auth.authenticate(request.headers.authorization)), { operation: run }),
      });
    const response = reads ? await trackReads(reads, execute) : await execute();
    for (const [name, value] of response.headers) void reply.header(name, value);
    void reply.code(response.status ?? 200);
    if (response.body.kind === 'complete') {
      if (shared && reads && (response.status ?? 200) === 200) {
        const headers = [...response.headers].filter(([name]) => name !== 'content-length');
        await shared.cache.store(shared.key, reads, headers, response.body.string);
      }
      return response.body.string;
    }
    return reply.send(Readable.from(response.body.asyncIterator));
  }

  return async (request, reply) => {
    const run = pipeline.start('http');
    try {
      const answered = await run.around(() => answer(request, reply, run));
      run.end();
      return answered;
    } catch (err) {
      run.end(err);
      throw err;
    }
  };
}

function toGraphQLRequest(request: FastifyRequest): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const queryAt = request.url.indexOf('?');
  return { method: request.method.toUpperCase(), headers, search: queryAt < 0 ? '' : request.url.slice(queryAt), body: request.body };
}

/**
 * The document and extensions a request carries, or null when it is not one
 * operation the pipeline can look at (a batch, no parameters, malformed
 * extensions): Apollo refuses those itself.
 */
function sourceOf(request: FastifyRequest): OperationSource | null {
  const params = (request.method === 'GET' ? request.query : request.body) as Record<string, unknown> | null | undefined;
  if (!params || typeof params !== 'object' || Array.isArray(params)) return null;
  let extensions = params.extensions as Record<string, unknown> | string | undefined;
  if (typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions) as Record<string, unknown>;
    } catch {
      return null; // Apollo answers malformed extensions with 400
    }
  }
  return { query: typeof params.query === 'string' ? params.query : null, extensions: typeof extensions === 'object' ? extensions : null };
}

/** The request with the document the pipeline chose (the listed document of a hash-only request). */
function withQuery(request: HTTPGraphQLRequest, query: string): HTTPGraphQLRequest {
  if (request.method === 'GET') {
    const search = new URLSearchParams(request.search);
    search.set('query', query);
    return { ...request, search: `?${search.toString()}` };
  }
  return { ...request, body: { ...(request.body as Record<string, unknown>), query } };
}

interface RequestParams {
  readonly operationName: string | null;
  readonly variables: Record<string, unknown> | undefined;
}

interface Shareable {
  readonly cache: ResponseCache;
  readonly key: string;
  readonly query: string;
  readonly params: RequestParams;
  readonly principal: Principal;
}

/**
 * The response-cache key of a request that may be answered from it, or null:
 * a JSON POST (GET is left to Apollo's CSRF checks) of one document, by a valid
 * key, not asking for federation traces (those answers are per request).
 */
async function shareable(request: FastifyRequest, auth: Authenticator, cache: ResponseCache, query: string | null | undefined): Promise<Shareable | null> {
  if (request.method !== 'POST' || typeof query !== 'string' || request.headers['apollo-federation-include-trace'] !== undefined) return null;
  const body = request.body as Record<string, unknown> | null | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const { operationName, variables } = body;
  if ((operationName != null && typeof operationName !== 'string') || (variables != null && (typeof variables !== 'object' || Array.isArray(variables)))) return null;
  // A key that cannot be checked now is Apollo's to refuse (the context authenticates again).
  const principal = await auth.authenticate(request.headers.authorization).catch(() => null);
  if (!principal) return null;
  const params: RequestParams = { operationName: operationName ?? null, variables: (variables ?? undefined) as Record<string, unknown> | undefined };
  const key = cache.keyOf({ query, ...params, role: principal.role, scope: principal.accounts?.key ?? null, accept: String(request.headers.accept ?? '') });
  return { cache, key, query, params, principal };
}

/** Parsed documents of the queries answered from the response cache, so a hit parses nothing. */
function documentCache(pipeline: OperationPipeline): (query: string) => DocumentNode {
  const parsed = new Map<string, DocumentNode>();
  return (query) => {
    let document = parsed.get(query);
    if (!document) {
      document = parse(query, pipeline.parseOptions);
      // Bounded: the oldest is dropped first.
      if (parsed.size >= 1_000) parsed.delete(parsed.keys().next().value as string);
      parsed.set(query, document);
    }
    return document;
  };
}
