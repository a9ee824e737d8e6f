// Subscriptions whose events each run with a context of their own. graphql-js's
// `subscribe` executes every event of an operation with the operation's one
// context; per-event state (the event's loaders) would have to be written into
// that shared object. Here the source stream is opened as graphql-js does, and
// each event is executed with `eventContext(context, event)` instead.
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';

/** The context one event of a subscription executes with, made from the operation's. */
export type EventContext<C> = (operationContext: C, event: unknown) => C;

export async function subscribeWithEventContext<C>(
  args: ExecutionArgs,
  eventContext: EventContext<C>,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const operationContext = args.contextValue as C;
  return mapEvents(source[Symbol.asyncIterator](), (event) =>
    execute({ ...args, rootValue: event, contextValue: eventContext(operationContext, event) }),
  );
}

/**
 * An iterator over `source` mapped by `map`. Unlike an async generator, its
 * `return()` reaches the source at once, even while a `next()` is waiting for
 * an event: a client that unsubscribes frees the stream without a last event.
 */
function mapEvents<T, R>(source: AsyncIterator<T>, map: (value: T) => R | Promise<R>): AsyncIterableIterator<R> {
  async function mapped(result: IteratorResult<T>): Promise<IteratorResult<R>> {
    if (result.done) return { value: undefined, done: true };
    try {
      return { value: await map(result.value), done: false };
    } catch (err) {
      await source.return?.();
      throw err;
    }
  }
  const iterator: AsyncIterableIterator<R> = {
    next: async () => mapped(await source.next()),
    return: async () => (source.return ? mapped(await source.return()) : { value: undefined, done: true }),
    throw: async (err: unknown) => {
      if (source.throw) return mapped(await source.throw(err));
      throw err;
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
