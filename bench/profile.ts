/**
 * `npm run bench:profile`: where a lookup's CPU time goes in the service process, before and after
 * a change. For each build (the working tree's, and with `--before <git ref>` that commit's, built
 * in a scratch worktree) it starts the service under `node --cpu-prof` with production settings on
 * a scratch database of its own (which that build migrates), seeds it, drives lookups at 20 connections and reads the profile: self time by
 * part of the stack, in microseconds of CPU per answered request. The table goes to
 * bench/results/profile.md and after the `<!-- bench: profile -->` marker in docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startService } from '../test/support/serviceProcess.js';
import { writeAfterMarker } from './docMarker.js';
import { drive, type LoadSettings } from './load.js';
import { seed } from './seed.js';
import { openDatabase } from '../src/db/database.js';
import { scratchPostgres } from './targets.js';
import { wrkInstalled } from './wrk.js';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string' },
    size: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '10' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const USAGE = `Usage: npm run bench:profile -- [--before <git ref>] [--size <customers>] [--duration <s>]`;

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
  ['other packages', (url) => /node_modules\//.test(url)],
  ['other Node.js and V8', () => true],
];

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Microseconds of self time by part, idle excluded. */
function byPart(profile: Profile): Map<string, number> {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const parts = new Map<string, number>(PARTS.map(([name]) => [name, 0]));
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id);
    if (frame === undefined || frame.functionName === '(idle)') return;
    const part = PARTS.find(([, matches]) => matches(frame.url, frame.functionName))?.[0] as string;
    parts.set(part, (parts.get(part) ?? 0) + (profile.timeDeltas[index] ?? 0));
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

/** The service built from `root` under --cpu-prof, lookups driven at it; the profile of those seconds. */
async function profileOf(label: string, root: string, customers: number, load: LoadSettings): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'identity-profile-'));
  // A database of its own, migrated by the build itself: each build checks the migrations it knows.
  const target = await scratchPostgres(adminUrl, 'identity_bench_profile');
  try {
    const service = await startService(
      { DATABASE_URL: target.url as string, DB_POOL_SIZE: '20', NODE_ENV: 'production', LOG_LEVEL: 'info', WEB_CONCURRENCY: '1' },
      { entry: ['--cpu-prof', `--cpu-prof-dir=${dir}`, join(root, 'dist/cli.js'), 'serve'], discardLogs: true, readyTimeoutMs: 120_000 },
    );
    const state = { customers, cursor: customers, fresh: 0 };
    let result;
    try {
      const db = await openDatabase(target.database);
      await seed(db, customers).finally(() => db.close());
      await drive(service.baseUrl, 'lookup', state, { ...load, duration: 3 });
      result = await drive(service.baseUrl, 'lookup', state, load);
    } finally {
      await service.stop('SIGTERM');
    }
    const [file] = await readdir(dir);
    if (file === undefined) throw new Error(`${label}: the service wrote no profile`);
    const parts = byPart(JSON.parse(await readFile(join(dir, file), 'utf8')) as Profile);
    // The profile spans start-up, the warm-up and the run; start-up is a few hundred ms of a
    // 13 s profile, so per request counts the warm-up's requests at the run's rate.
    const requests = result.requestsPerSecond * (load.duration + 3);
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
  for (const [part] of PARTS) lines.push(`| ${part} | ${runs.map((run) => round(run.parts.get(part) ?? 0)).join(' | ')} |`);
  const total = (run: Measured) => [...run.parts.values()].reduce((sum, us) => sum + us, 0);
  lines.push(`| **total CPU** | ${runs.map((run) => `**${round(total(run))}**`).join(' | ')} |`);
  lines.push(`| lookups/s while profiled | ${runs.map((run) => run.requestsPerSecond.toLocaleString('en-US')).join(' | ')} |`);
  return lines;
}

async function main(): Promise<void> {
  if (args.help) return void console.log(USAGE);
  const customers = Number(args.size);
  const load: LoadSettings = { connections: 20, duration: Number(args.duration), loader: wrkInstalled() ? 'wrk' : 'autocannon' };
  execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  const before = args.before === undefined ? null : await buildRef(args.before);
  try {
    const runs: Measured[] = [];
    if (before !== null) runs.push(await profileOf(`before (${args.before})`, before.root, customers, load));
    runs.push(await profileOf('now', process.cwd(), customers, load));
    const date = new Date().toISOString().slice(0, 10);
    const rows = table(runs);
    const lines = [
      `Lookups at 20 connections for ${load.duration} s (${load.loader}), ${customers.toLocaleString('en-US')} customers, \`NODE_ENV=production LOG_LEVEL=info\`, one service process under \`node --cpu-prof\` (${date}, \`npm run bench:profile${args.before ? ` -- --before ${args.before}` : ''}\`). Self time of the profile's samples, idle excluded, by where the code lives, divided by the requests answered; "socket writes and reads" are the system calls that send answers and read requests (on this virtual machine a system call is expensive).`,
      '',
      ...rows,
    ];
    await writeFile(new URL('./results/profile.md', import.meta.url), `${lines.join('\n')}\n`);
    // The doc's text before the marker says how it is measured; the run's own line is in profile.md.
    await writeAfterMarker(new URL('../docs/benchmarks.md', import.meta.url), '<!-- bench: profile -->', rows);
  } finally {
    await before?.dispose();
  }
}

await main();
