/**
 * Drives the running service over HTTP: wrk or autocannon for throughput (`bench/wrk.ts` says why
 * wrk when it is installed), a sequential client for latency.
 */
import autocannon from 'autocannon';
import type { CpuShare } from './cpuShare.js';
import type { EventLoopFigures } from './eventLoop.js';
import type { BatchedStatement } from '../src/db/identifyStore.js';
import type { BatchFigures } from './batches.js';
import { runWrk } from './wrk.js';
import { nextRequest, type Body, type WorkloadName, type WorkloadState } from './workloads.js';

export type Loader = 'wrk' | 'autocannon';

export interface LoadSettings {
  connections: number;
  duration: number;
  /** The load generator (default autocannon, which needs nothing installed). */
  loader?: Loader;
  /** Sent as `x-api-key` with every request, for a service run with API_KEYS. */
  apiKey?: string;
}

export interface WorkloadResult {
  workload: string;
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Requests answered in the run (wrk only). */
  requests?: number;
  /** The run's seconds, when shorter than the other runs' (bench/run.ts, mergeSeconds). */
  runSeconds?: number;
  /** The database's transactions (statements outside one) per request answered, when counted (bench/run.ts). */
  transactionsPerRequest?: number;
  /** The service's batched statements during the run, when counted (bench/batches.ts). */
  batches?: Partial<Record<BatchedStatement, BatchFigures>>;
  /** Where the machine's CPU went during the run, per request (bench/cpuShare.ts; Linux only). */
  cpu?: CpuShare;
  /** What held up the service's event loop during the run, when read (bench/eventLoop.ts). */
  eventLoop?: EventLoopFigures;
}

export async function drive(
  baseUrl: string,
  workload: WorkloadName,
  state: WorkloadState,
  { connections, duration, loader = 'autocannon', apiKey }: LoadSettings,
): Promise<WorkloadResult> {
  if (loader === 'wrk') {
    const result = await runWrk(baseUrl, workload, state, { connections, duration, ...(apiKey ? { apiKey } : {}) });
    const { p50, p90, p99, non2xx, errors } = result;
    return {
      workload,
      requestsPerSecond: Math.round(result.requests / result.seconds),
      p50,
      p90,
      p99,
      non2xx,
      errors,
      requests: result.requests,
    };
  }
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration,
    requests: workloadRequests(workload, state, apiKey),
  });
  return {
    workload,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export interface LatencySample {
  requests: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * One request at a time, timed in microseconds: latency without queueing, which is what data
 * size can change (autocannon reports whole milliseconds, too coarse for a 1.25x ratio at ~1 ms).
 */
export async function sequentialLatency(baseUrl: string, bodies: () => Body, requests: number): Promise<LatencySample> {
  const post = async () => {
    const response = await fetch(`${baseUrl}/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bodies()),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };
  for (let i = 0; i < Math.min(200, requests); i++) await post(); // warm-up: JIT, plan cache, buffers
  const timings: number[] = [];
  for (let i = 0; i < requests; i++) {
    const start = process.hrtime.bigint();
    await post();
    timings.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  timings.sort((a, b) => a - b);
  const at = (q: number) => round(timings[Math.min(timings.length - 1, Math.floor(q * timings.length))] ?? 0);
  return { requests, p50: at(0.5), p99: at(0.99), max: round(timings[timings.length - 1] ?? 0) };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** autocannon's request list for `workload`: each request is the workload's next one. */
export function workloadRequests(workload: WorkloadName, state: WorkloadState, apiKey?: string): autocannon.Request[] {
  const keyed = apiKey === undefined ? {} : { 'x-api-key': apiKey };
  return [
    {
      setupRequest: (request) => {
        const next = nextRequest(workload, state);
        if (next.method === 'GET') return { ...request, method: 'GET', path: next.path, headers: keyed };
        return {
          ...request,
          method: 'POST',
          path: next.path,
          headers: { 'content-type': 'application/json', ...keyed },
          body: JSON.stringify(next.body),
        };
      },
    },
  ];
}
