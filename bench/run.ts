/**
 * `npm run bench`: seeds PostgreSQL, starts the built service as its own process, drives each
 * workload over HTTP with autocannon, checks the table's invariants afterwards, and measures the
 * database's own ceiling for the lookup SQL with pgbench. Results go to bench/results/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import { checkInvariants, totalViolations } from '../src/db/invariants.js';
import { migrate } from '../src/db/migrate.js';
import { FIND_CUSTOMERS_SQL } from '../src/db/contactQueries.js';
import { freePort } from '../test/support/serviceProcess.js';
import { seed } from './seed.js';
import { nextBody, type WorkloadName, type WorkloadState } from './workloads.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '100k' },
    connections: { type: 'string', default: '20' },
    duration: { type: 'string', default: '10' },
    workers: { type: 'string', default: '1' },
  },
});

const SIZES: Record<string, number> = { '10k': 10_000, '100k': 100_000, '1m': 1_000_000 };
const customers = SIZES[args.size] ?? Number(args.size);
const connections = Number(args.connections);
const duration = Number(args.duration);
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const WORKLOADS: WorkloadName[] = ['lookup', 'new', 'extend', 'merge', 'mixed'];

interface WorkloadResult {
  workload: string;
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function benchDatabaseUrl(): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS identity_bench WITH (FORCE)');
  await admin.query('CREATE DATABASE identity_bench');
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = '/identity_bench';
  return url.toString();
}

async function startService(databaseUrl: string, workers: number) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/cli.js', 'serve'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production', WEB_CONCURRENCY: String(workers), DB_POOL_SIZE: '20' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${baseUrl}/ready`).then((r) => r.ok, () => false)) return { baseUrl, stop: () => child.kill('SIGTERM') };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('service did not become ready');
}

async function drive(baseUrl: string, workload: WorkloadName, state: WorkloadState): Promise<WorkloadResult> {
  const result = await autocannon({
    url: `${baseUrl}/identify`,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify(nextBody(workload, state)) }),
      },
    ],
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

/** pgbench running the service's own lookup statement, prepared, at the same concurrency. */
async function pgbenchCeiling(databaseUrl: string): Promise<number> {
  const script = `\\set c random(2, ${customers})\n${FIND_CUSTOMERS_SQL.replace('$1::text', `('u' || :c || '@bench.io')`).replace('$2::text', `('90' || :c)`).trim()};\n`;
  const scriptFile = join(await mkdtemp(join(tmpdir(), 'identity-bench-')), 'lookup.sql');
  await writeFile(scriptFile, script);
  const out = spawnSync('pgbench', ['-n', '-M', 'prepared', '-c', String(connections), '-j', '2', '-T', String(duration), '-f', scriptFile, databaseUrl], { encoding: 'utf8' });
  const tps = /tps = ([\d.]+)/.exec(out.stdout)?.[1];
  if (!tps) throw new Error(`pgbench failed: ${out.stderr}`);
  return Math.round(Number(tps));
}

function markdown(results: WorkloadResult[], ceiling: number, rows: number, violations: number): string {
  const lookup = results.find((r) => r.workload === 'lookup')?.requestsPerSecond ?? 0;
  const lines = [
    `Seeded ${customers.toLocaleString('en')} customers (${rows.toLocaleString('en')} rows), ${connections} connections, ${duration} s per workload, ${args.workers} worker(s).`,
    '',
    '| workload | requests/s | p50 ms | p90 ms | p99 ms | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.workload} | ${r.requestsPerSecond} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.non2xx} | ${r.errors} |`),
    '',
    `pgbench ceiling of the lookup SQL (prepared, ${connections} clients): ${ceiling} transactions/s; service lookup = ${((100 * lookup) / ceiling).toFixed(1)}% of it.`,
    `Invariant violations after all workloads (I1–I4): ${violations}.`,
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  const databaseUrl = await benchDatabaseUrl();
  const db = await openDatabase({ kind: 'postgres', connectionString: databaseUrl, poolSize: 2 });
  await migrate(db);
  const seedStart = Date.now();
  const { rows } = await seed(db, customers);
  console.log(`seeded ${rows} rows in ${Date.now() - seedStart} ms`);

  const service = await startService(databaseUrl, Number(args.workers));
  const state: WorkloadState = { customers, cursor: customers, fresh: 1 };
  const results: WorkloadResult[] = [];
  try {
    for (const workload of WORKLOADS) {
      const result = await drive(service.baseUrl, workload, state);
      console.log(JSON.stringify(result));
      results.push(result);
    }
  } finally {
    service.stop();
  }
  const violations = totalViolations(await checkInvariants(db));
  await db.close();
  const ceiling = await pgbenchCeiling(databaseUrl);
  const table = markdown(results, ceiling, rows, violations);
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/latest.json', `${JSON.stringify({ date: new Date().toISOString(), customers, rows, connections, duration, workers: Number(args.workers), results, pgbenchLookupTps: ceiling, violations }, null, 2)}\n`);
  await writeFile('bench/results/latest.md', table);
  console.log(`\n${table}`);
  if (violations > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
