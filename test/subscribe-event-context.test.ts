// graphql/subscribe.ts: every event of a subscription executes with a context of its own,
// made from the operation's, which is never written to; unsubscribing frees the source at once.
import { parse } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { describe, expect, it } from 'vitest';
import { subscribeWithEventContext } from '../src/graphql/subscribe.js';

interface Ctx {
  readonly operation: string;
  readonly event?: number;
}

function schemaOver(source: () => AsyncIterableIterator<number>) {
  return makeExecutableSchema({
    typeDefs: 'type Query { ok: Boolean } type Subscription { tick: String }',
    resolvers: {
      Subscription: {
        tick: {
          subscribe: source,
          resolve: (event: number, _: unknown, ctx: Ctx) => `${ctx.operation}:${ctx.event}:${event}`,
        },
      },
    },
  });
}

describe('subscribeWithEventContext', () => {
  it('executes each event with the context made for it and leaves the operation context untouched', async () => {
    async function* ticks(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    const operationContext: Ctx = Object.freeze({ operation: 'op' });
    const made: number[] = [];
    const result = await subscribeWithEventContext<Ctx>(
      { schema: schemaOver(ticks), document: parse('subscription { tick }'), contextValue: operationContext },
      (ctx, event) => {
        made.push(event as number);
        return { ...ctx, event: (event as number) * 10 };
      },
    );
    if (!(Symbol.asyncIterator in result)) throw new Error(`expected a stream, got ${JSON.stringify(result)}`);
    const seen: unknown[] = [];
    for await (const next of result) seen.push(next.data?.['tick']);
    expect(seen).toEqual(['op:10:1', 'op:20:2']);
    expect(made).toEqual([1, 2]);
    expect(operationContext).toEqual({ operation: 'op' });
  });

  it('returns the source at once when the client unsubscribes while waiting for an event', async () => {
    let returned = 0;
    const never: AsyncIterableIterator<number> = {
      next: () => new Promise<IteratorResult<number>>(() => undefined),
      return: async () => {
        returned += 1;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => never,
    };
    const result = await subscribeWithEventContext<Ctx>(
      { schema: schemaOver(() => never), document: parse('subscription { tick }'), contextValue: { operation: 'op' } },
      (ctx) => ctx,
    );
    if (!(Symbol.asyncIterator in result)) throw new Error('expected a stream');
    void result.next();
    await expect(result.return!()).resolves.toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
  });

  it('answers a subscribe resolver that throws with its error, not a stream', async () => {
    const result = await subscribeWithEventContext<Ctx>(
      {
        schema: schemaOver(() => {
          throw new Error('no such filter');
        }),
        document: parse('subscription { tick }'),
        contextValue: { operation: 'op' },
      },
      (ctx) => ctx,
    );
    expect(Symbol.asyncIterator in result).toBe(false);
    expect((result as { errors?: readonly Error[] }).errors?.[0]?.message).toBe('no such filter');
  });
});
