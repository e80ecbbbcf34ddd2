/**
 * wrk (C, two threads) as the load generator: on this 2-core machine the generator shares the CPU
 * with the service and the database, and wrk takes about a quarter of the CPU per request that
 * autocannon (Node.js) does, so more of the machine is left to what is measured. The request
 * streams are bench/workloads.ts's, written again in Lua (bench/workloads.lua).
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { WorkloadName, WorkloadState } from './workloads.js';

const execFileAsync = promisify(execFile);

const WRK_THREADS = 2;

export interface WrkResult {
  seconds: number;
  requests: number;
  non2xx: number;
  /** Connection, read and write errors and timeouts. */
  errors: number;
  /** Latency percentiles and maximum, in milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface WrkOptions {
  connections: number;
  duration: number;
  /** Seconds before a request counts as timed out (wrk's --timeout). */
  timeoutSeconds?: number;
  /** Sent as `x-api-key` with every request. */
  apiKey?: string;
}

export function wrkInstalled(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/** Distinct per run in this process: the fresh identifiers of one run are never another's. */
let runs = 0;

/** One wrk run of `workload`; `state.cursor` moves below the untouched customers it used. */
export async function runWrk(baseUrl: string, workload: WorkloadName, state: WorkloadState, options: WrkOptions): Promise<WrkResult> {
  const runId = String(++runs).padStart(4, '0');
  const { stdout } = await execFileAsync(
    'wrk',
    [
      `-t${WRK_THREADS}`,
      `-c${options.connections}`,
      `-d${options.duration}s`,
      '--timeout',
      `${options.timeoutSeconds ?? 10}s`,
      '-s',
      'bench/workloads.lua',
      baseUrl,
      '--',
      String(state.customers),
      workload,
      runId,
      String(state.cursor),
      state.phones ?? 'seeded',
      String(WRK_THREADS),
      options.apiKey ?? '',
    ],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('WORKLOAD_RESULT '));
  if (line === undefined) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice('WORKLOAD_RESULT '.length)) as Record<string, number>;
  const n = (key: string) => r[key] ?? 0;
  state.cursor = Math.min(state.cursor, n('lowestUntouched') - 1);
  const ms = (key: string) => Math.round(n(key) / 10) / 100;
  return {
    seconds: n('durationUs') / 1e6,
    requests: n('requests'),
    non2xx: n('non2xx'),
    errors: n('connectErrors') + n('readErrors') + n('writeErrors') + n('timeouts'),
    p50: ms('p50Us'),
    p90: ms('p90Us'),
    p99: ms('p99Us'),
    max: ms('maxUs'),
  };
}
