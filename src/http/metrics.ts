/**
 * Prometheus metrics (prom-client), one registry per application so that tests and workers do
 * not share state. Names and what to alert on are listed in the README, "Observability".
 */
import { classifyDatabaseError, type DatabaseFailure } from '../db/errors.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../db/database.js';
import type { BatchedStatement } from '../db/identifyStore.js';
import type { IdentifyOutcome } from '../identity/identifyService.js';

export interface Metrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  identifyOutcomes: Counter<'outcome'>;
  customerContacts: Histogram;
  retries: Counter<'reason'>;
  blockedIdentifiers: Counter<'field'>;
  batchRequests: Histogram<'statement'>;
  batchSeconds: Histogram<'statement'>;
}

/** SQLSTATEs the service retries, by the name an operator searches for. */
/** Label values of `identity_db_retries_total`, kept as they were before the classifier existed. */
const RETRY_REASONS: Partial<Record<DatabaseFailure, string>> = {
  serialization: 'serialization_failure',
  deadlock: 'deadlock',
  lock_order: 'lock_order',
};

export function createMetrics(poolStats: () => PoolStats): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    registry,
    requestDuration: new Histogram({
      name: 'identity_http_request_duration_seconds',
      help: 'Time from request to response, by route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    identifyOutcomes: new Counter({
      name: 'identity_identify_outcomes_total',
      help: 'POST /identify answers by what they did: created_primary, created_secondary, merged, unchanged',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    customerContacts: new Histogram({
      name: 'identity_identify_customer_contacts',
      help: 'Contacts (rows) of the customer in each /identify answer',
      buckets: [1, 2, 3, 5, 10, 20, 50, 100, 500, 1000, 5000],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'identity_db_retries_total',
      help: 'Database work run again: deadlock, serialization_failure, lock_order (a lock only obtainable out of order was held), or stale_plan (customers changed between read and write)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    blockedIdentifiers: new Counter({
      name: 'identity_identify_blocked_identifiers_total',
      help: 'Blocked identifiers that /identify treated as absent, by field (422 answers included)',
      labelNames: ['field'],
      registers: [registry],
    }),
    batchRequests: new Histogram({
      name: 'identity_db_batch_requests',
      help: "/identify requests served by each of its batched statements: statement=read (every request's read) or write (the plans of writes)",
      labelNames: ['statement'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'identity_db_batch_seconds',
      help: "Time from sending each of /identify's batched statements to its answer, by statement (read, write)",
      labelNames: ['statement'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'identity_db_pool_connections',
    help: 'Database pool: connections in use and idle, and queries waiting for a connection',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const { total, idle, waiting } = poolStats();
      this.set({ state: 'in_use' }, total - idle);
      this.set({ state: 'idle' }, idle);
      this.set({ state: 'waiting' }, waiting);
    },
  });
  return metrics;
}

/** One batched statement of /identify (identifyStore's onBatch). */
export function recordBatch(metrics: Metrics, statement: BatchedStatement, requests: number, seconds: number): void {
  metrics.batchRequests.observe({ statement }, requests);
  metrics.batchSeconds.observe({ statement }, seconds);
}

export function recordRetry(metrics: Metrics, error: unknown): void {
  metrics.retries.inc({ reason: RETRY_REASONS[classifyDatabaseError(error)] ?? 'other' });
}

export function recordIdentify(metrics: Metrics, outcome: IdentifyOutcome, contacts: number): void {
  metrics.identifyOutcomes.inc({ outcome });
  metrics.customerContacts.observe(contacts);
}

export function recordBlocked(metrics: Metrics, fields: readonly string[]): void {
  for (const field of fields) metrics.blockedIdentifiers.inc({ field });
}
