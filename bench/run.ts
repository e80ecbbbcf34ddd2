/**
 * `npm run bench`: the service against what PostgreSQL itself can do. For each target it seeds
 * a realistic table, starts the built service as its own process, drives every workload over
 * HTTP with autocannon and checks the table's invariants afterwards, so a fast wrong answer
 * cannot pass. Also: pgbench's ceiling for the same lookup SQL, 1 vs 2 workers, growth from
 * 10k to 1m rows, a 5,000-contact customer, and embedded PGlite. Results go to bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { checkInvariants, totalViolations } from '../src/db/invariants.js';
import { drive, sequentialLatency, type LoadSettings, type WorkloadResult } from './load.js';
import { pgbenchCeiling, type CeilingName } from './pgbench.js';
import { markdownReport, type BenchReport, type TargetReport } from './report.js';
import { BIG_CUSTOMER_EMAIL, ROWS_PER_CUSTOMER, seed, seedBigCustomer } from './seed.js';
import { scratchEmbedded, scratchPostgres, serve, withDatabase, type BenchTarget } from './targets.js';
import { nextBody, type WorkloadName, type WorkloadState } from './workloads.js';

const USAGE = `Usage: npm run bench -- [options]

  --size <n>          customers to seed: 10k, 100k (default), 1m or a number
  --connections <n>   concurrent HTTP connections (default 20)
  --duration <s>      seconds per workload (default 10)
  --embedded          only the embedded PGlite run (no PostgreSQL needed)
  --only <list>       run only these sections: postgres,growth,embedded; the report
                      goes to bench/results/<sections>.{json,md} instead of latest.{json,md}
  --skip <list>       leave out sections: postgres,workers,growth,embedded
  --log-level <l>     the service's LOG_LEVEL (default info, as in production)
  -h, --help          this text

PostgreSQL comes from DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
the benchmark creates and drops its own databases there.`;

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '100k' },
    connections: { type: 'string', default: '20' },
    duration: { type: 'string', default: '10' },
    embedded: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    skip: { type: 'string', default: '' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const SIZES: Record<string, number> = { '10k': 10_000, '100k': 100_000, '1m': 1_000_000 };
const customers = SIZES[args.size] ?? Number(args.size);
const load: LoadSettings = { connections: Number(args.connections), duration: Number(args.duration) };
const SECTIONS = ['postgres', 'growth', 'embedded'];
const listed = (value: string) => value.split(',').filter(Boolean);
const only = args.embedded ? ['embedded'] : listed(args.only);
const skip = new Set(listed(args.skip));
/** Whether a section runs (`workers`, part of `postgres`, can only be skipped). */
const selected = (section: string) => !skip.has(section) && (only.length === 0 || only.includes(section));
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const WORKLOADS: WorkloadName[] = ['lookup', 'new', 'extend', 'merge', 'mixed', 'details'];
const GROWTH_ROWS = [10_000, 1_000_000];
const BIG_CUSTOMER_CONTACTS = 5_000;

const log = (message: string) => console.log(`[bench] ${message}`);

async function seedTarget(target: BenchTarget): Promise<number> {
  const started = Date.now();
  const { rows } = await withDatabase(target, (db) => seed(db, customers));
  log(`${target.kind}: seeded ${customers} customers (${rows} rows) in ${Date.now() - started} ms`);
  return rows;
}

/** Runs every workload on one service process over a seeded target, then checks the invariants. */
async function runWorkloads(target: BenchTarget, rows: number, state: WorkloadState): Promise<TargetReport> {
  const results = await withService(target, 1, async (baseUrl) => {
    const measured: WorkloadResult[] = [];
    for (const workload of WORKLOADS) measured.push(report(await drive(baseUrl, workload, state, load)));
    return measured;
  });
  const violations = await withDatabase(target, async (db) => totalViolations(await checkInvariants(db)));
  return { target: target.kind, customers, rows, results, violations };
}

/** Starts the service, warms it up with lookups (JIT, plan caches, pools), runs `work`, stops it. */
async function withService<T>(target: BenchTarget, workers: number, work: (baseUrl: string) => Promise<T>): Promise<T> {
  const service = await serve(target, workers, args['log-level']);
  try {
    await drive(service.baseUrl, 'lookup', { customers, cursor: customers, fresh: 0 }, { ...load, duration: 3 });
    return await work(service.baseUrl);
  } finally {
    await service.stop('SIGTERM');
  }
}

function report(result: WorkloadResult): WorkloadResult {
  log(JSON.stringify(result));
  return result;
}

