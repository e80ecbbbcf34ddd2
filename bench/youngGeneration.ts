/**
 * `npm run bench:young-generation`: whether the service should ask V8 for a bigger young
 * generation. Not part of `npm run bench`. Two production services (bench/targets.ts'
 * PRODUCTION_ENV, LOG_LEVEL=info) on one seeded PostgreSQL table, one with
 * `--max-semi-space-size=64` (up to 128 MB of new space), one with Node's default (32 MB on
 * Node 20), their lookups driven in turn over interleaved rounds (each first in half of them).
 * Writes bench/results/young-generation.md: the medians of what the flag buys (the collector's
 * pauses, CPU per lookup, req/s, p99) and costs (resident memory), and every run; and the medians'
 * table into docs/benchmarks.md (after `<!-- bench: young-generation -->`).
 *
 * Why it was asked (issue 17): the service's p99 sits at its goal's edge, and a trace of the
 * collector showed a scavenge every 35 ms. Needs `npm run build` and wrk. Environment:
 * DATABASE_URL (the admin connection; a scratch database is made beside it), ROUNDS (default 4).
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { drive, type WorkloadResult } from './load.js';
import { driveWatchingLoop, interleavedRounds } from './measuredRuns.js';
import { residentMb } from './resident.js';
import { median, medianRun } from './report.js';
import { writeAfterMarker } from './docMarker.js';
import { seed } from './seed.js';
import { BENCH_API_KEY, PRODUCTION_ENV, scratchPostgres, serve, withDatabase } from './targets.js';
import type { WorkloadState } from './workloads.js';
import type { ServiceProcess } from '../test/support/serviceProcess.js';

const CUSTOMERS = 100_000;
const RESULTS = 'bench/results/young-generation.md';
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const rounds = Number(process.env.ROUNDS ?? 4);
const load = { connections: 20, duration: 10, loader: 'wrk' as const, apiKey: BENCH_API_KEY };

/** Node's flags of each setting. */
const SETTINGS = { '--max-semi-space-size=64': ['--max-semi-space-size=64'], "Node's default": [] } satisfies Record<string, string[]>;
type Setting = keyof typeof SETTINGS;
const ORDER: [Setting, Setting] = ['--max-semi-space-size=64', "Node's default"];

interface Run extends WorkloadResult {
  setting: Setting;
  round: number;
  /** MB the process held in memory right after the run (bench/resident.ts). */
  residentMb: number;
}

const row = (cells: (string | number | undefined)[]) => `| ${cells.map((cell) => cell ?? '–').join(' | ')} |`;

/** The medians of each setting's runs, as a table. */
function mediansTable(runs: Run[]): string[] {
  const lines = [
    row([
      'node flags',
      'req/s',
      'p99 ms',
      'main thread µs / lookup',
      'collector pauses / s',
      'collector % of the run',
      'major collections / run',
      'resident MB after a run',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const setting of ORDER) {
    const of = runs.filter((run) => run.setting === setting);
    const middle = medianRun(of);
    const loop = middle.eventLoop;
    const residents = median(of.map((run) => run.residentMb));
    lines.push(
      row([
        setting,
        middle.requestsPerSecond.toLocaleString('en-US'),
        middle.p99,
        middle.cpu?.mainThreadUs,
        loop?.gcPausesPerSecond,
        loop?.gcPercent,
        loop?.majorPauses,
        residents,
      ]),
    );
  }
  return lines;
}

/** The run's description, the medians and every run. */
function markdown(runs: Run[], started: Date): string {
  const lines = [
    `${started.toISOString().slice(0, 10)}, ${cpus().length} CPUs, Node ${process.version}; wrk, the services and PostgreSQL on this one machine; ${CUSTOMERS.toLocaleString('en-US')} customers; ${load.connections} connections; ${rounds} rounds of ${load.duration} s lookups on each service, in turn (each first in half of the rounds), after a 3 s warm-up. Written by \`npm run bench:young-generation\` (bench/youngGeneration.ts).`,
    '',
    '### Medians of the rounds',
    '',
    ...mediansTable(runs),
    '',
    '### Every run',
    '',
    row([
      'round',
      'node flags',
      'req/s',
      'p99 ms',
      'main thread µs / lookup',
      'collector pauses / s',
      'collector %',
      'major collections',
      'resident MB',
    ]),
    row(['---:', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const run of runs) {
    const loop = run.eventLoop;
    const requests = run.requestsPerSecond.toLocaleString('en-US');
    lines.push(
      row([
        run.round,
        run.setting,
        requests,
        run.p99,
        run.cpu?.mainThreadUs,
        loop?.gcPausesPerSecond,
        loop?.gcPercent,
        loop?.majorPauses,
        run.residentMb,
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

const started = new Date();
const target = await scratchPostgres(adminUrl, 'identity_bench_young_generation');
const services = new Map<Setting, ServiceProcess>();
try {
  await withDatabase(target, (db) => seed(db, CUSTOMERS));
  for (const setting of ORDER) services.set(setting, await serve(target, 1, 'info', PRODUCTION_ENV, SETTINGS[setting]));
  const state: WorkloadState = { customers: CUSTOMERS, cursor: CUSTOMERS, fresh: 0 };
  for (const service of services.values()) await drive(service.baseUrl, 'lookup', { ...state }, { ...load, duration: 3 });
  const runs: Run[] = [];
  await interleavedRounds(rounds, ORDER, async (setting, round) => {
    const service = services.get(setting) as ServiceProcess;
    const result = await driveWatchingLoop(service, 'lookup', state, load);
    const run: Run = { ...result, setting, round, residentMb: await residentMb(service.child.pid as number) };
    console.log(JSON.stringify(run));
    runs.push(run);
  });
  writeFileSync(RESULTS, markdown(runs, started));
  console.log(`wrote ${RESULTS}`);
  await writeAfterMarker(new URL('../docs/benchmarks.md', import.meta.url), '<!-- bench: young-generation -->', mediansTable(runs));
} finally {
  for (const service of services.values()) await service.stop('SIGTERM');
  await target.dispose();
}
