// graphql-ws (the graphql-transport-ws subprotocol) on the HTTP server's
// /graphql path. Auth happens once, in connection_init (a bad key closes the
// socket with 4403; a stored key revoked later closes its sockets with 4403
// too, key-connections.ts). Every operation goes through the same steps as on HTTP:
// parse with the token limit, graphql's rules plus the gateway's limits, the
// role check and the cost estimate, all before any resolver; every error leaves
// through the same formatter, with the same codes.
import type { Server } from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import {
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { WebSocketServer } from 'ws';
import { authorizeOperation, type Authenticator, type Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode } from '../errors.js';
import type { OperationLimits } from '../graphql/limits.js';
import { persistedHash } from '../graphql/persisted-queries.js';
import type { TrustedDocuments } from '../graphql/trusted-documents.js';
import type { GatewayMetrics } from '../metrics.js';
import { withOperationSpans } from '../telemetry/graphql.js';
import type { Admission } from './admission.js';
import { createSharedSubscriptions, shareKey } from './fanout.js';
import { createKeyConnections, type Revocations } from './key-connections.js';

export interface GraphQLWsOptions {
  readonly schema: GraphQLSchema;
  readonly limits: OperationLimits;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  readonly auth: Authenticator;
  readonly contextFor: (principal: Principal | null) => GatewayContext;
  readonly metrics: GatewayMetrics;
  /** Largest message a client may send; larger ones close the socket with 1009. */
  readonly maxPayload: number;
  readonly path: string;
  readonly admission: Admission;
  /** Bytes queued on a subscriber's socket past which it is closed with 4008 (fanout.ts). */
  readonly maxBufferedBytes: number;
  /** Only these operations run, as on HTTP. @default null (any operation) */
  readonly trustedDocuments?: TrustedDocuments | null;
  /** Stored keys that can be revoked while their sockets are open. @default none */
  readonly revocations?: Revocations | null;
}

/** RFC 6455 "Try Again Later". */
const TRY_AGAIN_LATER_CLOSE = 1013;

/** What a refused upgrade is told to wait. */
const RETRY_AFTER_SECONDS = 5;

export interface GraphQLWs {
  /** Closes every socket (1001 going away) and stops accepting upgrades. */
  dispose(): Promise<void>;
}

export function attachGraphQLWs(server: Server, options: GraphQLWsOptions): GraphQLWs {
  const { schema, limits, auth, contextFor, metrics, path } = options;
  const rules = [...specifiedRules, ...limits.validationRules];
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });

  const onUpgrade = (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void => {
    const pathname = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":"not_found","message":"WebSocket connections are served on /graphql"}');
      return;
    }
    const admitted = options.admission.admit(req);
    if (admitted.refused) {
      const body = JSON.stringify({ error: admitted.refused, message: 'this instance takes no more WebSocket connections now; retry later or on another instance' });
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nretry-after: ${RETRY_AFTER_SECONDS}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    // The raw socket closes however the upgrade ends (refused handshake, client gone, server close).
    socket.once('close', admitted.release);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);
  wss.on('connection', (socket) => {
    metrics.wsConnections.inc();
    socket.once('close', () => metrics.wsConnections.dec());
  });

  const format = (error: GraphQLError): GraphQLFormattedError => options.formatError(error.toJSON(), error);
  const withCode = (error: GraphQLError, code: string): GraphQLError =>
    error.extensions.code ? error : new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });

  /** Parsed and validated documents by their text (bounded). */
  const documents = new LRUCache<string, { readonly document: DocumentNode; readonly errors: readonly GraphQLError[] }>({ max: 500 });
  const shared = createSharedSubscriptions({
    format: (result) => formatResult(result, format),
    registry: metrics.registry,
    logger: contextFor(null).logger,
    onSlow: () => metrics.countSlowSubscriber(),
    maxSocketBuffer: options.maxBufferedBytes,
  });

  const keyConnections = createKeyConnections(options.revocations ?? null);

  const cleanup = useServer<Record<string, unknown> | undefined, { principal?: Principal | null }>(
    withOperationSpans({
      schema,
      subscribe: (args) => shared.subscribe(args),
      onConnect: async (ctx) => {
        let principal: Principal | null;
        try {
          principal = await auth.authenticate(ctx.connectionParams?.authorization);
        } catch {
          // The key could not be checked (key store down): 1013 asks the client to retry, where graphql-ws's 4500 would end it.
          ctx.extra.socket.close(TRY_AGAIN_LATER_CLOSE, 'API key not checked: key store unreachable; retry later');
          return false;
        }
        if (principal === null) return false;
        ctx.extra.principal = principal;
        if (principal.keyId) keyConnections.track(principal.keyId, ctx.extra.socket);
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        let document: DocumentNode;
        let query = payload.query;
        try {
          if (options.trustedDocuments) query = options.trustedDocuments.resolve({ query, sha256Hash: persistedHash(payload.extensions) }) ?? query;
        } catch (err) {
          return [asGraphQLError(err)];
        }
        // Thousands of clients send the same few documents: each is parsed and validated once.
        let checked = documents.get(query);
        if (!checked) {
          try {
            document = parse(query, limits.parseOptions);
          } catch (err) {
            return [withCode(asGraphQLError(err), ErrorCode.ParseFailed)];
          }
          checked = { document, errors: validate(schema, document, rules) };
          documents.set(query, checked);
        }
        document = checked.document;
        const { errors } = checked;
        if (errors.length > 0) return errors.map((e) => withCode(e, ErrorCode.ValidationFailed));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [new GraphQLError('Unable to identify the operation: give operationName for a document with several', { extensions: { code: ErrorCode.BadUserInput } })];
        const principal = ctx.extra.principal ?? null;
        try {
          authorizeOperation(principal?.role ?? null, operation.operation);
          limits.checkCost(document, operation, payload.variables ?? undefined);
        } catch (err) {
          return [asGraphQLError(err)];
        }
        // Identical live subscriptions share one stream, executed and serialized once per event (fanout.ts);
        // only the one that opens it needs a context, so the others hold none.
        // Keys of the same role reaching the same accounts see the same events: they may share.
        const audience = principal ? `${principal.role}|${principal.accounts?.key ?? '*'}` : 'none';
        const key = shareKey(audience, operation, query, payload.operationName, payload.variables);
        const args = { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: key ? undefined : contextFor(principal) };
        if (key) shared.register(args, key, { socket: ctx.extra.socket, id, context: () => contextFor(principal) });
        return args;
      },
      onNext: (_ctx, _id, _payload, _args, result) => formatResult(result, format),
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
    }),
    wss,
  );

  return {
    async dispose() {
      server.off('upgrade', onUpgrade);
      keyConnections.dispose();
      // Sockets first (1001): ending the shared streams first would tell clients "complete", and they would not resubscribe.
      await cleanup.dispose();
      shared.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * A result without `data` is a request error (variables that do not coerce,
 * an unknown operation): the caller's input, as Apollo reports it on HTTP.
 */
function formatResult(result: ExecutionResult, format: (e: GraphQLError) => GraphQLFormattedError): FormattedExecutionResult {
  if (!result.errors) return result as FormattedExecutionResult;
  const requestError = !('data' in result) || result.data === undefined;
  const errors = result.errors.map((e) =>
    format(requestError && !e.extensions.code ? new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: ErrorCode.BadUserInput } }) : e),
  );
  return { ...result, errors } as FormattedExecutionResult;
}

function asGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  return new GraphQLError(err instanceof Error ? err.message : String(err), { originalError: err instanceof Error ? err : undefined });
}
