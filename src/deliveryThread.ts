/**
 * On PostgreSQL, a process's webhook deliverer runs on a worker thread of its own, with its own
 * small pool: reading events, signing and posting them cost the main thread about 100 µs a write
 * (bench `delivery` section), on the event loop that serves /identify, while the machine's other
 * core had time to spare. The thread runs src/delivery/deliverer.ts unchanged
 * (src/deliveryThreadEntry.ts); this side relays `wake` and `stop` to it, and its outcomes and
 * warnings back to the process's metrics and log. A thread that dies is started again (restartDelayMs).
 *
 * PGlite stays on the main thread: it is one in-process database that a thread cannot share.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DatabaseTarget } from './db/database.js';
import type { Deliverer, DelivererLog, DeliveryOutcome, DeliverySettings } from './delivery/deliverer.js';

export type PostgresTarget = Extract<DatabaseTarget, { kind: 'postgres' }>;

/** What the thread is started with (its `workerData`). */
export interface DeliveryThreadData {
  target: PostgresTarget;
  settings: DeliverySettings;
}
export type ToDeliveryThread = { type: 'wake' } | { type: 'stop' };
export type FromDeliveryThread = { type: 'outcome'; outcome: DeliveryOutcome } | { type: 'warn'; fields: object; message: string };

/** Connections of the thread's own pool: each endpoint's work holds at most one at a time. */
export const DELIVERY_POOL_SIZE = 2;
/**
 * A thread that died is started again after RESTART_MS, doubled for each death in a row (one that
 * cannot start, such as a broken install, would otherwise die and log every second), at most
 * MAX_RESTART_MS; a thread that ran STABLE_MS before dying starts the count again.
 */
const RESTART_MS = 1_000;
const MAX_RESTART_MS = 60_000;
const STABLE_MS = 30_000;

/** The wait before starting a thread again after `deaths` deaths in a row (1: the first). */
export function restartDelayMs(deaths: number, firstMs: number, maxMs = MAX_RESTART_MS): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(deaths - 1, 0), 30));
}
/** How long `stop` waits for the thread to release its leases before ending it. */
const STOP_WAIT_MS = 5_000;

/** The entry beside this file: .ts when run from source (tsx), .js once built. */
const DEFAULT_ENTRY = new URL(`./deliveryThreadEntry${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Built, the entry is JavaScript. From source (tests, `npm run dev`), Node 20 does not apply tsx's
 * loader to a worker's entry module, so the thread loads it through tsx's own API.
 */
function newThread(entry: URL, data: DeliveryThreadData): Worker {
  if (entry.pathname.endsWith('.js')) return new Worker(entry, { workerData: data });
  const [tsx, href] = [JSON.stringify(import.meta.resolve('tsx/esm/api')), JSON.stringify(entry.href)];
  return new Worker(`import(${tsx}).then(({ tsImport }) => tsImport(${href}, ${href}))`, { eval: true, workerData: data });
}

export interface DeliveryThreadOptions {
  settings: DeliverySettings;
  onOutcome?: (outcome: DeliveryOutcome) => void;
  log?: DelivererLog;
  /**
   * Tests: another entry module, the first wait before a dead thread is started again, how long a
   * thread must have run for its death to count as the first again, how long `stop` waits.
   */
  entry?: URL;
  restartMs?: number;
  stableMs?: number;
  stopWaitMs?: number;
}

export function startDeliveryThread(
  target: PostgresTarget,
  {
    settings,
    onOutcome,
    log,
    entry = DEFAULT_ENTRY,
    restartMs = RESTART_MS,
    stableMs = STABLE_MS,
    stopWaitMs = STOP_WAIT_MS,
  }: DeliveryThreadOptions,
): Deliverer {
  let worker: Worker | null = null;
  let stopping = false;
  let restart: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();
  let deaths = 0;

  const spawn = () => {
    const data: DeliveryThreadData = { target: { ...target, poolSize: DELIVERY_POOL_SIZE }, settings };
    const startedAt = Date.now();
    const thread = newThread(entry, data);
    let failure: string | null = null;
    thread.on('message', (message: FromDeliveryThread) => {
      if (message.type === 'outcome') onOutcome?.(message.outcome);
      else log?.warn(message.fields, message.message);
    });
    thread.on('error', (error: Error) => (failure = error.message));
    exited = new Promise((resolve) =>
      thread.once('exit', () => {
        worker = null;
        if (!stopping) {
          deaths = Date.now() - startedAt >= stableMs ? 1 : deaths + 1;
          const restartInMs = restartDelayMs(deaths, restartMs);
          log?.warn({ err: failure ?? 'the thread ended', restartInMs }, 'webhook delivery thread failed');
          restart = setTimeout(spawn, restartInMs);
        }
        resolve();
      }),
    );
    worker = thread;
  };
  spawn();

  return {
    wake() {
      worker?.postMessage({ type: 'wake' } satisfies ToDeliveryThread);
    },
    async stop() {
      stopping = true;
      clearTimeout(restart);
      const thread = worker;
      if (thread === null) return;
      thread.postMessage({ type: 'stop' } satisfies ToDeliveryThread);
      const timer = setTimeout(() => void thread.terminate(), stopWaitMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
