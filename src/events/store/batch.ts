// Group commit for the store: concurrent callers' items go to the server in one
// call (one insertMany instead of N insertOne), which is how ingest keeps up
// with the store. A batch leaves as soon as a write slot is free, so a lone
// delivery waits for nothing but one turn of the event loop, and under load the
// batches grow by themselves while earlier ones are in flight.

export interface BatcherOptions {
  /** Largest batch sent in one call. @default 500 (items) */
  readonly maxBatch?: number;
  /** Batches in flight at once. @default 2 */
  readonly maxInFlight?: number;
}

/**
 * `run` gets a batch and returns one outcome per item, in order (an `Error`
 * for an item that failed on its own); if it throws, every item of the batch
 * rejects with that error.
 */
export function createBatcher<T, R>(run: (items: readonly T[]) => Promise<ReadonlyArray<R | Error>>, options: BatcherOptions = {}): (item: T) => Promise<R> {
  const maxBatch = options.maxBatch ?? 500;
  const maxInFlight = options.maxInFlight ?? 2;
  let queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(maxBatch);
      inFlight += 1;
      run(batch.map((p) => p.item))
        .then(
          (outcomes) => batch.forEach((p, i) => {
            const outcome = outcomes[i];
            if (outcome instanceof Error) p.reject(outcome);
            else p.resolve(outcome as R);
          }),
          (error: unknown) => batch.forEach((p) => p.reject(error)),
        )
        .finally(() => {
          inFlight -= 1;
          schedule();
        });
    }
  };
  const schedule = (): void => {
    if (scheduled || queue.length === 0) return;
    scheduled = true;
    // setImmediate, not a microtask: requests parsed in the same I/O turn join the batch.
    setImmediate(flush);
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      schedule();
    });
}
