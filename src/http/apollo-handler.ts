// The Fastify handler of GraphQL over HTTP: the HTTP adapter of the operation
// pipeline (graphql/pipeline.ts). It starts the operation's run, asks the
// pipeline for the document to run before Apollo sees the request (trusted
// documents: an unlisted operation is answered 400 here, never parsed nor
// registered as a persisted query; a hash-only listed one gets its document),
// and hands Apollo the request with the run in its context.
import { Readable } from 'node:stream';
import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import type { Authenticator, Principal } from '../auth.js';
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
}

export function apolloHandler(options: ApolloHandlerOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const { apollo, pipeline, auth, contextFor } = options;

  async function answer(request: FastifyRequest, reply: FastifyReply, run: OperationRun): Promise<unknown> {
    let httpGraphQLRequest = toGraphQLRequest(request);
    const source = sourceOf(request);
    if (source) {
      let query: string | undefined;
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
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => Object.assign(contextFor(await auth.authenticate(request.headers.authorization)), { operation: run }),
    });
    for (const [name, value] of response.headers) void reply.header(name, value);
    void reply.code(response.status ?? 200);
    if (response.body.kind === 'complete') return response.body.string;
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
