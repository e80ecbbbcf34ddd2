/**
 * `npx tsx bench/overload.ts`: one service process, default settings, driven far past what it can
 * serve at once. For each workload it measures successful (2xx) answers per second at 50
 * connections, then at 600 and 1,000, with the 503 count, latency and the service's peak RSS.
 * Shedding must protect throughput: 600 and 1,000 connections must keep at least 80% of the
 * throughput at 50 (exit status 1 otherwise). Results go to bench/results/overload.{json,md}.
 *
 * The levels run in rounds (50, 600, 1000, 50, 600, 1000, ...) and each level reports its median
 * round: on a shared machine the ceiling drifts from minute to minute, and a ratio of two runs
 * minutes apart would measure the drift. The load comes from wrk when it is installed (C, two
 * threads: the least CPU taken from the service on the same machine), else from autocannon.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startService, type ServiceProcess } from '../test/support/serviceProcess.js';
import { DatabaseProxy, outageMarkdown, recoverySeconds, sampleTimeline, type OutageReport } from './outage.js';
import { seed } from './seed.js';
import { scratchPostgres, withDatabase } from './targets.js';
import { workloadRequests } from './load.js';
import { runWrk, wrkInstalled } from './wrk.js';
import type { WorkloadName, WorkloadState } from './workloads.js';
import { metricsText } from './scrape.js';
import { residentMb } from './resident.js';

const USAGE = `Usage: npx tsx bench/overload.ts [options]

  --connections <list>  connection counts, the first is the baseline (default 50,600,1000)
  --workloads <list>    lookup, new or details (default lookup,new)
  --duration <s>        seconds per run (default 10)
  --rounds <n>          runs per level; each level reports its median (default 3)
  --loader <name>       wrk or autocannon (default wrk when installed)
  --size <n>            customers to seed (default 100000)
  --env <K=V,...>       extra service settings, e.g. OVERLOAD_MAX_WAIT_MS=0 (default: none)
  --outage <h,d,b>      seconds healthy, database down, database back (default 5,10,10)
  --skip <list>         leave out sections: overload, outage
  --out <name>          results file name in bench/results (default overload)
  --no-build            use dist/ as it is
  -h, --help            this text

The service runs with its defaults (NODE_ENV=production, LOG_LEVEL=info, every other setting
unset); PostgreSQL comes from DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
where the benchmark creates and drops identity_bench_overload. Above ~1,000 connections raise
this shell's open-files limit first (ulimit -n 4096).`;

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '50,600,1000' },
    workloads: { type: 'string', default: 'lookup,new' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    loader: { type: 'string' },
    size: { type: 'string', default: '100000' },
    env: { type: 'string', default: '' },
    outage: { type: 'string', default: '5,10,10' },
    skip: { type: 'string', default: '' },
    out: { type: 'string', default: 'overload' },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** Every setting the service reads, unset unless --env sets it: the run sees the defaults. */
const SERVICE_SETTINGS = [
  'DB_HOST',
  'DB_PORT',
  'DB_USER',
  'DB_PASSWORD',
  'DB_NAME',
  'DATA_DIR',
  'DB_POOL_SIZE',
  'DB_TRANSACTION_POOLER',
  'RESPONSE_FORMAT',
  'MIGRATE_ON_START',
  'WEB_CONCURRENCY',
  'API_KEYS',
  'METRICS_REQUIRE_KEY',
  'DOCS_REQUIRE_KEY',
  'RATE_LIMIT_MAX',
  'RATE_LIMIT_WINDOW_MS',
  'CORS_ORIGINS',
  'TRUST_PROXY',
  'REQUEST_TIMEOUT_MS',
  'KEEP_ALIVE_TIMEOUT_MS',
  'MAX_CONNECTIONS',
  'OVERLOAD_EVENT_LOOP_DELAY_MS',
  'OVERLOAD_POOL_WAITING',
  'OVERLOAD_MAX_WAIT_MS',
];

/** Throughput at every level must stay at least this share of the baseline's. */
const REQUIRED_RATIO = 0.8;
const WARM_UP_SECONDS = 3;
const PAUSE_MS = 2_000;
/** Both loaders give up on an answer after this long, and count it as an error. */
const CLIENT_TIMEOUT_SECONDS = 10;
const WORKLOADS = ['lookup', 'new', 'details'];

