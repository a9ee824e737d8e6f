// A SERVER span per GraphQL operation, on both transports, named as the
// semantic conventions say (`query Inbox`, `subscription`), with its errors'
// codes. HTTP: the route handler runs inside the span (so every upstream call
// of the operation is its child) and an Apollo plugin names it once the
// operation is known. graphql-ws: the span starts before parsing and is current
// while the operation executes (for a subscription: while it is set up).
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { execute as graphqlExecute, getOperationAST, GraphQLError, subscribe as graphqlSubscribe, type DocumentNode, type ExecutionArgs, type GraphQLFormattedError } from 'graphql';
import type { ConnectionInitMessage, ServerOptions } from 'graphql-ws';
import { trace } from '@opentelemetry/api';
import { ErrorCode, toGraphQLError } from '../errors.js';
import { Attr, markError, markFailed, SpanKind, startSpan, tracingEnabled, withActiveSpan, type Span } from './tracer.js';

/** The name of an operation span until its operation is known (the conventions' own). */
const UNKNOWN_OPERATION = 'GraphQL Operation';
/** Client-chosen names are cut to this in span names and attributes. */
const MAX_NAME = 100;

/** Spans this module started, so the plugin never renames a span of someone else's (an HTTP instrumentation's). */
const operationSpans = new WeakSet<Span>();

function startOperationSpan(transport: 'http' | 'ws'): Span {
  const span = startSpan(UNKNOWN_OPERATION, SpanKind.SERVER, { [Attr.transport]: transport });
  operationSpans.add(span);
  return span;
}

function nameOperation(span: Span, type: string, name: string | null | undefined): void {
  const shortName = name ? name.slice(0, MAX_NAME) : null;
  span.updateName(shortName ? `${type} ${shortName}` : type);
  span.setAttribute(Attr.operationType, type);
  if (shortName) span.setAttribute(Attr.operationName, shortName);
}

function recordErrors(span: Span, errors: ReadonlyArray<GraphQLError | GraphQLFormattedError> | undefined): void {
  if (!errors || errors.length === 0) return;
  const codes = [...new Set(errors.map(codeOf))];
  span.setAttributes({ [Attr.errorCount]: errors.length, [Attr.errorCodes]: codes });
  markError(span, codes[0] ?? ErrorCode.InternalServerError, errors[0]?.message ?? 'GraphQL error');
}

/** The code the error formatter will give: ours, or the one a resolver's thrown error maps to. */
function codeOf(error: GraphQLError | GraphQLFormattedError): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const code = (current as GraphQLFormattedError).extensions?.code;
    if (typeof code === 'string') return code;
    if (!(current instanceof GraphQLError) || !current.originalError) break;
    current = current.originalError instanceof GraphQLError ? current.originalError : toGraphQLError(current.originalError);
  }
  return ErrorCode.InternalServerError;
}

async function endWith<T>(span: Span, run: () => Promise<T>, onResult: (result: T) => void): Promise<T> {
  try {
    const result = await run();
    onResult(result);
    return result;
  } catch (err) {
    markFailed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Wraps the Fastify handler of GraphQL over HTTP: with tracing on, it runs
 * inside a new operation span, which operationSpanPlugin names.
 */
export function traceHttpOperations<H extends (...args: never[]) => unknown>(handler: H): H {
  return ((...args: Parameters<H>) => {
    if (!tracingEnabled()) return handler(...args);
    const span = startOperationSpan('http');
    return withActiveSpan(span, () => endWith(span, async () => handler(...args), () => undefined));
  }) as H;
}

/** Names the current operation span (type, name) and records the response's errors. */
export function operationSpanPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      if (!tracingEnabled()) return;
      const span = trace.getActiveSpan();
      if (!span || !operationSpans.has(span)) return;
      return {
        async didResolveOperation({ operation, operationName }) {
          if (operation) nameOperation(span, operation.operation, operationName ?? operation.name?.value);
        },
        async willSendResponse({ response }) {
          recordErrors(span, response.body.kind === 'single' ? response.body.singleResult.errors : undefined);
        },
      };
    },
  };
}

/**
 * graphql-ws options with an operation span per subscribe message: started
 * before `onSubscribe` parses and checks the operation, current while it runs
 * (`execute`, or `subscribe` setting up the event stream), ended with its
 * errors. Events pushed later are not part of it.
 */
export function withOperationSpans<P extends ConnectionInitMessage['payload'], E>(options: ServerOptions<P, E>): ServerOptions<P, E> {
  const { onSubscribe } = options;
  const execute = options.execute ?? graphqlExecute;
  const subscribe = options.subscribe ?? graphqlSubscribe;
  // onSubscribe hands the execution its parsed document; the span goes along with it.
  const pending = new WeakMap<DocumentNode, Span>();

  const run = (fn: typeof execute) => (args: ExecutionArgs) => {
    const span = pending.get(args.document);
    if (!span) return fn(args);
    pending.delete(args.document);
    return withActiveSpan(span, () =>
      endWith(span, async () => fn(args), (result) => {
        if (result && typeof result === 'object' && !(Symbol.asyncIterator in result)) recordErrors(span, result.errors);
      }),
    );
  };

  return {
    ...options,
    onSubscribe: onSubscribe && ((ctx, id, payload) => {
      if (!tracingEnabled()) return onSubscribe(ctx, id, payload);
      const span = startOperationSpan('ws');
      return withActiveSpan(span, async () => {
        let prepared: Awaited<ReturnType<typeof onSubscribe>>;
        try {
          prepared = await onSubscribe(ctx, id, payload);
        } catch (err) {
          markFailed(span, err);
          span.end();
          throw err;
        }
        if (!prepared || Array.isArray(prepared)) {
          recordErrors(span, prepared as readonly GraphQLError[] | undefined);
          span.end();
          return prepared;
        }
        const args = prepared as ExecutionArgs;
        const operation = getOperationAST(args.document, args.operationName);
        if (operation) nameOperation(span, operation.operation, args.operationName ?? operation.name?.value);
        pending.set(args.document, span);
        return args;
      });
    }),
    execute: run(execute),
    subscribe: run(subscribe),
  };
}
