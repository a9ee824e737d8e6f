// Apollo Server over the executable schema: the HTTP side of the operation
// pipeline (pipeline.ts). Apollo parses and validates with the pipeline's
// parse options and rules; its plugin hands the pipeline the operation once it
// is resolved (authorization, cost, the span's name, the metric's type) and
// the answer's errors. The HTTP route (http/graphql.ts) starts each operation's
// run and gives it to Apollo in the context; graphql-ws calls the same
// pipeline without Apollo (http/graphql-ws.ts).
import { ApolloServer, type ApolloServerPlugin, type PersistedQueryOptions } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { GatewayContext } from '../context.js';
import { federationTracePlugins } from './federation.js';
import type { OperationPipeline, OperationRun } from './pipeline.js';

/** What Apollo's resolvers and plugins receive on HTTP: the gateway's context and the operation's run through the pipeline. */
export interface HttpOperationContext extends GatewayContext {
  readonly operation: OperationRun;
}

export interface ApolloOptions {
  readonly schema: GraphQLSchema;
  readonly pipeline: OperationPipeline;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  readonly introspection: boolean;
  /** Inline traces for a supergraph router (see federation.ts). @default false */
  readonly federationTraces?: boolean;
  /** Apollo's APQ options (persisted-queries.ts). @default Apollo's in-process cache */
  readonly persistedQueries?: PersistedQueryOptions;
}

export function createApollo(options: ApolloOptions): ApolloServer<HttpOperationContext> {
  const { schema, pipeline, formatError, introspection, federationTraces = false } = options;
  return new ApolloServer<HttpOperationContext>({
    schema,
    csrfPrevention: true,
    // src/index.ts owns SIGTERM/SIGINT: it closes the gateway, which stops Apollo.
    stopOnTerminationSignals: false,
    introspection,
    includeStacktraceInErrorResponses: false,
    formatError,
    persistedQueries: options.persistedQueries ?? {},
    parseOptions: pipeline.parseOptions,
    validationRules: [...pipeline.validationRules],
    // No HTTP cache hints are set or sent (answers depend on the caller's key):
    // without this, Apollo's cache-control plugin wraps every field resolver,
    // about 6% of a 50-conversation query's CPU (bench:query).
    plugins: [pipelinePlugin(), ApolloServerPluginCacheControlDisabled(), ...federationTracePlugins<HttpOperationContext>(federationTraces)],
  });
}

/**
 * The pipeline's points in Apollo's request: the operation once resolved
 * (a refusal thrown there is Apollo's answer, before any resolver runs and
 * before a persisted query is registered), then the answer's errors.
 */
function pipelinePlugin(): ApolloServerPlugin<HttpOperationContext> {
  return {
    async requestDidStart({ contextValue }) {
      const run = contextValue.operation;
      return {
        async didResolveOperation({ operation, operationName, document, request }) {
          // Apollo answers a document without a usable operation before this hook runs.
          if (!operation) return;
          run.resolved({ document, operation, operationName, variables: request.variables, role: contextValue.role });
        },
        async willSendResponse({ response }) {
          run.result(response.body.kind === 'single' ? response.body.singleResult.errors : undefined);
        },
      };
    },
  };
}
