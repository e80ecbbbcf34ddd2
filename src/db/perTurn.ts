/**
 * Calls handed over together, so that the lookups and the writes of requests that arrive together
 * share one statement each: perTurn hands over those of one turn of the event loop (lookupBatch.ts);
 * oneBatchInFlight those made while its last batch ran (planBatch.ts).
 */

/** Told of each statement a batcher sent: the requests it served and the seconds until it answered. */
export type BatchObserver = (requests: number, seconds: number) => void;

/** Starts timing a statement of `requests` requests; the function returned tells `observe` when it has answered. */
export function timeBatch(observe: BatchObserver | undefined, requests: number): () => void {
  if (observe === undefined) return () => {};
  const started = performance.now();
  return () => observe(requests, (performance.now() - started) / 1000);
}

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

export interface InFlightLimit {
  /** Calls per statement: more waiting than this go as several statements at once. */
  max: number;
  /** How long a batch in flight holds the next one back: past it (a lock wait, say) the next goes anyway. */
  patienceMs: number;
}

/**
 * perTurn with one batch in flight, as group commit does: calls made while `send`'s last batch runs
 * wait for its answer, then go together as the next batch (at the end of the turn that answer
 * arrives in). Under load that makes fewer, larger statements than one per turn, each taking one
 * backend's turn at the table's hot pages; on this 2-core machine it wrote about a tenth more
 * (docs/concurrency.md, "Writes arriving together"). `send` settles once its statements have
 * answered. A batch slower than `patienceMs` stops holding the others back, so a request stuck on a
 * lock delays its process's other writes by that much at most.
 */
export function oneBatchInFlight<Item, Result>(
  send: (batch: Waiting<Item, Result>[]) => Promise<unknown>,
  { max, patienceMs }: InFlightLimit,
): (item: Item) => Promise<Result> {
  let waiting: Waiting<Item, Result>[] = [];
  /** The batch that holds the next back (null: none). */
  let holding: object | null = null;
  let patience: NodeJS.Timeout | undefined;
  let scheduled = false;
  const schedule = () => {
    if (scheduled || holding !== null || waiting.length === 0) return;
    scheduled = true;
    setImmediate(flush);
  };
  const release = (batch: object) => {
    if (holding !== batch) return;
    holding = null;
    clearTimeout(patience);
    schedule();
  };
  const flush = () => {
    scheduled = false;
    const batch = waiting;
    waiting = [];
    const token = {};
    holding = token;
    patience = setTimeout(() => release(token), patienceMs);
    const sent: Promise<unknown>[] = [];
    for (let at = 0; at < batch.length; at += max) sent.push(send(batch.slice(at, at + max)));
    void Promise.allSettled(sent).then(() => release(token));
  };
  return (item) =>
    new Promise<Result>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      schedule();
    });
}
