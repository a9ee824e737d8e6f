// The worst-case upstream cost of an operation, estimated before it runs: each
// field that can call a provider costs its calls once per parent it may resolve
// under, and a connection's `first` multiplies everything below it. Aliases and
// fragments count every time they select a field, so 1,000 aliases of one list
// cost 1,000 lists. The figure is an upper bound: DataLoader dedupes within a
// request, so real queries usually cost less (the inbox query: 651 estimated,
// 111 made).
import {
  getNamedType,
  isObjectType,
  Kind,
  valueFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { MAX_PAGES_PER_CONNECTION } from '../connections.js';

/**
 * Upstream calls per resolution of `Type.field`. Lists cost one page, or
 * MAX_PAGES_PER_CONNECTION when a filter may make the gateway follow cursors.
 * Fields not listed are served from their parent or the store and cost 0.
 */
const FIELD_CALLS: Readonly<Record<string, number | 'list'>> = {
  'Query.node': 1,
  'Query.contact': 1,
  'Query.conversation': 1,
  'Query.user': 1,
  'Query.webhook': 1,
  'Query.webhooks': 1,
  // Podium pages its locations (10 pages at most); HighLevel answers one.
  'Query.locations': 10,
  // A supergraph router's entity fetch: one load per representation (see representationsOf).
  'Query._entities': 1,
  'Query.contacts': 'list',
  'Query.conversations': 'list',
  'Query.users': 'list',
  'Conversation.contact': 1,
  'Conversation.assignedUser': 1,
  'Conversation.messages': 'list',
  'Message.conversation': 1,
  'Message.contact': 1,
  'Message.sender': 1,
  'Mutation.createWebhook': 2,
  'Mutation.updateWebhook': 2,
  'Mutation.deleteWebhook': 2,
};

/** `first` when an argument or variable gives none (the schema's default, else the maximum). */
const MAX_FIRST = 100;

interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Readonly<Record<string, unknown>>;
}

export function estimateUpstreamCalls(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  return selectionCost({ schema, fragments, variables }, root, operation.selectionSet, 1, new Set());
}

function selectionCost(walk: Walk, type: GraphQLNamedType, set: SelectionSetNode, multiplicity: number, seen: ReadonlySet<string>): number {
  let cost = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      cost += fieldCost(walk, type, selection, multiplicity, seen);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition ? (walk.schema.getType(selection.typeCondition.name.value) ?? type) : type;
      cost += selectionCost(walk, on, selection.selectionSet, multiplicity, seen);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      // A fragment cycle is a validation error reported elsewhere; do not loop on it.
      if (!fragment || seen.has(name)) continue;
      const on = walk.schema.getType(fragment.typeCondition.name.value) ?? type;
      cost += selectionCost(walk, on, fragment.selectionSet, multiplicity, new Set([...seen, name]));
    }
    if (!Number.isFinite(cost)) return Number.POSITIVE_INFINITY;
  }
  return cost;
}

function fieldCost(walk: Walk, parent: GraphQLNamedType, node: FieldNode, multiplicity: number, seen: ReadonlySet<string>): number {
  const field = fieldOf(parent, node.name.value);
  if (!field) return 0;
  const calls = FIELD_CALLS[`${parent.name}.${field.name}`] ?? 0;
  const filtered = node.arguments?.some((a) => a.name.value === 'filter' && a.value.kind !== Kind.NULL) ?? false;
  const own = calls === 'list' ? (filtered ? MAX_PAGES_PER_CONNECTION : 1) : calls;
  // _entities resolves every representation it is given, and its selection once for each.
  const times = parent.name === walk.schema.getQueryType()?.name && field.name === '_entities' ? representationsOf(walk, node) : 1;
  const childMultiplicity = (hasFirst(field) ? multiplicity * firstOf(walk, field, node) : multiplicity) * times;
  const children = node.selectionSet ? selectionCost(walk, getNamedType(field.type), node.selectionSet, childMultiplicity, seen) : 0;
  return multiplicity * times * own + children;
}

/** How many entity representations an `_entities` field is given (a literal list or a variable). */
function representationsOf(walk: Walk, node: FieldNode): number {
  const value = node.arguments?.find((a) => a.name.value === 'representations')?.value;
  if (!value) return 0;
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const given = walk.variables[value.name.value];
    return Array.isArray(given) ? given.length : given == null ? 0 : 1;
  }
  // A single value coerces to a list of one.
  return 1;
}

function fieldOf(parent: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | null {
  // On an interface only the fields every member shares can be selected (Node.id); none of those cost.
  if (!isObjectType(parent)) return null;
  return parent.getFields()[name] ?? null;
}

function hasFirst(field: GraphQLField<unknown, unknown>): boolean {
  return field.args.some((a) => a.name === 'first');
}

function firstOf(walk: Walk, field: GraphQLField<unknown, unknown>, node: FieldNode): number {
  const arg = field.args.find((a) => a.name === 'first');
  const given = node.arguments?.find((a) => a.name.value === 'first');
  const value = given && arg ? valueFromAST(given.value, arg.type, walk.variables as Record<string, unknown>) : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, Math.min(value, MAX_FIRST));
  // An absent argument (or an absent variable) takes the schema default.
  const fallback = arg?.defaultValue;
  return typeof fallback === 'number' ? fallback : MAX_FIRST;
}
