// /graphql: GraphQL over HTTP through Apollo Server, and graphql-ws on the same
// path. CORS (@fastify/cors, with an allowlist), the body limit and the JSON
// errors for bodies Apollo never sees (413, 415, 400) live here.
import type { ResponseCache } from '../cache/response-cache.js';
import fastifyCors from '@fastify/cors';
import type { ApolloServer } from '@apollo/server';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode } from '../errors.js';
import type { HttpOperationContext } from '../graphql/apollo.js';
import type { OperationPipeline } from '../graphql/pipeline.js';
import { apolloHandler } from './apollo-handler.js';
import { attachGraphQLWs, type GraphQLWsOptions } from './graphql-ws.js';
import { graphqlErrorBody, sendError } from './reply.js';

export interface GraphQLRouteOptions {
  readonly apollo: ApolloServer<HttpOperationContext>;
  /** The steps every operation goes through, on HTTP and graphql-ws (graphql/gateway-pipeline.ts). */
  readonly pipeline: OperationPipeline;
  readonly auth: Authenticator;
  readonly contextFor: (principal: GatewayContext['principal']) => GatewayContext;
  /** null = any origin (development only). */
  readonly corsOrigins: readonly string[] | null;
  /** Largest request body (and graphql-ws message). */
  readonly maxBytes: number;
  /** Where a browser opening /graphql is sent (the explorer), or null when it is off. */
  readonly explorerPath: string | null;
  readonly ws: Omit<GraphQLWsOptions, 'auth' | 'contextFor' | 'maxPayload' | 'path' | 'pipeline'>;
  /** Whole answers of shareable queries (cache/response-cache.ts). @default null (none) */
  readonly responses?: ResponseCache | null;
}

export const GRAPHQL_PATH = '/graphql';

class OriginNotAllowed extends Error {}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** What a browser navigating to the URL sends: text/html before any JSON type. */
function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = accept.indexOf('text/html');
  const json = accept.search(/application\/(graphql-response\+)?json/);
  return html >= 0 && (json < 0 || html < json);
}

export const graphqlRoutes: FastifyPluginAsync<GraphQLRouteOptions> = async (app, options) => {
  const { apollo, auth, contextFor, corsOrigins, maxBytes } = options;
  const allowed = (origin: string): boolean => corsOrigins === null || corsOrigins.includes('*') || corsOrigins.includes(origin);

  // Before the CORS plugin, whose preflight route must answer a refused origin with this handler's 403.
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof OriginNotAllowed) return sendError(reply, 403, 'origin_not_allowed', err.message);
    const body = (status: number, message: string, code: string, headers: Record<string, string> = {}) =>
      reply.code(status).headers(headers).send(graphqlErrorBody(message, code));
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        // Close the connection so the rest of an oversized body is not read.
        return body(413, `request body exceeds ${maxBytes} bytes`, ErrorCode.PayloadTooLarge, { connection: 'close' });
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return body(400, 'request body is not valid JSON', ErrorCode.BadUserInput);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return body(415, `Content-Type must be application/json, got "${String(request.headers['content-type'] ?? '').slice(0, 80)}"`, ErrorCode.BadUserInput);
      default:
        if (err.statusCode && err.statusCode < 500) return body(err.statusCode, err.message, ErrorCode.BadUserInput);
        request.log.error({ err }, 'graphql route failed');
        return body(500, 'Internal server error', ErrorCode.InternalServerError);
    }
  });

  const corsOptions = {
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name'],
    maxAge: 600,
    strictPreflight: false,
  };
  // Per request, so the gateway's own pages (same origin: the Origin's host is
  // the Host header) work whatever GATEWAY_CORS_ORIGINS allows.
  await app.register(fastifyCors, {
    delegator: async (request: FastifyRequest) => ({
      ...corsOptions,
      origin: (origin: string | undefined, callback: (err: Error | null, allow: string | boolean) => void) => {
        if (!origin || allowed(origin) || sameOrigin(origin, request.headers.host)) callback(null, origin ?? false);
        else callback(new OriginNotAllowed(`origin ${origin.slice(0, 200)} is not in GATEWAY_CORS_ORIGINS`), false);
      },
    }),
  });

  // GraphQL over HTTP takes JSON bodies only; anything else is 415 (Fastify would parse text/plain).
  app.removeContentTypeParser('text/plain');

  await apollo.start();
  app.addHook('onClose', () => apollo.stop());
  app.route({
    method: ['GET', 'POST'],
    url: GRAPHQL_PATH,
    bodyLimit: maxBytes,
    // A browser opening /graphql gets the explorer; Apollo's own landing page loads from a CDN, so it is never shown.
    onRequest: async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (request.method !== 'GET' || !prefersHtml(request.headers.accept)) return;
      if (options.explorerPath) await reply.redirect(options.explorerPath, 302);
      else await sendError(reply, 404, 'explorer_disabled', 'the explorer is off on this gateway (GATEWAY_EXPLORER=on serves it at /explorer); POST GraphQL requests to /graphql');
    },
    handler: apolloHandler({ apollo, pipeline: options.pipeline, auth, contextFor, responses: options.responses ?? null }),
  });

  const ws = attachGraphQLWs(app.server, { ...options.ws, pipeline: options.pipeline, auth, contextFor, maxPayload: maxBytes, path: GRAPHQL_PATH });
  // Before the HTTP server stops: upgraded sockets are not HTTP connections it would wait for.
  app.addHook('preClose', () => ws.dispose());
};
