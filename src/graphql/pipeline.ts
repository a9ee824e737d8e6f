// The operation pipeline: what every GraphQL operation goes through, on HTTP
// and on graphql-ws alike, as one ordered list of plugins. A plugin is a
// factory returning a plain object of hooks (envelop's shape); the transports'
// adapters (graphql/apollo.ts with http/graphql.ts, and http/graphql-ws.ts)
// call the pipeline at the same points of an operation, so each step (trusted
// documents, limits, authorization, tracing, metrics) is written once.
import type { DocumentNode, GraphQLError, GraphQLFormattedError, OperationDefinitionNode, ParseOptions, ValidationRule } from 'graphql';
import type { Role } from '../config.js';

export type Transport = 'http' | 'ws';

/** What a request carries before parsing: a document, the hash of one (Apollo's persisted-query extension), or both. */
export interface OperationSource {
  readonly query: string | null | undefined;
  readonly extensions: Readonly<Record<string, unknown>> | null | undefined;
}

/** An operation once its document is parsed and validated and the operation to run is known. */
export interface ResolvedOperation {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly operationName: string | null | undefined;
  readonly variables: Readonly<Record<string, unknown>> | undefined;
  /** The caller's role; null without a valid key. */
  readonly role: Role | null;
}

/** Errors of an answer: graphql's own or already formatted. */
export type AnswerErrors = ReadonlyArray<GraphQLError | GraphQLFormattedError> | undefined;

/** The hooks of one operation, made when it starts. */
export interface OperationHooks {
  /** Once the operation is known, before any resolver; throwing refuses it (the error is the answer). */
  readonly onResolved?: (operation: ResolvedOperation) => void;
  /** Wraps the work of the operation (HTTP: Apollo's whole handling; graphql-ws: checks, then execute or setting up a subscription). */
  readonly around?: <T>(work: () => T) => T;
  /** The answer is known: its errors, if any (a subscription: once its stream is set up or refused). */
  readonly onResult?: (errors: AnswerErrors) => void;
  /** The adapter is done with the operation; `failure` when it threw instead of answering. */
  readonly onEnd?: (failure?: unknown) => void;
}

export interface OperationPlugin {
  /**
   * Before parsing: the document to run (a listed one for a hash-only request),
   * undefined to keep what was sent. Throwing refuses the request.
   */
  readonly onSource?: (source: OperationSource) => string | undefined;
  /** Added to the parse options (the token limit). */
  readonly parseOptions?: ParseOptions;
  /** Added to graphql's specified rules. */
  readonly validationRules?: readonly ValidationRule[];
  /** Called as each operation starts; what it returns is called at that operation's later points. */
  readonly onOperation?: (start: { readonly transport: Transport }) => OperationHooks | void;
}

/** One operation going through the pipeline: the adapter calls each point at most once, `end` always. */
export interface OperationRun {
  /** Runs every plugin's onResolved in order; throws the first refusal (the plugins before it have seen the operation). */
  resolved(operation: ResolvedOperation): void;
  /** Runs `work` inside every plugin's `around` (the first plugin's outermost). */
  around<T>(work: () => T): T;
  result(errors: AnswerErrors): void;
  end(failure?: unknown): void;
}

export interface OperationPipeline {
  readonly parseOptions: ParseOptions;
  readonly validationRules: readonly ValidationRule[];
  /** Runs every plugin's onSource in order; throws when one refuses. Undefined: keep the document sent. */
  resolveSource(source: OperationSource): string | undefined;
  start(transport: Transport): OperationRun;
}

export function createOperationPipeline(plugins: readonly OperationPlugin[]): OperationPipeline {
  const sources = plugins.flatMap((p) => (p.onSource ? [p.onSource] : []));
  const starts = plugins.flatMap((p) => (p.onOperation ? [p.onOperation] : []));
  return {
    parseOptions: Object.assign({}, ...plugins.map((p) => p.parseOptions ?? {})) as ParseOptions,
    validationRules: plugins.flatMap((p) => p.validationRules ?? []),
    resolveSource(source) {
      let query: string | undefined;
      for (const onSource of sources) query = onSource(query === undefined ? source : { ...source, query }) ?? query;
      return query;
    },
    start(transport) {
      const hooks = starts.flatMap((onOperation) => onOperation({ transport }) ?? []);
      return runOf(hooks);
    },
  };
}

function runOf(hooks: readonly OperationHooks[]): OperationRun {
  let answered = false;
  let ended = false;
  return {
    resolved(operation) {
      for (const h of hooks) h.onResolved?.(operation);
    },
    around(work) {
      let wrapped = work;
      for (let i = hooks.length - 1; i >= 0; i--) {
        const around = hooks[i]?.around;
        if (!around) continue;
        const inner = wrapped;
        wrapped = () => around(inner);
      }
      return wrapped();
    },
    result(errors) {
      if (answered) return;
      answered = true;
      for (const h of hooks) h.onResult?.(errors);
    },
    end(failure) {
      if (ended) return;
      ended = true;
      for (const h of hooks) h.onEnd?.(failure);
    },
  };
}

/** The hash of Apollo's persisted-query extension, which a client may send instead of a document. */
export function persistedHash(extensions: Readonly<Record<string, unknown>> | null | undefined): string | null {
  const persisted = extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  return typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : null;
}
