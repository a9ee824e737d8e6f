// graphql-ws (the graphql-transport-ws subprotocol) on the HTTP server's
// /graphql path: the graphql-ws adapter of the operation pipeline
// (graphql/pipeline.ts). Auth happens once, in connection_init (a bad key
// closes the socket with 4403; a stored key revoked later closes its sockets
// with 4403 too, key-connections.ts). Every operation goes through the same
// steps as on HTTP: the pipeline's source step (trusted documents), parse with
// its token limit, graphql's rules plus its rules, then its checks of the
// resolved operation (role, cost), all before any resolver; every error leaves
// through the same formatter, with the same codes.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import {
  execute,
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator, Principal } from '../auth.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode } from '../errors.js';
import type { OperationPipeline, OperationRun } from '../graphql/pipeline.js';
import { subscribeWithEventContext, type EventContext } from '../graphql/subscribe.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Admission } from './admission.js';
import { createSharedSubscriptions, shareKey, type SharedMember, type SharedSubscriptions } from './fanout.js';
import { createKeyConnections, type KeyConnections, type Revocations } from './key-connections.js';

export interface GraphQLWsOptions {
  readonly schema: GraphQLSchema;
  readonly pipeline: OperationPipeline;
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
  /** Stored keys that can be revoked while their sockets are open. @default none */
  readonly revocations?: Revocations | null;
  /** The context each event of a subscription executes with (fresh loaders per event). */
  readonly eventContext: EventContext<GatewayContext>;
}

/** RFC 6455 "Try Again Later". */
const TRY_AGAIN_LATER_CLOSE = 1013;

/** What a refused upgrade is told to wait. */
const RETRY_AFTER_SECONDS = 5;

export interface GraphQLWs {
  /** Closes every socket (1001 going away) and stops accepting upgrades. */
  dispose(): Promise<void>;
}

/** What graphql-ws keeps per connection: ours is the principal its key resolved to. */
type ConnectionExtra = { principal?: Principal | null };

/**
 * What onSubscribe answers and graphql-ws hands on to `execute` or `subscribe`:
 * the execution and, with it, the operation's run through the pipeline.
 */
interface OperationArgs extends ExecutionArgs {
  readonly run: OperationRun;
  /** A shareable live subscription joins the group of `key` (fanout.ts); only the member that opens it needs a context. */
  readonly share: { readonly key: string; readonly member: SharedMember; readonly context: () => GatewayContext } | null;
}

type Prepare = (principal: Principal | null, member: SharedMember, payload: SubscribePayload, run: OperationRun) => OperationArgs | readonly GraphQLError[];

export function attachGraphQLWs(server: Server, options: GraphQLWsOptions): GraphQLWs {
  const { pipeline, metrics } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  const onUpgrade = upgradeHandler(wss, options);
  server.on('upgrade', onUpgrade);
  wss.on('connection', (socket) => {
    metrics.wsConnections.inc();
    socket.once('close', () => metrics.wsConnections.dec());
  });

  const format = (error: GraphQLError): GraphQLFormattedError => options.formatError(error.toJSON(), error);
  const subscribeEach = (args: ExecutionArgs): ReturnType<typeof subscribeWithEventContext> => subscribeWithEventContext(args, options.eventContext);
  const shared = createSharedSubscriptions({
    format: (result) => formatResult(result, format),
    registry: metrics.registry,
    logger: options.contextFor(null).logger,
    onSlow: () => metrics.countSlowSubscriber(),
    maxSocketBuffer: options.maxBufferedBytes,
    subscribe: subscribeEach,
  });
  const keyConnections = createKeyConnections(options.revocations ?? null);
  const prepare = operationPreparer(options);

  const cleanup = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema: options.schema,
      onConnect: connectionAuthenticator(options.auth, keyConnections),
      onSubscribe: (ctx, id, payload) => {
        const run = pipeline.start('ws');
        let prepared: OperationArgs | readonly GraphQLError[];
        try {
          prepared = run.around(() => prepare(ctx.extra.principal ?? null, { socket: ctx.extra.socket, id }, payload, run));
        } catch (err) {
          run.end(err);
          throw err;
        }
        if (isErrors(prepared)) {
          run.result(prepared);
          run.end();
        }
        return prepared;
      },
      execute: (args) => runOperation(args, execute),
      subscribe: (args) => runOperation(args, (a) => (a.share ? joinShared(shared, a, a.share) : subscribeEach(a))),
      onNext: (_ctx, _id, _payload, _args, result) => formatResult(result, format),
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
    },
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

