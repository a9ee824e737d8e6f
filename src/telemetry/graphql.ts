// A SERVER span per GraphQL operation, on both transports, named as the
// semantic conventions say (`query Inbox`, `subscription`), with its errors'
// codes: one step of the operation pipeline (graphql/pipeline.ts). The span
// starts with the operation and is current around its work (HTTP: Apollo's
// whole handling, so every upstream call is its child; graphql-ws: the checks,
// then the execution, or the set-up of a subscription; events pushed later are
// not part of it).
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, toGraphQLError } from '../errors.js';
import type { AnswerErrors, OperationHooks, OperationPlugin, Transport } from '../graphql/pipeline.js';
import { Attr, markError, markFailed, SpanKind, startSpan, tracingEnabled, withActiveSpan, type Span } from './tracer.js';

/** The name of an operation span until its operation is known (the conventions' own). */
const UNKNOWN_OPERATION = 'GraphQL Operation';
/** Client-chosen names are cut to this in span names and attributes. */
const MAX_NAME = 100;

/** The pipeline step; with tracing off it adds nothing to an operation. */
export function tracingPlugin(): OperationPlugin {
  return {
    onOperation: ({ transport }) => (tracingEnabled() ? operationSpan(transport) : undefined),
  };
}

function operationSpan(transport: Transport): OperationHooks {
  const span = startSpan(UNKNOWN_OPERATION, SpanKind.SERVER, { [Attr.transport]: transport });
  return {
    onResolved({ operation, operationName }) {
      nameOperation(span, operation.operation, operationName ?? operation.name?.value);
    },
    around: (work) => withActiveSpan(span, work),
    onResult: (errors) => recordErrors(span, errors),
    onEnd(failure) {
      if (failure !== undefined) markFailed(span, failure);
      span.end();
    },
  };
}

function nameOperation(span: Span, type: string, name: string | null | undefined): void {
  const shortName = name ? name.slice(0, MAX_NAME) : null;
  span.updateName(shortName ? `${type} ${shortName}` : type);
  span.setAttribute(Attr.operationType, type);
  if (shortName) span.setAttribute(Attr.operationName, shortName);
}

function recordErrors(span: Span, errors: AnswerErrors): void {
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
