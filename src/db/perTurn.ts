/**
 * Calls made in one turn of the event loop, handed over together: what lets the lookups and the
 * writes of requests that arrive together share one statement each (lookupBatch.ts, planBatch.ts).
 */

export interface Waiting<Item, Result> {
  item: Item;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

/**
 * A function whose calls are collected until the turn ends (`setImmediate`: after every request
 * whose data this turn read has been parsed) or `max` are waiting, then passed to `send`, which
 * settles each one.
 */
export function perTurn<Item, Result>(send: (batch: Waiting<Item, Result>[]) => void, max: number): (item: Item) => Promise<Result> {
  let waiting: Waiting<Item, Result>[] = [];
  const flush = () => {
    const batch = waiting;
    waiting = [];
    if (batch.length > 0) send(batch);
  };
  return (item) =>
    new Promise<Result>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (waiting.length === 1) setImmediate(flush);
      else if (waiting.length >= max) flush();
    });
}