type Loader = 'wrk' | 'autocannon';

export interface OverloadRun {
  workload: string;
  connections: number;
  /** Which round this was; in the report, the median round of each level. */
  round: number;
  /** 2xx answers per second over the run. */
  successPerSecond: number;
  ok: number;
  rejected503: number;
  otherNon2xx: number;
  /** Connection errors and timeouts (no answer within 10 s). */
  errors: number;
  p50: number;
  p99: number;
  max: number;
  peakRssMb: number;
}

export interface OverloadReport {
  date: string;
  machine: { cpus: number; node: string };
  loader: string;
  duration: number;
  rounds: number;
  customers: number;
  settings: Record<string, string>;
  outage?: OutageReport;
  /** Every run, in the order run. */
  allRuns: OverloadRun[];
  /** Each level's median run by 2xx/s. */
  runs: OverloadRun[];
  ratios: { workload: string; connections: number; ratio: number }[];
}

const log = (message: string) => console.log(`[overload] ${message}`);

/** The service's resident set, sampled every 100 ms while `work` runs; the highest, in MB. */
async function peakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = 0;
  const sample = async () => {
    peak = Math.max(peak, await residentMb(pid));
  };
  const timer = setInterval(() => void sample(), 100);
  try {
    const result = await work();
    await sample();
    return { result, peakRssMb: peak };
  } finally {
    clearInterval(timer);
  }
}

/** Answers by status code, as the service itself counted them (its /metrics, every route). */
async function statusCounts(baseUrl: string): Promise<Map<string, number>> {
  const text = await metricsText(baseUrl);
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^identity_http_request_duration_seconds_count\{.*status_code="(\d+)".*\} (\d+)/.exec(line);
    if (match) counts.set(match[1] as string, (counts.get(match[1] as string) ?? 0) + Number(match[2]));
  }
  return counts;
}

interface Measured {
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

/** One wrk run (bench/wrk.ts), counted as this bench counts. */
async function wrkRun(
  baseUrl: string,
  workload: WorkloadName,
  state: WorkloadState,
  connections: number,
  duration: number,
): Promise<Measured> {
  const r = await runWrk(baseUrl, workload, state, { connections, duration, timeoutSeconds: CLIENT_TIMEOUT_SECONDS });
  return { seconds: r.seconds, ok: r.requests - r.non2xx, non2xx: r.non2xx, errors: r.errors, p50: r.p50, p99: r.p99, max: r.max };
}

async function runAutocannon(
  baseUrl: string,
  workload: WorkloadName,
  state: WorkloadState,
  connections: number,
  duration: number,
): Promise<Measured> {
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration,
    timeout: CLIENT_TIMEOUT_SECONDS,
    requests: workloadRequests(workload, state),
  });
  return {
    seconds: result.duration || duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
  };
}

async function run(
  loader: Loader,
  service: ServiceProcess,
  workload: WorkloadName,
  state: WorkloadState,
  connections: number,
  duration: number,
  round: number,
): Promise<OverloadRun> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) {
    throw new Error(`the service died (exit ${service.child.exitCode ?? service.child.signalCode}):\n${service.output()}`);
  }
  const before = await statusCounts(service.baseUrl).catch(async (error: Error) => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    throw new Error(
      `the service does not answer (${error.message}; exit ${service.child.exitCode ?? service.child.signalCode}):\n${service.output()}`,
    );
  });
  const { result, peakRssMb } = await peakRss(service.child.pid as number, async () =>
    loader === 'wrk'
      ? wrkRun(service.baseUrl, workload, state, connections, duration)
      : runAutocannon(service.baseUrl, workload, state, connections, duration),
  );
  const after = await statusCounts(service.baseUrl);
  const rejected503 = (after.get('503') ?? 0) - (before.get('503') ?? 0);
  const measured: OverloadRun = {
    workload,
    connections,
    round,
    successPerSecond: Math.round(result.ok / result.seconds),
    ok: result.ok,
    rejected503,
    otherNon2xx: Math.max(0, result.non2xx - rejected503),
    errors: result.errors,
    p50: result.p50,
    p99: result.p99,
    max: result.max,
    peakRssMb,
  };
  log(JSON.stringify(measured));
  return measured;
}

