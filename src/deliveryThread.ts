/**
 * On PostgreSQL, a process's webhook deliverer runs on a worker thread of its own, with its own
 * small pool: reading events, signing and posting them cost the main thread about 100 µs a write
 * (bench `delivery` section), on the event loop that serves /identify, while the machine's other
 * core had time to spare. The thread runs src/delivery/deliverer.ts unchanged
 * (src/deliveryThreadEntry.ts); this side relays `wake` and `stop` to it, and its outcomes and
 * warnings back to the process's metrics and log. A thread that dies is started again.
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
/** A thread that died is started again after this long (the database may be away). */
const RESTART_MS = 1_000;
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
  /** Tests: another entry module, and the wait before a dead thread is started again. */
  entry?: URL;
  restartMs?: number;
}

export function startDeliveryThread(
  target: PostgresTarget,
  { settings, onOutcome, log, entry = DEFAULT_ENTRY, restartMs = RESTART_MS }: DeliveryThreadOptions,
): Deliverer {
  let worker: Worker | null = null;
  let stopping = false;
  let restart: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();

  const spawn = () => {
    const data: DeliveryThreadData = { target: { ...target, poolSize: DELIVERY_POOL_SIZE }, settings };
    const thread = newThread(entry, data);
    thread.on('message', (message: FromDeliveryThread) => {
      if (message.type === 'outcome') onOutcome?.(message.outcome);
      else log?.warn(message.fields, message.message);
    });
    thread.on('error', (error: Error) => log?.warn({ err: error.message }, 'webhook delivery thread failed'));
    exited = new Promise((resolve) =>
      thread.once('exit', () => {
        worker = null;
        if (!stopping) restart = setTimeout(spawn, restartMs);
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
      const timer = setTimeout(() => void thread.terminate(), STOP_WAIT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
