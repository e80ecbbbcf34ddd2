/**
 * Webhook delivery metrics, on the application's registry (metrics.ts): attempts by outcome,
 * counted by the process that made them, and two gauges read from the database at scrape time,
 * the same in every process (with WEB_CONCURRENCY the primary keeps one copy: `max`, not the sum).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryOutcome } from '../delivery/deliverer.js';
import type { DeliveryStats } from '../delivery/store.js';

export interface DeliveryMetrics {
  record(outcome: DeliveryOutcome): void;
}

export function createDeliveryMetrics(registry: Registry, stats: () => Promise<DeliveryStats>): DeliveryMetrics {
  const deliveries = new Counter({
    name: 'identity_webhook_deliveries_total',
    help: 'Webhook attempts by outcome: delivered (2xx), failed (any other answer, a timeout or a network error; retried), dead (given up after the retry window: a dead letter)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['delivered', 'failed', 'dead'] as const) deliveries.inc({ outcome }, 0);
  // One read for both gauges per scrape; a database that does not answer leaves the last values.
  let reading: Promise<DeliveryStats | null> | null = null;
  const read = () => {
    reading ??= stats()
      .catch(() => null)
      .finally(() => setImmediate(() => (reading = null)));
    return reading;
  };
  new Gauge({
    name: 'identity_webhook_dead_letters',
    help: 'Dead letters of every webhook endpoint: events not accepted within WEBHOOK_RETRY_HOURS, waiting for redelivery or review',
    registers: [registry],
    aggregator: 'max',
    async collect() {
      const current = await read();
      if (current !== null) this.set(current.deadLetters);
    },
  });
  new Gauge({
    name: 'identity_webhook_lag_events',
    help: "Events final in the log (the watermark) that the slowest endpoint's cursor has not reached",
    registers: [registry],
    aggregator: 'max',
    async collect() {
      const current = await read();
      if (current !== null) this.set(current.lag);
    },
  });
  return { record: (outcome) => deliveries.inc({ outcome }) };
}
