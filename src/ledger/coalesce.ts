// Group commit for a ledger on a server: the calls of one kind made while an earlier batch of that
// kind is being written are written together, in one statement. An idle ledger writes a call at
// once (no added latency); a busy one pays one round trip, one plan and one commit per batch
// instead of per call, which is what keeps a shared ledger near the embedded one's throughput.
// Each caller is answered only after the statement that holds its call has committed.

/** Writes `items` in one statement and gives each its result, in order. */
export type BatchWrite<I, R> = (items: readonly I[]) => Promise<readonly R[]>;

export interface CoalesceOptions<I> {
  /** The most calls one statement carries (bounds its size and its locks). */
  max: number;
  /** The most bytes one statement carries, by `weigh` (a single call heavier than that goes alone). */
  maxBytes?: { bytes: number; weigh: (item: I) => number };
  /**
   * A failed batch is written again call by call, so that only the call at fault fails; a
   * failure that `whole` says concerns every call (the server is away) fails them all at once.
   */
  whole: (err: unknown) => boolean;
}

interface Waiting<I, R> { item: I; resolve: (r: R) => void; reject: (err: unknown) => void }

export function coalesce<I, R>(write: BatchWrite<I, R>, opts: CoalesceOptions<I>): (item: I) => Promise<R> {
  const queue: Waiting<I, R>[] = [];
  let writing = false;

  const settle = async (batch: Waiting<I, R>[]): Promise<void> => {
    try {
      const results = await write(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1 || opts.whole(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      await Promise.all(batch.map((w) => settle([w])));
    }
  };
  /** The calls the next statement carries: in order, at least one, within both bounds. */
  const nextBatch = (): Waiting<I, R>[] => {
    let n = 1;
    for (let bytes = opts.maxBytes?.weigh(queue[0]!.item) ?? 0; n < Math.min(queue.length, opts.max); n++) {
      bytes += opts.maxBytes?.weigh(queue[n]!.item) ?? 0;
      if (opts.maxBytes !== undefined && bytes > opts.maxBytes.bytes) break;
    }
    return queue.splice(0, n);
  };
  const drain = async (): Promise<void> => {
    writing = true;
    while (queue.length > 0) await settle(nextBatch());
    writing = false;
  };

  return (item) => new Promise<R>((resolve, reject) => {
    queue.push({ item, resolve, reject });
    if (!writing) void drain();
  });
}