const number = (value: number) => value.toLocaleString('en');

export function overloadMarkdown(report: OverloadReport): string {
  const settings = Object.entries(report.settings)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  const lines = [
    `${report.date.slice(0, 10)}, ${report.machine.cpus} CPUs, Node ${report.machine.node}; \`npx tsx bench/overload.ts\`: one service process (${settings}, every other setting at its default) on PostgreSQL with ${number(report.customers)} customers; ${report.loader}, service and database on this one machine; ${report.duration} s per run after a ${WARM_UP_SECONDS} s warm-up, ${report.rounds} rounds of every level, each level's median round shown.`,
    '',
    '| workload | connections | 2xx/s | vs baseline | 503s | other non-2xx | errors | p50 ms | p99 ms | max ms | peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of report.runs) {
    const ratio = report.ratios.find((x) => x.workload === r.workload && x.connections === r.connections);
    const share = ratio ? `**${Math.round(ratio.ratio * 100)}%**` : 'baseline';
    lines.push(
      `| ${r.workload} | ${number(r.connections)} | ${number(r.successPerSecond)} | ${share} | ${number(r.rejected503)} | ${number(r.otherNon2xx)} | ${number(r.errors)} | ${r.p50} | ${r.p99} | ${number(r.max)} | ${r.peakRssMb} |`,
    );
  }
  if (report.rounds > 1) {
    lines.push('', 'Every round, 2xx/s:', '', '| workload | connections | rounds |', '|---|---:|---|');
    for (const r of report.runs) {
      const all = report.allRuns.filter((x) => x.workload === r.workload && x.connections === r.connections);
      lines.push(`| ${r.workload} | ${number(r.connections)} | ${all.map((x) => number(x.successPerSecond)).join(', ')} |`);
    }
  }
  if (report.outage) lines.push('', '#### Outage', '', outageMarkdown(report.outage).trimEnd());
  return `${lines.join('\n')}\n`;
}

/**
 * One service reaching the database through a proxy; lookups at `connections` while the
 * database answers, stops answering, and answers again.
 */
async function outageSection(
  loader: Loader,
  databaseUrl: string,
  state: WorkloadState,
  connections: number,
  startOn: (url: string) => Promise<ServiceProcess>,
): Promise<OutageReport> {
  const [healthySeconds, downSeconds, backSeconds] = args.outage.split(',').map(Number) as [number, number, number];
  const seconds = healthySeconds + downSeconds + backSeconds;
  const url = new URL(databaseUrl);
  const proxy = new DatabaseProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.port = String(await proxy.listen());
  url.hostname = '127.0.0.1';
  const service = await startOn(url.toString());
  try {
    await run(loader, service, 'lookup', state, connections, WARM_UP_SECONDS, 0);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    const phaseOf = (second: number) =>
      second <= healthySeconds ? 'healthy' : second <= healthySeconds + downSeconds ? 'database down' : 'database back';
    const [timeline, loaded] = await Promise.all([
      sampleTimeline(service.baseUrl, service.child.pid as number, seconds, phaseOf, (second) => {
        if (second === healthySeconds + 1) proxy.cut();
        if (second === healthySeconds + downSeconds + 1) proxy.restore();
      }),
      loader === 'wrk'
        ? wrkRun(service.baseUrl, 'lookup', state, connections, seconds)
        : runAutocannon(service.baseUrl, 'lookup', state, connections, seconds),
    ]);
    if (service.child.exitCode !== null || service.child.signalCode !== null)
      throw new Error(`the service died during the outage:\n${service.output()}`);
    const report: OutageReport = {
      connections,
      healthySeconds,
      downSeconds,
      backSeconds,
      loader: { errors: loaded.errors, maxMs: loaded.max, p99Ms: loaded.p99 },
      timeline,
      recoverySeconds: recoverySeconds(timeline),
    };
    log(`outage: ${JSON.stringify(report)}`);
    return report;
  } finally {
    await service.stop('SIGTERM');
    await proxy.close();
  }
}

/** The median run by 2xx/s (the lower middle one of an even count). */
function median(runs: OverloadRun[]): OverloadRun {
  const sorted = [...runs].sort((a, b) => a.successPerSecond - b.successPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)] as OverloadRun;
}

