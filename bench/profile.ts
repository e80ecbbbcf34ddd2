/**
 * `npm run bench:profile`: where a lookup's CPU time goes in the service process, before and after
 * a change. For each build (the working tree's, and with `--before <git ref>` that commit's, built
 * in a scratch worktree) it starts the service under `node --cpu-prof` with production settings on
 * a scratch database of its own (which that build migrates), seeds it, drives lookups at 20 connections and reads the profile: self time by
 * part of the stack, in microseconds of CPU per answered request. The table goes to
 * bench/results/profile.md and after the `<!-- bench: profile -->` marker in docs/benchmarks.md.
 *
 * `--bare`: instead, the bench's bare handler (bench/bareHandler.ts) against the working tree's
 * service as the bench runs it beside it (API keys, rate limiting, the recommended block list):
 * where the service's lookups spend the CPU the bare handler's do not (issue 17's service ÷ bare
 * handler). To bench/results/profile-bare.md and after `<!-- bench: profile-bare -->`.
 *
 * Only the samples taken while the measured lookups ran count (the profile's clock and the bench's
 * `process.hrtime` are both the machine's monotonic clock), divided by the requests they answered:
 * start-up and warm-up are left out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startService, type ServiceProcess } from '../test/support/serviceProcess.js';
import { writeAfterMarker } from './docMarker.js';
import { drive, type LoadSettings } from './load.js';
import { seed } from './seed.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { BARE_HANDLER_ENTRY, BENCH_API_KEY, PRODUCTION_ENV, scratchPostgres, type BenchTarget } from './targets.js';
import { wrkInstalled } from './wrk.js';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string' },
    bare: { type: 'boolean', default: false },
    size: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '10' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const USAGE = `Usage: npm run bench:profile -- [--before <git ref> | --bare] [--size <customers>] [--duration <s>]`;

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const log = (message: string) => console.log(`[profile] ${message}`);

/** Parts of the stack, by where a function's code lives; the first that matches names it. */
const PARTS: [string, (url: string, name: string) => boolean][] = [
  [
    'socket writes and reads (system calls)',
    (url, name) => url === '' && /^(writev|writeBuffer|writeUtf8String|writeString|writeLatin1String|onStreamRead)$/.test(name),
  ],
  ['garbage collector', (_url, name) => name === '(garbage collector)'],
  ['Node.js HTTP server', (url) => /^node:_http|^node:internal\/(http|stream_base_commons)/.test(url)],
  [
    'Fastify and its plugins',
    (url) =>
      /node_modules\/(fastify|@fastify|find-my-way|fast-json-stringify|light-my-request|avvio|helmet|ajv|fast-uri|toad-cache|process-warning)\//.test(
        url,
      ),
  ],
  ['pg driver', (url) => /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+)\//.test(url)],
  [
    'logging (pino)',
    (url) => /node_modules\/(pino|sonic-boom|fast-redact|thread-stream|on-exit-leak-free|quick-format-unescaped|atomic-sleep)\//.test(url),
  ],
  ['metrics (prom-client)', (url) => /node_modules\/(prom-client|tdigest|bintrees)\//.test(url)],
  ['the service (dist/)', (url) => /\/dist\//.test(url)],
  ['the bare handler (bench/, src/ through tsx)', (url) => /\/(bench|src)\//.test(url)],
  ['other packages', (url) => /node_modules\//.test(url)],
  ['other Node.js and V8', () => true],
];

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  /** Microseconds on the machine's monotonic clock. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A span of the monotonic clock, in microseconds. */
interface Window {
  from: number;
  to: number;
}

const monotonicMicroseconds = () => Number(process.hrtime.bigint() / 1000n);

/** Microseconds of self time by part, idle excluded, of the samples taken within `window`. */
function byPart(profile: Profile, window: Window): Map<string, number> {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const parts = new Map<string, number>(PARTS.map(([name]) => [name, 0]));
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    const frame = frames.get(id);
    if (at < window.from || at > window.to || frame === undefined || frame.functionName === '(idle)') return;
    const part = PARTS.find(([, matches]) => matches(frame.url, frame.functionName))?.[0] as string;
    parts.set(part, (parts.get(part) ?? 0) + delta);
  });
  return parts;
}

interface Measured {
  label: string;
  requests: number;
  requestsPerSecond: number;
  /** CPU µs per request by part. */
  parts: Map<string, number>;
}

/** What runs under --cpu-prof: its node arguments, its environment, the API key its requests carry. */
interface Profiled {
  entry: string[];
  /** Whether it migrates the database at start (a build of the service does, checking the migrations it knows). */
  migrates: boolean;
  env?: Record<string, string>;
  apiKey?: string;
}

/** The service built from `root`, with production settings (and `env` over them). */
const serviceAt = (root: string, env: Record<string, string> = {}, apiKey?: string): Profiled => ({
  entry: [join(root, 'dist/cli.js'), 'serve'],
  migrates: true,
  env: { NODE_ENV: 'production', LOG_LEVEL: 'info', WEB_CONCURRENCY: '1', ...env },
  ...(apiKey === undefined ? {} : { apiKey }),
});

/** The bench's bare handler, as bench/targets.ts runs it. */
const BARE: Profiled = { entry: BARE_HANDLER_ENTRY, migrates: false };

/** `profiled` started under --cpu-prof (writing to `dir`) on the target, once the table is seeded. */
async function startSeeded(target: BenchTarget, profiled: Profiled, dir: string, customers: number): Promise<ServiceProcess> {
  const db = await openDatabase(target.database);
  try {
    if (!profiled.migrates) await migrate(db);
    const service = await startService(
      { DATABASE_URL: target.url as string, DB_POOL_SIZE: '20', ...profiled.env },
      { entry: ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...profiled.entry], discardLogs: true, readyTimeoutMs: 120_000 },
    );
    try {
      await seed(db, customers);
    } catch (error) {
      await service.stop('SIGTERM');
      throw error;
    }
    return service;
  } finally {
    await db.close();
  }
}

