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
 * What a batch's statement answered, to be handed out: settles the batch's callers. oneBatchInFlight
 * calls it after it has sent the next batch.
 */
export type Settle = () => void;

/**
 * perTurn with one batch in flight, as group commit does: calls made while `send`'s last batch runs
 * wait for its answer, then go together as the next batch. Under load that makes fewer, larger
 * statements than one per turn, each taking one backend's turn at the table's hot pages; on this
 * 2-core machine it wrote about a tenth more (docs/concurrency.md, "Writes arriving together").
 * The next batch goes as soon as the answer arrives, before the answered callers are settled:
 * settling them writes their HTTP answers, and the statement should not wait for that. `send`
 * resolves, once its statement has answered, to the function that settles its callers. A batch
 * slower than `patienceMs` stops holding the others back, so a request stuck on a lock delays its
 * process's other writes by that much at most.
 */
export function oneBatchInFlight<Item, Result>(
  send: (batch: Waiting<Item, Result>[]) => Promise<Settle>,
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
  /** Frees the way: the calls waiting meanwhile go now, not a turn later. */
  const release = (batch: object) => {
    if (holding !== batch) return;
    holding = null;
    clearTimeout(patience);
    if (!scheduled && waiting.length > 0) flush();
  };
  const flush = () => {
    scheduled = false;
    const batch = waiting;
    waiting = [];
    const token = {};
    holding = token;
    patience = setTimeout(() => release(token), patienceMs);
    const chunks: Waiting<Item, Result>[][] = [];
    for (let at = 0; at < batch.length; at += max) chunks.push(batch.slice(at, at + max));
    let running = chunks.length;
    for (const chunk of chunks) {
      const answered = (settle: Settle) => {
        if (--running === 0) release(token);
        // An answer that cannot be read fails its callers (those not settled yet), not the process.
        try {
          settle();
        } catch (error) {
          chunk.forEach((each) => each.reject(error));
        }
      };
      send(chunk).then(answered, (error: unknown) => answered(() => chunk.forEach((each) => each.reject(error))));
    }
  };
  return (item) =>
    new Promise<Result>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      schedule();
    });
}