/** Upgrades on `path` that admission control lets in; a JSON 404 or 503 otherwise. */
function upgradeHandler(wss: WebSocketServer, options: Pick<GraphQLWsOptions, 'path' | 'admission'>): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const pathname = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (pathname !== options.path) {
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
}

/** graphql-ws's onConnect: the key in connectionParams.authorization, checked once per connection. */
function connectionAuthenticator(auth: Authenticator, keyConnections: KeyConnections) {
  return async (ctx: { readonly connectionParams?: Readonly<Record<string, unknown>>; readonly extra: ConnectionExtra & { readonly socket: WebSocket } }): Promise<boolean> => {
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
  };
}

/**
 * onSubscribe's work: the pipeline's source step, parse and validation (once
 * per document text, bounded), then its checks of the resolved operation.
 * The answer is the execution, or the errors the client is sent.
 */
function operationPreparer(options: Pick<GraphQLWsOptions, 'schema' | 'pipeline' | 'contextFor'>): Prepare {
  const { schema, pipeline, contextFor } = options;
  const rules = [...specifiedRules, ...pipeline.validationRules];
  // Thousands of clients send the same few documents: each is parsed and validated once.
  const documents = new LRUCache<string, { readonly document: DocumentNode; readonly errors: readonly GraphQLError[] }>({ max: 500 });
  return (principal, member, payload, run) => {
    let query = payload.query;
    try {
      query = pipeline.resolveSource({ query, extensions: payload.extensions }) ?? query;
    } catch (err) {
      return [asGraphQLError(err)];
    }
    let checked = documents.get(query);
    if (!checked) {
      let document: DocumentNode;
      try {
        document = parse(query, pipeline.parseOptions);
      } catch (err) {
        return [withCode(asGraphQLError(err), ErrorCode.ParseFailed)];
      }
      checked = { document, errors: validate(schema, document, rules) };
      documents.set(query, checked);
    }
    const { document, errors } = checked;
    if (errors.length > 0) return errors.map((e) => withCode(e, ErrorCode.ValidationFailed));
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) return [new GraphQLError('Unable to identify the operation: give operationName for a document with several', { extensions: { code: ErrorCode.BadUserInput } })];
    try {
      run.resolved({ document, operation, operationName: payload.operationName, variables: payload.variables ?? undefined, role: principal?.role ?? null });
    } catch (err) {
      return [asGraphQLError(err)];
    }
    // Identical live subscriptions share one stream, executed and serialized once per event (fanout.ts).
    // Keys of the same role reaching the same accounts see the same events: they may share.
    const audience = principal ? `${principal.role}|${principal.accounts?.key ?? '*'}` : 'none';
    const key = shareKey(audience, operation, query, payload.operationName, payload.variables);
    const execution = { schema, document, operationName: payload.operationName, variableValues: payload.variables };
    if (key) return { ...execution, contextValue: undefined, run, share: { key, member, context: () => contextFor(principal) } };
    return { ...execution, contextValue: contextFor(principal), run, share: null };
  };
}

/** Runs graphql-ws's execute or subscribe inside the operation's run, and ends it with the answer. */
async function runOperation(args: ExecutionArgs, work: (args: OperationArgs) => ExecutionOutcome | Promise<ExecutionOutcome>): Promise<ExecutionOutcome> {
  const operation = args as OperationArgs;
  const { run } = operation;
  try {
    const result = await run.around(() => work(operation));
    run.result(Symbol.asyncIterator in result ? undefined : result.errors);
    run.end();
    return result;
  } catch (err) {
    run.end(err);
    throw err;
  }
}

type ExecutionOutcome = ExecutionResult | AsyncIterableIterator<ExecutionResult> | AsyncGenerator<ExecutionResult, void, void>;

function joinShared(shared: SharedSubscriptions, args: OperationArgs, share: NonNullable<OperationArgs['share']>): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const { schema, document, operationName, variableValues } = args;
  return shared.join(share.key, share.member, () => ({ schema, document, operationName, variableValues, contextValue: share.context() }));
}

function isErrors(prepared: OperationArgs | readonly GraphQLError[]): prepared is readonly GraphQLError[] {
  return Array.isArray(prepared);
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

function withCode(error: GraphQLError, code: string): GraphQLError {
  return error.extensions.code ? error : new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } });
}

function asGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  return new GraphQLError(err instanceof Error ? err.message : String(err), { originalError: err instanceof Error ? err : undefined });
}