/** `profiled` under --cpu-prof, lookups driven at it; the profile of the measured run's seconds. */
async function profileOf(label: string, profiled: Profiled, customers: number, load: LoadSettings): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'identity-profile-'));
  // A database of its own, migrated by the build itself (each build checks the migrations it knows;
  // the bare handler's, by this script).
  const target = await scratchPostgres(adminUrl, 'identity_bench_profile');
  try {
    const service = await startSeeded(target, profiled, dir, customers);
    const state = { customers, cursor: customers, fresh: 0 };
    const keyed = profiled.apiKey === undefined ? load : { ...load, apiKey: profiled.apiKey };
    let result;
    let window: Window;
    try {
      await drive(service.baseUrl, 'lookup', state, { ...keyed, duration: 3 });
      const from = monotonicMicroseconds();
      result = await drive(service.baseUrl, 'lookup', state, keyed);
      window = { from, to: monotonicMicroseconds() };
    } finally {
      await service.stop('SIGTERM');
    }
    const [file] = await readdir(dir);
    if (file === undefined) throw new Error(`${label}: the process wrote no profile`);
    const parts = byPart(JSON.parse(await readFile(join(dir, file), 'utf8')) as Profile, window);
    const requests = result.requests ?? result.requestsPerSecond * load.duration;
    for (const [part, us] of parts) parts.set(part, us / requests);
    log(`${label}: ${result.requestsPerSecond} req/s`);
    return { label, requests, requestsPerSecond: result.requestsPerSecond, parts };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await target.dispose();
  }
}

/** `ref` checked out and built in a scratch worktree (its own `npm ci`: its dependencies may differ). */
async function buildRef(ref: string): Promise<{ root: string; dispose: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'identity-before-'));
  execFileSync('git', ['worktree', 'add', '--detach', root, ref], { stdio: 'inherit' });
  const dispose = async () => {
    execFileSync('git', ['worktree', 'remove', '--force', root], { stdio: 'inherit' });
  };
  try {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: root, stdio: 'inherit' });
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
    return { root, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

const round = (us: number) => us.toFixed(1);

function table(runs: Measured[]): string[] {
  const lines = [
    `| part of the stack | ${runs.map((run) => `${run.label} µs/request`).join(' | ')} |`,
    `|---|${runs.map(() => '---:').join('|')}|`,
  ];
  // A part no run spent anything in (the bare handler's own code, in a table of service builds) is left out.
  const spent = PARTS.map(([part]) => part).filter((part) => runs.some((run) => (run.parts.get(part) ?? 0) > 0));
  for (const part of spent) lines.push(`| ${part} | ${runs.map((run) => round(run.parts.get(part) ?? 0)).join(' | ')} |`);
  const total = (run: Measured) => [...run.parts.values()].reduce((sum, us) => sum + us, 0);
  lines.push(`| **total CPU** | ${runs.map((run) => `**${round(total(run))}**`).join(' | ')} |`);
  lines.push(`| lookups/s while profiled | ${runs.map((run) => run.requestsPerSecond.toLocaleString('en-US')).join(' | ')} |`);
  return lines;
}

async function main(): Promise<void> {
  if (args.help) return void console.log(USAGE);
  if (args.bare && args.before !== undefined) throw new Error(USAGE);
  const customers = Number(args.size);
  const load: LoadSettings = { connections: 20, duration: Number(args.duration), loader: wrkInstalled() ? 'wrk' : 'autocannon' };
  execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  const before = args.before === undefined ? null : await buildRef(args.before);
  try {
    const runs: Measured[] = [];
    if (args.bare) {
      runs.push(await profileOf('bare handler', BARE, customers, load));
      runs.push(await profileOf('service', serviceAt(process.cwd(), PRODUCTION_ENV, BENCH_API_KEY), customers, load));
    } else {
      if (before !== null) runs.push(await profileOf(`before (${args.before})`, serviceAt(before.root), customers, load));
      runs.push(await profileOf('now', serviceAt(process.cwd()), customers, load));
    }
    const date = new Date().toISOString().slice(0, 10);
    const rows = table(runs);
    const command = `npm run bench:profile${args.before ? ` -- --before ${args.before}` : ''}${args.bare ? ' -- --bare' : ''}`;
    const what = args.bare
      ? "the bench's bare handler, then the service with the bench's production settings (API keys, rate limiting, the recommended block list), one at a time"
      : 'one service process';
    const lines = [
      `Lookups at 20 connections for ${load.duration} s (${load.loader}) after 3 s of warm-up, ${customers.toLocaleString('en-US')} customers, \`NODE_ENV=production LOG_LEVEL=info\`, ${what} under \`node --cpu-prof\` (${date}, \`${command}\`). Self time of the samples taken during the measured run, idle excluded, by where the code lives, divided by the requests it answered; "socket writes and reads" are the system calls that send answers and read requests (on this virtual machine a system call is expensive).`,
      '',
      ...rows,
    ];
    const name = args.bare ? 'profile-bare' : 'profile';
    await writeFile(new URL(`./results/${name}.md`, import.meta.url), `${lines.join('\n')}\n`);
    // The doc's text before the marker says how it is measured; the run's own line is in the results file.
    await writeAfterMarker(new URL('../docs/benchmarks.md', import.meta.url), `<!-- bench: ${name} -->`, rows);
  } finally {
    await before?.dispose();
  }
}

await main();
