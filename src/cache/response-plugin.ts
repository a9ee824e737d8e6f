// The operation pipeline's step for the response cache: it tells the tracked
// HTTP operation (read-tracking.ts) when its answer must not be shared. Only a
// query whose every root field reads provider data through the entity cache
// qualifies (its counters then cover all it shows); mutations, subscriptions,
// introspection, stored events, accounts and keys never do, nor an answer with
// errors. On graphql-ws nothing is tracked and this does nothing.
import { Kind, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { AnswerErrors, OperationPlugin, ResolvedOperation } from '../graphql/pipeline.js';
import { refuseSharing } from './read-tracking.js';

/** Root fields whose answers come from provider data read through the entity cache, and nothing else. */
const SHAREABLE_ROOT_FIELDS: ReadonlySet<string> = new Set(['contacts', 'contact', 'conversations', 'conversation', '__typename']);

export function responseCachePlugin(): OperationPlugin {
  const hooks = {
    onResolved({ document, operation }: ResolvedOperation): void {
      if (operation.operation !== 'query') refuseSharing(`a ${operation.operation} is never shared`);
      else if (!onlyShareableFields(document, operation.selectionSet, new Set())) refuseSharing('a root field reads beyond the entity cache');
    },
    onResult(errors: AnswerErrors): void {
      if (errors?.length) refuseSharing('the answer has errors');
    },
  };
  return { onOperation: () => hooks };
}

function onlyShareableFields(document: DocumentNode, selectionSet: SelectionSetNode, visited: Set<string>): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.kind === Kind.FIELD) return SHAREABLE_ROOT_FIELDS.has(selection.name.value);
    if (selection.kind === Kind.INLINE_FRAGMENT) return onlyShareableFields(document, selection.selectionSet, visited);
    const name = selection.name.value;
    if (visited.has(name)) return true;
    visited.add(name);
    const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name);
    return fragment?.kind === Kind.FRAGMENT_DEFINITION && onlyShareableFields(document, fragment.selectionSet, visited);
  });
}