/**
 * pgbench's lookup runs before and after the service's workloads and the higher figure counts:
 * the ceiling of a shared 2-core machine drifts by a fifth from minute to minute. The write
 * ceilings run last, as they add rows.
 */
async function postgresSection(): Promise<BenchReport['postgres']> {
  const target = await scratchPostgres(adminUrl, 'identity_bench');
  try {
    const rows = await seedTarget(target);
    const ceiling = (name: CeilingName) => {
      const tps = pgbenchCeiling(name, target.url as string, customers, load);
      log(`pgbench ${name} ceiling: ${tps} tps`);
      return tps;
    };
    const before = ceiling('lookup');
    const state: WorkloadState = { customers, cursor: customers, fresh: 1 };
    const workloads = await runWorkloads(target, rows, state);
    const twoWorkers = skip.has('workers')
      ? undefined
      : await withService(target, 2, async (baseUrl) => [
          report(await drive(baseUrl, 'lookup', state, load)),
          report(await drive(baseUrl, 'new', state, load)),
        ]);
    const after = ceiling('lookup');
    const pgbench = { lookup: Math.max(before, after), lookupRuns: [before, after], new: ceiling('new'), extend: ceiling('extend') };
    return { ...workloads, pgbench, twoWorkers };
  } finally {
    await target.dispose();
  }
}

/** Lookup latency at 10k and at 1m rows; the 5,000-contact customer rides on the big table. */
async function growthSection(): Promise<Pick<BenchReport, 'growth' | 'bigCustomer'>> {
  const growth: NonNullable<BenchReport['growth']> = [];
  let bigCustomer: BenchReport['bigCustomer'];
  for (const targetRows of GROWTH_ROWS) {
    const target = await scratchPostgres(adminUrl, 'identity_bench_growth');
    try {
      const size = Math.round(targetRows / ROWS_PER_CUSTOMER);
      const { rows } = await withDatabase(target, (db) => seed(db, size));
      const state: WorkloadState = { customers: size, cursor: size, fresh: 0 };
      await withService(target, 1, async (baseUrl) => {
        const sequential = await sequentialLatency(baseUrl, () => nextBody('lookup', state), 2_000);
        const loaded = report(await drive(baseUrl, 'lookup', state, load));
        growth.push({ rows, sequential, loaded });
        log(`growth: ${rows} rows, one at a time p50 ${sequential.p50} ms`);
        if (targetRows === GROWTH_ROWS[GROWTH_ROWS.length - 1]) {
          await withDatabase(target, (db) => seedBigCustomer(db, BIG_CUSTOMER_CONTACTS));
          const big = await sequentialLatency(baseUrl, () => ({ email: BIG_CUSTOMER_EMAIL }), 50);
          bigCustomer = { contacts: BIG_CUSTOMER_CONTACTS, sequential: big };
          log(`customer with ${BIG_CUSTOMER_CONTACTS} contacts: p50 ${big.p50} ms, max ${big.max} ms`);
        }
      });
    } finally {
      await target.dispose();
    }
  }
  return { growth, bigCustomer };
}

async function main(): Promise<void> {
  if (args.help) return void console.log(USAGE);
  if (!Number.isInteger(customers) || customers < 1000) throw new Error(`--size must be at least 1000 customers, got ${args.size}`);
  const unknown = [...only, ...[...skip].filter((section) => section !== 'workers')].filter((section) => !SECTIONS.includes(section));
  if (unknown.length > 0)
    throw new Error(`unknown section ${unknown.join(', ')}: the sections are ${SECTIONS.join(', ')} (and workers, for --skip)`);
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');

  const started = Date.now();
  const result: BenchReport = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    connections: load.connections,
    duration: load.duration,
    logLevel: args['log-level'],
  };
  if (selected('postgres')) result.postgres = await postgresSection();
  if (selected('growth')) Object.assign(result, await growthSection());
  if (selected('embedded')) {
    const target = await scratchEmbedded();
    try {
      const rows = await seedTarget(target);
      result.embedded = await runWorkloads(target, rows, { customers, cursor: customers, fresh: 1 });
    } finally {
      await target.dispose();
    }
  }

  const markdown = markdownReport(result);
  const name = `bench/results/${args.only ? only.join('-') : 'latest'}`;
  await mkdir('bench/results', { recursive: true });
  await writeFile(`${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(`${name}.md`, markdown);
  console.log(`\n${markdown}\nfinished in ${Math.round((Date.now() - started) / 1000)} s; written to ${name}.{json,md}`);
  if ((result.postgres?.violations ?? 0) + (result.embedded?.violations ?? 0) > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
