// Apollo Server over the executable schema, with the operation limits, the one
// error formatter, operation-level auth and metrics. The HTTP route
// (http/graphql.ts) hands it requests; graphql-ws does not go through Apollo
// but applies the same limits and formatter (http/graphql-ws.ts).
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { authorizeOperation } from '../auth.js';
import type { GatewayContext } from '../context.js';
import type { GatewayMetrics } from '../metrics.js';
import { operationSpanPlugin } from '../telemetry/graphql.js';
import type { OperationLimits } from './limits.js';

export interface ApolloOptions {
  readonly schema: GraphQLSchema;
  readonly limits: OperationLimits;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  readonly metrics: GatewayMetrics;
  readonly introspection: boolean;
}

export function createApollo(options: ApolloOptions): ApolloServer<GatewayContext> {
  const { schema, limits, formatError, metrics, introspection } = options;
  return new ApolloServer<GatewayContext>({
    schema,
    csrfPrevention: true,
    // src/index.ts owns SIGTERM/SIGINT: it closes the gateway, which stops Apollo.
    stopOnTerminationSignals: false,
    introspection,
    includeStacktraceInErrorResponses: false,
    formatError,
    parseOptions: limits.parseOptions,
    validationRules: [...limits.validationRules],
    // No HTTP cache hints are set or sent (answers depend on the caller's key):
    // without this, Apollo's cache-control plugin wraps every field resolver,
    // about 6% of a 50-conversation query's CPU (bench:query).
    plugins: [operationPlugin(metrics, limits), ApolloServerPluginCacheControlDisabled(), operationSpanPlugin()],
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
