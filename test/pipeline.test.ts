// The operation pipeline's contract (src/graphql/pipeline.ts), which both
// transports' adapters rely on: plugins run in list order, the first refusal
// stops the checks after it, `around` nests with the first plugin outermost,
// and an operation's answer and end are reported once.
import { GraphQLError, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createOperationPipeline, type OperationPlugin, type ResolvedOperation } from '../src/graphql/pipeline.js';

const document = parse('query Q { __typename }');
const operation: ResolvedOperation = { document, operation: document.definitions[0] as OperationDefinitionNode, operationName: 'Q', variables: undefined, role: 'viewer' };

function recorder(name: string, calls: string[], refuse = false): OperationPlugin {
  return {
    onOperation: ({ transport }) => {
      calls.push(`${name}:start:${transport}`);
      return {
        onResolved() {
          calls.push(`${name}:resolved`);
          if (refuse) throw new GraphQLError(`${name} refuses`);
        },
        around(work) {
          calls.push(`${name}:enter`);
          try {
            return work();
          } finally {
            calls.push(`${name}:leave`);
          }
        },
        onResult: (errors) => calls.push(`${name}:result:${errors?.length ?? 0}`),
        onEnd: (failure) => calls.push(`${name}:end:${failure === undefined ? 'ok' : 'failed'}`),
      };
    },
  };
}

describe('operation pipeline', () => {
  it('runs the plugins in list order, nests around with the first outermost, and reports the answer and the end once', () => {
    const calls: string[] = [];
    const run = createOperationPipeline([recorder('a', calls), recorder('b', calls)]).start('ws');
    run.resolved(operation);
    expect(run.around(() => (calls.push('work'), 42))).toBe(42);
    run.result(undefined);
    run.result([new GraphQLError('late')]);
    run.end();
    run.end(new Error('again'));
    expect(calls).toEqual([
      'a:start:ws', 'b:start:ws',
      'a:resolved', 'b:resolved',
      'a:enter', 'b:enter', 'work', 'b:leave', 'a:leave',
      'a:result:0', 'b:result:0',
      'a:end:ok', 'b:end:ok',
    ]);
  });

  it('stops at the first refusal: the plugins before it have seen the operation, the ones after have not', () => {
    const calls: string[] = [];
    const run = createOperationPipeline([recorder('a', calls), recorder('b', calls, true), recorder('c', calls)]).start('http');
    expect(() => run.resolved(operation)).toThrow('b refuses');
    expect(calls.filter((c) => c.endsWith(':resolved'))).toEqual(['a:resolved', 'b:resolved']);
  });

  it('gives each source step the document the one before chose, and keeps what was sent when none chooses', () => {
    const listed: OperationPlugin = { onSource: ({ query }) => (query ? undefined : '{ listed }') };
    const seen: Array<string | null | undefined> = [];
    const spy: OperationPlugin = { onSource: ({ query }) => (seen.push(query), undefined) };
    const pipeline = createOperationPipeline([listed, spy]);
    expect(pipeline.resolveSource({ query: null, extensions: { persistedQuery: { sha256Hash: 'x' } } })).toBe('{ listed }');
    expect(pipeline.resolveSource({ query: '{ sent }', extensions: null })).toBeUndefined();
    expect(seen).toEqual(['{ listed }', '{ sent }']);
    expect(() => createOperationPipeline([{ onSource: () => { throw new GraphQLError('not listed'); } }]).resolveSource({ query: '{ x }', extensions: null })).toThrow('not listed');
  });

  it('collects the parse options and validation rules of every plugin', () => {
    const rule = (): Record<string, never> => ({});
    const pipeline = createOperationPipeline([{ parseOptions: { maxTokens: 10 } }, { validationRules: [rule] }, { validationRules: [rule] }]);
    expect(pipeline.parseOptions).toEqual({ maxTokens: 10 });
    expect(pipeline.validationRules).toHaveLength(2);
  });
});
