// The operation pipeline's step for the response cache: it tells the tracked
// HTTP operation (read-tracking.ts) when its answer must not be shared. Only a
// query whose every root field reads provider data through the entity cache
// qualifies (its counters then cover all it shows), and only without fields
// that read elsewhere; mutations, subscriptions, introspection, stored events,
// accounts, keys and outbound messages never do, nor an answer with errors. On graphql-ws nothing is tracked and this does nothing.
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { AnswerErrors, OperationPlugin, ResolvedOperation } from '../graphql/pipeline.js';
import { refuseSharing } from './read-tracking.js';

/** Root fields whose answers come from provider data read through the entity cache. */
const SHAREABLE_ROOT_FIELDS: ReadonlySet<string> = new Set(['contacts', 'contact', 'conversations', 'conversation', '__typename']);

/**
 * Fields beneath them that read beyond the entity cache, so no counter covers
 * them: the outbound store (`Message.outboundMessage`) and the accounts registry
 * (`account` of every type). A new field of that kind belongs here.
 */
const UNTRACKED_FIELDS: ReadonlySet<string> = new Set(['outboundMessage', 'account']);

export function responseCachePlugin(): OperationPlugin {
  const hooks = {
    onResolved({ document, operation }: ResolvedOperation): void {
      if (operation.operation !== 'query') refuseSharing(`a ${operation.operation} is never shared`);
      else if (!shareableSelection(fragmentsOf(document), operation.selectionSet, true, new Set())) refuseSharing('a field reads beyond the entity cache');
    },
    onResult(errors: AnswerErrors): void {
      if (errors?.length) refuseSharing('the answer has errors');
    },
  };
  return { onOperation: () => hooks };
}

function fragmentsOf(document: DocumentNode): ReadonlyMap<string, FragmentDefinitionNode> {
  return new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
}

function shareableSelection(fragments: ReadonlyMap<string, FragmentDefinitionNode>, selectionSet: SelectionSetNode, root: boolean, visited: Set<string>): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (root ? !SHAREABLE_ROOT_FIELDS.has(name) : UNTRACKED_FIELDS.has(name)) return false;
      return !selection.selectionSet || shareableSelection(fragments, selection.selectionSet, false, visited);
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) return shareableSelection(fragments, selection.selectionSet, root, visited);
    const key = `${root ? 'root:' : ''}${selection.name.value}`;
    if (visited.has(key)) return true;
    visited.add(key);
    const fragment = fragments.get(selection.name.value);
    return fragment !== undefined && shareableSelection(fragments, fragment.selectionSet, root, visited);
  });
}
