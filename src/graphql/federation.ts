// What being an Apollo Federation subgraph adds to the operation rules:
// `_service` (the whole SDL) is introspection by another name, so it follows
// the introspection setting; inline traces (ftv1) are Apollo's, off unless
// configured, and then given to admin callers (the supergraph router's key) only.
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { GraphQLError, type ValidationRule } from 'graphql';
import type { GatewayContext } from '../context.js';

/** The header a router sends to ask a subgraph for an inline trace. */
const TRACE_HEADER = 'apollo-federation-include-trace';

/** Refuses `Query._service` (with where to get the SDL instead) where introspection is off. */
export const noSubgraphSdlRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value !== '_service' || context.getParentType() !== context.getSchema().getQueryType()) return;
    context.reportError(
      new GraphQLError('The subgraph SDL (_service) is off where introspection is (GATEWAY_INTROSPECTION); compose from the output of `npm run schema:subgraph` instead', {
        nodes: [node],
      }),
    );
  },
});

/**
 * Apollo installs its inline-trace plugin for any subgraph, for any caller who
 * sends the header: a trace shows every resolver's timing, and the first one
 * makes Apollo wrap every field resolver of the schema for good (the cost the
 * cache-control plugin had, see apollo.ts). So: disabled unless `enabled`, and
 * then the header of a caller without the admin role is dropped before
 * Apollo's plugin reads it.
 */
export function federationTracePlugins<C extends GatewayContext = GatewayContext>(enabled: boolean): ApolloServerPlugin<C>[] {
  if (!enabled) return [ApolloServerPluginInlineTraceDisabled()];
  const adminOnly: ApolloServerPlugin<C> = {
    async requestDidStart({ request, contextValue }) {
      if (contextValue.role !== 'admin') request.http?.headers.delete(TRACE_HEADER);
    },
  };
  // Apollo calls requestDidStart in plugin order, each up to its first await: adminOnly goes first.
  return [adminOnly, ApolloServerPluginInlineTrace()];
}
