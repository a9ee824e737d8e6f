// Limits every operation is checked against before any resolver runs, the same
// on HTTP and on graphql-ws: document size (tokens, at parse time), depth,
// aliases and directives (graphql-armor's validation rules), introspection (and
// the subgraph SDL, `_service`) when it is off, and the upstream cost estimate (which needs the variables, so it
// runs once the operation is resolved).
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { GraphQLLimits } from '../config.js';
import { ErrorCode } from '../errors.js';
import { estimateUpstreamCalls } from './cost.js';
import { noSubgraphSdlRule } from './federation.js';
import type { OperationPlugin, ResolvedOperation } from './pipeline.js';

export interface OperationLimits {
  readonly parseOptions: ParseOptions;
  /** Added to graphql's specified rules. */
  readonly validationRules: readonly ValidationRule[];
  /** Throws QUERY_TOO_EXPENSIVE (with `cost` and `maxCost` in extensions) above the budget. */
  checkCost(document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | undefined): void;
}

export function createOperationLimits(schema: GraphQLSchema, limits: GraphQLLimits, options: { readonly introspection: boolean }): OperationLimits {
  // Report rather than throw, so a rejected document gets a validation error and not a crash of validate().
  const report = (ctx: ValidationContext | null, error: GraphQLError): void => ctx?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, '')));
  const armor = { exposeLimits: true, onReject: [report], propagateOnRejection: false };
  const validationRules: ValidationRule[] = [
    maxDepthRule({ ...armor, n: limits.maxDepth }) as unknown as ValidationRule,
    maxAliasesRule({ ...armor, n: limits.maxAliases }) as unknown as ValidationRule,
    maxDirectivesRule({ ...armor, n: limits.maxDirectives }) as unknown as ValidationRule,
  ];
  if (!options.introspection) validationRules.push(NoSchemaIntrospectionCustomRule, noSubgraphSdlRule);
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules,
    checkCost(document, operation, variables) {
      const cost = estimateUpstreamCalls(schema, document, operation, variables ?? {});
      if (cost <= limits.maxCost) return;
      throw new GraphQLError(
        `This operation could make up to ${Number.isFinite(cost) ? cost : 'unbounded'} upstream provider calls; the limit is ${limits.maxCost}. Ask for fewer items (first), fewer nested lists or fewer aliases.`,
        { extensions: { code: ErrorCode.QueryTooExpensive, cost: Number.isFinite(cost) ? cost : null, maxCost: limits.maxCost, http: { status: 400 } } },
      );
    },
  };
}

/** The pipeline step: the token limit at parse time, depth, aliases and directives at validation, the cost once the operation is known. */
export function limitsPlugin(limits: OperationLimits): OperationPlugin {
  const hooks = {
    onResolved: ({ document, operation, variables }: ResolvedOperation): void => limits.checkCost(document, operation, variables),
  };
  return { parseOptions: limits.parseOptions, validationRules: limits.validationRules, onOperation: () => hooks };
}
