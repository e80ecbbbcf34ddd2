/**
 * WEB_CONCURRENCY > 1: the primary process applies migrations once, forks that many HTTP
 * workers sharing one port (node:cluster), replaces a worker that dies, and on SIGTERM/SIGINT
 * lets every worker finish its in-flight requests before exiting. Correctness does not depend on
 * which worker answers: the database's locks serialise writes across processes.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { ConfigError, type Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate, verifyMigrations } from './db/migrate.js';
import { adoptOrCompareRules } from './db/normalFormStore.js';
import { addConfiguredPreset, syncConfiguredWebhooks } from './services.js';

/** A worker that dies this soon after forking is failing to start, not crashing: give up. */
const STARTUP_WINDOW_MS = 10_000;

export async function superviseWorkers(config: Config): Promise<void> {
  const log = pino({ level: config.logLevel });
  const db = await openDatabase(config.database);
  try {
    if (config.migrateOnStart) await migrate(db);
    else await verifyMigrations(db);
    // Refused once here rather than by every worker in turn.
    const rules = await adoptOrCompareRules(db, config.normalForm);
    if (rules.kind === 'refused') throw new ConfigError(rules.message);
    await addConfiguredPreset(db, config.governance, config.normalForm);
    await syncConfiguredWebhooks(db, config.delivery);
  } finally {
    await db.close();
  }

  let stopping = false;
  const forkedAt = new Map<Worker, number>();
  const fork = () => {
    forkedAt.set(cluster.fork(), Date.now());
  };

  // A worker asked for /metrics: gather every worker's registry and answer with the sum.
  cluster.on('message', (worker, message: Message) => {
    if (message.type !== METRICS_REQUEST) return;
    sumOfWorkersMetrics([...forkedAt.keys()]).then(
      (text) => worker.send({ type: METRICS_REPLY, id: message.id, text }),
      (error: Error) => worker.send({ type: METRICS_REPLY, id: message.id, error: error.message }),
    );
  });

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

/**
 * The messages of the metrics protocol: a worker asks the primary for the service's metrics
 * (REQUEST -> REPLY with the text); the primary asks every worker for its own (SNAPSHOT_REQUEST ->
 * SNAPSHOT with prom-client's JSON) and sums them with `AggregatorRegistry.aggregate`.
 */
const METRICS_REQUEST = 'identity:metrics-request';
const METRICS_REPLY = 'identity:metrics-reply';
const SNAPSHOT_REQUEST = 'identity:metrics-snapshot-request';
const SNAPSHOT = 'identity:metrics-snapshot';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface Message {
  type?: string;
  id?: string;
  text?: string;
  error?: string;
  metrics?: MetricsJson;
}

/** How long the primary waits for a worker's snapshot: a worker stuck longer is left out of the sum. */
const SNAPSHOT_TIMEOUT_MS = 2_000;

async function sumOfWorkersMetrics(workers: readonly Worker[]): Promise<string> {
  const id = randomUUID();
  const snapshots = await Promise.all(
    workers.map(
      (worker) =>
        new Promise<MetricsJson | null>((resolve) => {
          const timer = setTimeout(() => done(null), SNAPSHOT_TIMEOUT_MS);
          const onMessage = (message: Message) => {
            if (message.type === SNAPSHOT && message.id === id) done(message.metrics ?? null);
          };
          const done = (metrics: MetricsJson | null) => {
            clearTimeout(timer);
            worker.off('message', onMessage);
            resolve(metrics);
          };
          worker.on('message', onMessage);
          worker.send({ type: SNAPSHOT_REQUEST, id });
        }),
    ),
  );
  return AggregatorRegistry.aggregate(snapshots.filter((snapshot): snapshot is MetricsJson => snapshot !== null)).metrics();
}

/**
 * In a worker: answers the primary's snapshot requests with `registry`, and returns how /metrics
 * gathers its text: by asking the primary, so a scrape sees the whole service, not one worker.
 */
export function clusterMetricsCollector(registry: Registry): () => Promise<string> {
  process.on('message', (message: Message) => {
    if (message.type !== SNAPSHOT_REQUEST) return;
    void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: SNAPSHOT, id: message.id, metrics }));
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = randomUUID();
      const onMessage = (message: Message) => {
        if (message.type !== METRICS_REPLY || message.id !== id) return;
        process.off('message', onMessage);
        if (message.text === undefined) reject(new Error(message.error ?? 'no metrics from the primary'));
        else resolve(message.text);
      };
      process.on('message', onMessage);
      process.send?.({ type: METRICS_REQUEST, id });
    });
}
