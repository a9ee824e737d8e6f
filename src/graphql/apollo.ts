// Apollo Server over the executable schema, with the operation limits, the one
// error formatter, operation-level auth and metrics. The HTTP route
// (http/graphql.ts) hands it requests; graphql-ws does not go through Apollo
// but applies the same limits and formatter (http/graphql-ws.ts).
import { ApolloServer, type ApolloServerPlugin, type PersistedQueryOptions } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { authorizeOperation } from '../auth.js';
import type { GatewayContext } from '../context.js';
import type { GatewayMetrics } from '../metrics.js';
import { federationTracePlugins } from './federation.js';
import { operationSpanPlugin } from '../telemetry/graphql.js';
import type { OperationLimits } from './limits.js';
import { trustedDocumentsPlugin } from './persisted-queries.js';
import type { TrustedDocuments } from './trusted-documents.js';

export interface ApolloOptions {
  readonly schema: GraphQLSchema;
  readonly limits: OperationLimits;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  readonly metrics: GatewayMetrics;
  readonly introspection: boolean;
  /** Inline traces for a supergraph router (see federation.ts). @default false */
  readonly federationTraces?: boolean;
  /** Apollo's APQ options (persisted-queries.ts). @default Apollo's in-process cache */
  readonly persistedQueries?: PersistedQueryOptions;
  /** Only these operations run. @default null (any operation) */
  readonly trustedDocuments?: TrustedDocuments | null;
}

export function createApollo(options: ApolloOptions): ApolloServer<GatewayContext> {
  const { schema, limits, formatError, metrics, introspection, federationTraces = false, trustedDocuments = null } = options;
  return new ApolloServer<GatewayContext>({
    schema,
    csrfPrevention: true,
    // src/index.ts owns SIGTERM/SIGINT: it closes the gateway, which stops Apollo.
    stopOnTerminationSignals: false,
    introspection,
    includeStacktraceInErrorResponses: false,
    formatError,
    persistedQueries: options.persistedQueries ?? {},
    parseOptions: limits.parseOptions,
    validationRules: [...limits.validationRules],
    // No HTTP cache hints are set or sent (answers depend on the caller's key):
    // without this, Apollo's cache-control plugin wraps every field resolver,
    // about 6% of a 50-conversation query's CPU (bench:query).
    plugins: [
      // First: an unlisted operation is refused before Apollo parses it or registers it as a persisted query.
      ...(trustedDocuments ? [trustedDocumentsPlugin(trustedDocuments)] : []),
      operationPlugin(metrics, limits),
      ApolloServerPluginCacheControlDisabled(),
      operationSpanPlugin(),
      ...federationTracePlugins(federationTraces),
    ],
  });
}

/** Auth and the cost check run once the operation is known and before any resolver; then metrics. */
function operationPlugin(metrics: GatewayMetrics, limits: OperationLimits): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      let operationType = 'unknown';
      return {
        async didResolveOperation({ operation, document, request, contextValue }) {
          // Apollo answers a document without a usable operation before this hook runs.
          if (!operation) return;
          operationType = operation.operation;
          authorizeOperation(contextValue.role, operation.operation);
          limits.checkCost(document, operation, request.variables);
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          metrics.observeGraphQL(operationType, errors?.length ? 'error' : 'ok', (performance.now() - started) / 1000);
        },
      };
    },
  };
}
