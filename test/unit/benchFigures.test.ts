/**
 * The bench's arithmetic behind issue 17's verdicts: a workload's rounds read as their median run
 * (bench/report.ts, medianRun), and a run's batched statements from the service's counters before
 * and after it (bench/batches.ts, batchFigures).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchFigures, type BatchTotals } from '../../bench/batches.js';
import type { WorkloadResult } from '../../bench/load.js';
import { medianRun } from '../../bench/report.js';

const run = (requestsPerSecond: number, p99: number, extra: Partial<WorkloadResult> = {}): WorkloadResult => ({
  workload: 'extend',
  requestsPerSecond,
  p50: p99 / 4,
  p90: p99 / 2,
  p99,
  non2xx: 0,
  errors: 0,
  ...extra,
});

describe('medianRun', () => {
  it('takes the median of each figure on its own, and sums the failures and requests', () => {
    const median = medianRun([
      run(2_893, 12, { requests: 28_930, non2xx: 1 }),
      run(2_473, 30, { requests: 24_730 }),
      run(2_381, 13, { requests: 23_810, errors: 2 }),
    ]);
    assert.equal(median.requestsPerSecond, 2_473);
    assert.equal(median.p99, 13, 'the middle p99, not the p99 of the middle rate');
    assert.equal(median.requests, 77_470);
    assert.equal(median.non2xx + median.errors, 3, 'a failure in any round shows');
  });

  it('keeps a figure only when every run has it', () => {
    const write = { statements: 100, requestsPerStatement: 9.9, msPerStatement: 3.9, inFlight: 0.99 };
    const median = medianRun([
      run(1, 1, { transactionsPerRequest: 0.2, batches: { write } }),
      run(2, 2, { batches: { write: { ...write, inFlight: 0.97 } } }),
      run(3, 3, { transactionsPerRequest: 0.3, batches: { write: { ...write, inFlight: 0.98 } } }),
    ]);
    assert.equal(median.transactionsPerRequest, undefined);
    assert.equal(median.batches?.write?.inFlight, 0.98);
    assert.equal(median.batches?.read, undefined);
  });
});

describe('batchFigures', () => {
  const totals = (readStatements: number, readRequests: number, writeSeconds: number): BatchTotals => ({
    read: { statements: readStatements, requests: readRequests, seconds: readStatements * 0.001 },
    write: { statements: 10, requests: 90, seconds: writeSeconds },
  });

  it("gives each statement's requests and time per statement, and the share of the run one was in flight", () => {
    const figures = batchFigures(totals(0, 0, 1), totals(500, 4_500, 8.92), 8);
    assert.deepEqual(figures.read, { statements: 500, requestsPerStatement: 9, msPerStatement: 1, inFlight: 0.06 });
    assert.equal(figures.write, undefined, 'no write statement was sent during the run');
  });
});
