/**
 * The service's batched statements during a run, read from its /metrics before and after
 * (`identity_db_batch_requests`, `identity_db_batch_seconds`): how many requests each statement
 * served, how long each took to answer, and for how much of the run one was in flight.
 */
import type { BatchedStatement } from '../src/db/identifyStore.js';
import { metricsText } from './scrape.js';

export interface BatchFigures {
  statements: number;
  requestsPerStatement: number;
  msPerStatement: number;
  /** The statements' seconds summed over the run's seconds: the share of the run one was in flight (above 1 when several were at once). */
  inFlight: number;
}

export type BatchTotals = Record<BatchedStatement, { statements: number; requests: number; seconds: number }>;

const STATEMENTS: readonly BatchedStatement[] = ['read', 'write'];

/** The service's totals so far (a process that has sent none yet has no series: zeros). */
export async function batchTotals(baseUrl: string): Promise<BatchTotals> {
  const text = await metricsText(baseUrl);
  const series = (name: string, statement: BatchedStatement) =>
    Number(new RegExp(`^${name}\\{statement="${statement}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const totals = {} as BatchTotals;
  for (const statement of STATEMENTS) {
    totals[statement] = {
      statements: series('identity_db_batch_requests_count', statement),
      requests: series('identity_db_batch_requests_sum', statement),
      seconds: series('identity_db_batch_seconds_sum', statement),
    };
  }
  return totals;
}

/** What a run of `seconds` sent, from the totals before and after it; a statement it never sent is absent. */
export function batchFigures(before: BatchTotals, after: BatchTotals, seconds: number): Partial<Record<BatchedStatement, BatchFigures>> {
  const figures: Partial<Record<BatchedStatement, BatchFigures>> = {};
  for (const statement of STATEMENTS) {
    const statements = after[statement].statements - before[statement].statements;
    if (statements <= 0) continue;
    const busy = after[statement].seconds - before[statement].seconds;
    figures[statement] = {
      statements,
      requestsPerStatement: round((after[statement].requests - before[statement].requests) / statements),
      msPerStatement: round((1000 * busy) / statements),
      inFlight: round(busy / seconds),
    };
  }
  return figures;
}

const round = (value: number) => Math.round(value * 100) / 100;
