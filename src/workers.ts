/**
 * WEB_CONCURRENCY > 1: the primary process applies migrations once, forks that many HTTP
 * workers sharing one port (node:cluster), replaces a worker that dies, and on SIGTERM/SIGINT
 * lets every worker finish its in-flight requests before exiting. Correctness does not depend on
 * which worker answers: the database's locks serialise writes across processes.
 */
import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';

/** A worker that dies this soon after forking is failing to start, not crashing: give up. */
const STARTUP_WINDOW_MS = 10_000;

export async function superviseWorkers(config: Config): Promise<void> {
  const log = pino({ level: config.logLevel });
  if (config.migrateOnStart) {
    const db = await openDatabase(config.database);
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
  }

  let stopping = false;
  const forkedAt = new Map<Worker, number>();
  const fork = () => {
    // Workers must not race to migrate; the primary did it.
    forkedAt.set(cluster.fork({ MIGRATE_ON_START: 'false' }), Date.now());
  };

  cluster.on('exit', (worker, code, signal) => {
    const startedAt = forkedAt.get(worker) ?? 0;
    forkedAt.delete(worker);
    if (stopping) {
      if (forkedAt.size === 0) process.exit(0);
      return;
    }
    if (Date.now() - startedAt < STARTUP_WINDOW_MS && code !== 0) {
      log.fatal({ pid: worker.process.pid, code }, 'worker failed to start; stopping');
      stopping = true;
      for (const other of forkedAt.keys()) other.process.kill('SIGTERM');
      process.exitCode = 1;
      if (forkedAt.size === 0) process.exit(1);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting a new one');
    fork();
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, workers: forkedAt.size }, 'shutting down: workers finish in-flight requests');
    for (const worker of forkedAt.keys()) worker.process.kill('SIGTERM');
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  for (let i = 0; i < config.workers; i++) fork();
  log.info({ workers: config.workers, database: config.database.kind }, 'identity service primary started');
}
