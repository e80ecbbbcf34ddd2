/** Entry point of `npm start`: configuration, database, migrations, HTTP, graceful shutdown. */
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { deliveryStore } from './db/deliveryStore.js';
import { startDeliverer, type DeliveryOutcome } from './delivery/deliverer.js';
import { startDeliveryThread } from './deliveryThread.js';
import { createWebhookAdmin } from './delivery/webhookAdmin.js';
import { createDeliveryMetrics } from './http/deliveryMetrics.js';
import { migrate, verifyMigrations } from './db/migrate.js';
import { adoptOrCompareRules } from './db/normalFormStore.js';
import { buildApp } from './http/app.js';
import { createMetrics, recordBatch, recordRetry } from './http/metrics.js';
import { addConfiguredPreset, createServices, syncConfiguredWebhooks } from './services.js';
import { clusterMetricsCollector, superviseWorkers } from './workers.js';

/** Where `npm run build` puts the explorer page: dist/public, from dist/main.js and src/main.ts alike. */
const EXPLORER_DIR = fileURLToPath(new URL('../dist/public', import.meta.url));

export async function serve(): Promise<void> {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) return superviseWorkers(config);
  const db = await openDatabase(config.database);
  // A cluster's primary has migrated before forking; its workers only check.
  if (config.migrateOnStart && cluster.isPrimary) await migrate(db);
  else await verifyMigrations(db);
  // The table's values were normalised by some rules; a process by other rules would not find them.
  const rules = await adoptOrCompareRules(db, config.normalForm);
  if (rules.kind === 'refused') {
    await db.close();
    throw new ConfigError(rules.message);
  }
  const metrics = createMetrics(() => db.stats());
  const services = createServices(db, config.governance, {
    rules: config.normalForm,
    onRetry: (error, attempt) => {
      recordRetry(metrics, error);
      app.log.warn({ attempt, code: (error as { code?: string }).code }, 'transaction retried');
    },
    onStalePlan: () => metrics.retries.inc({ reason: 'stale_plan' }),
    onBatch: (statement, requests, seconds) => recordBatch(metrics, statement, requests, seconds),
  });
  // Like migrations, the preset is the cluster primary's to add; its workers only read the list.
  if (cluster.isPrimary) await addConfiguredPreset(db, config.governance, config.normalForm);
  // Change events to webhooks: every process (every worker) delivers; leases keep it one per endpoint.
  if (cluster.isPrimary) await syncConfiguredWebhooks(db, config.delivery);
  const deliveries = deliveryStore(db);
  const deliveryMetrics = createDeliveryMetrics(metrics.registry, () => deliveries.stats());
  const app = await buildApp({
    db,
    ...services,
    responseFormat: config.responseFormat,
    logLevel: config.logLevel,
    http: config.http,
    metrics,
    explorerDir: EXPLORER_DIR,
    webhooks: createWebhookAdmin(deliveries, { onChange: () => deliverer.wake() }),
    ...(cluster.isWorker ? { collectMetrics: clusterMetricsCollector(metrics.registry) } : {}),
  });
  const delivering = { settings: config.delivery, onOutcome: (outcome: DeliveryOutcome) => deliveryMetrics.record(outcome), log: app.log };
  const deliverer =
    config.database.kind === 'postgres' ? startDeliveryThread(config.database, delivering) : startDeliverer(deliveries, delivering);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    await app.close(); // stops accepting, waits for in-flight requests
    await deliverer.stop(); // attempts in flight are abandoned (sent again later), leases released
    await db.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    {
      database: config.database.kind,
      phoneRegion: config.normalForm.phoneRegion,
      emailCanonicalForm: config.normalForm.emailCanonicalForm,
    },
    'identity service ready',
  );
}

export function reportStartupFailure(error: unknown): never {
  const message = error instanceof ConfigError ? error.message : `start-up failed: ${(error as Error).message ?? error}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
