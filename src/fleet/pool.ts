// Runs a task per item with at most `limit` running at once, starting them in item order. What a
// fleet holds in memory is bounded by this: a cluster's snapshot lives only while its task runs.

export interface PoolOptions {
  /** Once aborted, no further item is started (running ones finish or are cut by their owner). */
  signal?: AbortSignal;
}

/**
 * Each item's result (or the error it threw) at the item's index; items never started because the
 * signal was aborted are left `undefined`. Never rejects: a task's failure is that item's alone.
 */
export async function runPool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
  options: PoolOptions = {},
): Promise<(PromiseSettledResult<R> | undefined)[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`pool limit must be a positive integer (got ${limit})`);
  const results: (PromiseSettledResult<R> | undefined)[] = new Array<PromiseSettledResult<R> | undefined>(
    items.length,
  ).fill(undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && options.signal?.aborted !== true) {
      const i = next++;
      try {
        results[i] = { status: "fulfilled", value: await task(items[i] as T, i) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