async function main(): Promise<void> {
  if (args.help) return void console.log(USAGE);
  const levels = args.connections.split(',').map(Number);
  const workloads = args.workloads.split(',') as WorkloadName[];
  const duration = Number(args.duration);
  const rounds = Number(args.rounds);
  const customers = Number(args.size);
  const loader = (args.loader ?? (wrkInstalled() ? 'wrk' : 'autocannon')) as Loader;
  const extra = Object.fromEntries(
    args.env
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=', 2) as [string, string]),
  );
  if (levels.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--connections must be positive integers, got ${args.connections}`);
  if (workloads.some((w) => !WORKLOADS.includes(w)))
    throw new Error(`--workloads must be among ${WORKLOADS.join(', ')}, got ${args.workloads}`);
  if (!['wrk', 'autocannon'].includes(loader)) throw new Error(`--loader must be wrk or autocannon, got ${loader}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${args.rounds}`);
  if (!args['no-build']) {
    const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('build failed');
  }

  const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const skip = new Set(args.skip.split(',').filter(Boolean));
  const target = await scratchPostgres(adminUrl, 'identity_bench_overload');
  const settings = { NODE_ENV: 'production', LOG_LEVEL: 'info', ...extra };
  const unset = Object.fromEntries(SERVICE_SETTINGS.map((name) => [name, undefined]));
  const startOn = (databaseUrl: string) =>
    startService({ ...unset, DATABASE_URL: databaseUrl, ...settings }, { built: true, discardLogs: true, readyTimeoutMs: 120_000 });
  const state: WorkloadState = { customers, cursor: customers, fresh: 1 };
  const allRuns: OverloadRun[] = [];
  let outage: OutageReport | undefined;
  try {
    const { rows } = await withDatabase(target, (db) => seed(db, customers));
    log(`seeded ${customers} customers (${rows} rows); load from ${loader}`);
    if (!skip.has('overload')) {
      const service = await startOn(target.url as string);
      try {
        await run(loader, service, 'lookup', state, levels[0] as number, WARM_UP_SECONDS, 0);
        for (const workload of workloads) {
          for (let round = 1; round <= rounds; round++) {
            for (const connections of levels) {
              await new Promise((resolve) => setTimeout(resolve, PAUSE_MS)); // let the last run's queues drain
              allRuns.push(await run(loader, service, workload, state, connections, duration, round));
              if (service.child.exitCode !== null || service.child.signalCode !== null) {
                throw new Error(`the service died (exit ${service.child.exitCode ?? service.child.signalCode}):\n${service.output()}`);
              }
            }
          }
        }
      } finally {
        await service.stop('SIGTERM');
      }
    }
    if (!skip.has('outage')) outage = await outageSection(loader, target.url as string, state, levels[1] ?? (levels[0] as number), startOn);
  } finally {
    await target.dispose();
  }

  const runs =
    allRuns.length === 0
      ? []
      : workloads.flatMap((workload) =>
          levels.map((connections) => median(allRuns.filter((r) => r.workload === workload && r.connections === connections))),
        );
  const ratios = runs.flatMap((r) => {
    const baseline = runs.find((b) => b.workload === r.workload && b.connections === levels[0]);
    if (!baseline || r === baseline) return [];
    return [
      {
        workload: r.workload,
        connections: r.connections,
        ratio: Math.round((r.successPerSecond / baseline.successPerSecond) * 1000) / 1000,
      },
    ];
  });
  const report: OverloadReport = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    loader,
    duration,
    rounds,
    customers,
    settings,
    ...(outage ? { outage } : {}),
    allRuns,
    runs,
    ratios,
  };
  const markdown = overloadMarkdown(report);
  await mkdir('bench/results', { recursive: true });
  await writeFile(`bench/results/${args.out}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`bench/results/${args.out}.md`, markdown);
  console.log(`\n${markdown}\nwritten to bench/results/${args.out}.{json,md}`);
  const failing = ratios.filter((r) => r.ratio < REQUIRED_RATIO);
  for (const r of failing)
    console.log(
      `FAIL: ${r.workload} at ${r.connections} connections keeps ${Math.round(r.ratio * 100)}% of the throughput at ${levels[0]} (needs ${REQUIRED_RATIO * 100}%)`,
    );
  if (failing.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
