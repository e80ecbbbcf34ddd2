/**
 * The bench's arithmetic behind issue 17's verdicts: a workload's rounds read as their median run
 * (bench/report.ts, medianRun), a run's batched statements from the service's counters before
 * and after it (bench/batches.ts, batchFigures), where the machine's CPU went in a run
 * (bench/cpuShare.ts) and the reasons the goals' rows give when missed (bench/cpuTable.ts,
 * bench/report.ts writeCeilingRow), and what held up the service's event loop in a run and how a
 * missed p99 says so (bench/eventLoop.ts, bench/report.ts p99Reason).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { batchFigures, type BatchTotals } from '../../bench/batches.js';
import type { WorkloadResult } from '../../bench/load.js';
import { markdownReport, medianRun, p99Reason, writeCeilingRow, type BenchReport } from '../../bench/report.js';
import { eventLoopFigures, parseEventLoopMetrics, type EventLoopFigures } from '../../bench/eventLoop.js';
import {
  cpuShare,
  cpuSnapshot,
  parseMachineStat,
  parseProcessStat,
  partTicks,
  type CpuShare,
  type CpuSnapshot,
  type ProcessTicks,
} from '../../bench/cpuShare.js';
import { lookupLimit } from '../../bench/cpuTable.js';

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

  it("takes each CPU figure's median on its own, and none when a run has no figures", () => {
    const cpu = (serviceUs: number, idle: number): CpuShare => ({
      serviceUs,
      mainThreadUs: serviceUs - 10,
      databaseUs: 50,
      loadGeneratorUs: 20,
      restUs: 1,
      idle,
      steal: 0,
      mainThreadBusy: 0.9,
    });
    const median = medianRun([run(1, 1, { cpu: cpu(200, 0.3) }), run(2, 2, { cpu: cpu(100, 0.1) }), run(3, 3, { cpu: cpu(300, 0.2) })]);
    assert.equal(median.cpu?.serviceUs, 200);
    assert.equal(median.cpu?.idle, 0.2, 'the middle idle share, not the idle share of the middle run');
    assert.equal(medianRun([run(1, 1, { cpu: cpu(200, 0.3) }), run(2, 2)]).cpu, undefined);
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

/** A /proc/<pid>/stat line with this name, parent and ticks (utime, stime, cutime, cstime). */
const statLine = (pid: number, name: string, parent: number, [user, system, childUser, childSystem]: number[]) =>
  `${pid} (${name}) S ${parent} ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${user} ${system} ${childUser} ${childSystem} 20 0 1 0 5 1000 10`;

describe('parseProcessStat', () => {
  it('reads the ticks after the name, whatever the name holds (spaces, parentheses)', () => {
    assert.deepEqual(parseProcessStat(42, statLine(42, 'V8 (worker) 1', 7, [120, 30, 5, 1])), {
      pid: 42,
      name: 'V8 (worker) 1',
      parent: 7,
      own: 150,
      children: 6,
    });
  });
});

describe('parseMachineStat', () => {
  it('sums every column of the cpu line, counts idle with I/O wait and steal apart, and counts the CPUs', () => {
    const text = 'cpu  100 0 50 300 20 0 10 40 0 0\ncpu0 50 0 25 150 10 0 5 20 0 0\ncpu1 50 0 25 150 10 0 5 20 0 0\nintr 1\n';
    assert.deepEqual(parseMachineStat(text), { cpus: 2, total: 520, idle: 320, steal: 40 });
  });
});

describe('partTicks', () => {
  const processes: ProcessTicks[] = [
    { pid: 10, name: 'node', parent: 1, own: 500, children: 0 },
    { pid: 11, name: 'node', parent: 10, own: 200, children: 0 },
    { pid: 20, name: 'postgres', parent: 1, own: 5, children: 300 },
    { pid: 21, name: 'postgres', parent: 20, own: 100, children: 0 },
    { pid: 30, name: 'wrk', parent: 99, own: 40, children: 0 },
    { pid: 99, name: 'node', parent: 1, own: 70, children: 60 },
    { pid: 50, name: 'redis-server', parent: 1, own: 9, children: 0 },
  ];

  it('gives the service its process tree (cluster workers too), PostgreSQL its processes and what they reaped, and the load generator wrk and the bench with what it reaped', () => {
    assert.deepEqual(partTicks(processes, { servicePid: 10, benchPid: 99 }), { service: 700, database: 405, loadGenerator: 170 });
  });

  it('gives no process to the service when none is driven (pgbench)', () => {
    assert.equal(partTicks(processes, { benchPid: 99 }).service, 0);
  });
});

describe('cpuShare', () => {
  const snapshot = (total: number, idle: number, steal: number, parts: CpuSnapshot['parts'], main: [number, number][]): CpuSnapshot => ({
    machine: { cpus: 2, total, idle, steal },
    parts,
    mainThreads: new Map(main),
  });

  it('turns the ticks between two readings into µs per request, and the main thread into a share of the wall time', () => {
    // 10 s on 2 CPUs: 2,000 ticks. 50,000 requests.
    const before = snapshot(1_000, 100, 0, { service: 100, database: 100, loadGenerator: 0 }, [[10, 50]]);
    const after = snapshot(3_000, 500, 100, { service: 1_100, database: 400, loadGenerator: 100 }, [[10, 950]]);
    assert.deepEqual(cpuShare(before, after, 50_000), {
      serviceUs: 200,
      mainThreadUs: 180,
      databaseUs: 60,
      loadGeneratorUs: 20,
      restUs: 20,
      idle: 0.2,
      steal: 0.05,
      mainThreadBusy: 0.9,
    });
  });

  it('takes the busiest main thread when the service runs several workers', () => {
    const parts = { service: 0, database: 0, loadGenerator: 0 };
    const share = cpuShare(
      snapshot(0, 0, 0, parts, [
        [10, 0],
        [11, 0],
      ]),
      snapshot(2_000, 0, 0, parts, [
        [10, 300],
        [11, 700],
      ]),
      1,
    );
    assert.equal(share.mainThreadBusy, 0.7);
  });
});

describe('cpuSnapshot', { skip: process.platform === 'linux' ? false : 'reads Linux /proc' }, () => {
  it("reads this machine's /proc: this process as the server, its main thread's ticks growing while it computes", () => {
    const before = cpuSnapshot(process.pid);
    // About 200 ms of work on this thread: twenty ticks of 10 ms.
    for (const until = performance.now() + 100; performance.now() < until;);
    const after = cpuSnapshot(process.pid);
    assert.ok(before !== undefined && after !== undefined);
    assert.ok(after.machine.cpus >= 1 && after.machine.total > before.machine.total);
    assert.ok(after.mainThreads.has(process.pid), 'the main thread is the thread whose id is the process id');
    assert.ok((after.mainThreads.get(process.pid) as number) > (before.mainThreads.get(process.pid) as number));
    assert.ok(after.parts.service >= (after.mainThreads.get(process.pid) as number), 'the process holds its main thread');
  });
});

describe('lookupLimit', () => {
  const cpu = (extra: Partial<CpuShare>): CpuShare => ({
    serviceUs: 120,
    mainThreadUs: 110,
    databaseUs: 40,
    loadGeneratorUs: 20,
    restUs: 10,
    idle: 0.2,
    steal: 0,
    mainThreadBusy: 0.95,
    ...extra,
  });

  it("names the service's main thread when it was busy nearly all the run, with the µs a lookup the goal needs", () => {
    const reason = lookupLimit(cpu({}), cpu({ serviceUs: 0, databaseUs: 70 }), 10_000);
    assert.match(
      reason,
      /^bound by the service's main thread: it was on a CPU 95% of the run at 110\.0 µs a lookup \(one process: at most 9,091\/s\); the goal needs at most 100\.0 µs/,
    );
    assert.match(reason, /a lookup took 190\.0 µs of the machine's CPU/);
  });

  it('names the machine when it had no idle CPU left', () => {
    assert.match(lookupLimit(cpu({ mainThreadBusy: 0.6, idle: 0.01 }), undefined, 10_000), /^bound by the machine's CPU \(idle 1%\)/);
  });

  it('says the lookups waited when neither was full', () => {
    assert.match(lookupLimit(cpu({ mainThreadBusy: 0.6, idle: 0.3 }), undefined, 10_000), /: lookups waited; /);
  });
});

describe('writeCeilingRow', () => {
  it('says one at a time cannot reach the goal when its floor (read and plain insert) is below it', () => {
    const row = writeCeilingRow('new', { alone: 5_500, together: 9_500, floor: 8_000 }, 'new customers/s');
    assert.match(row, /\*\*missed\*\*; one at a time cannot reach it in this run: .* ran at 8,000\/s \|$/);
  });

  it('gives what the locks, the check and the function cost when the floor is above the goal', () => {
    const row = writeCeilingRow('extend', { alone: 4_000, floor: 8_000 }, 'extensions/s');
    // 1e6/4,000 − 1e6/8,000 = 125 µs.
    assert.match(row, /ran at 8,000\/s: the rest \(125 µs a write at 20 clients\)/);
  });

  it('names the sizes that held and those that missed', () => {
    const row = writeCeilingRow('new', { alone: 5_500, together: 9_500, atServiceSize: { plans: 10, rate: 13_000 } }, 'new customers/s');
    assert.match(
      row,
      /\*\*held\*\*: at 10 arriving together \(the service's size in this run\); missed one at a time, 4 arriving together \|$/,
    );
  });
});

describe('the event loop during a run (bench/eventLoop.ts)', () => {
  // As the service's /metrics writes them (prom-client's default metrics).
  const metrics = (lagP99: number, lagMax: number, minor: [number, number], major: [number, number]) =>
    [
      '# HELP nodejs_eventloop_lag_max_seconds The maximum recorded event loop delay.',
      '# TYPE nodejs_eventloop_lag_max_seconds gauge',
      `nodejs_eventloop_lag_max_seconds ${lagMax}`,
      `nodejs_eventloop_lag_p99_seconds ${lagP99}`,
      `nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 3`,
      `nodejs_gc_duration_seconds_sum{kind="minor"} ${minor[1]}`,
      `nodejs_gc_duration_seconds_count{kind="minor"} ${minor[0]}`,
      `nodejs_gc_duration_seconds_sum{kind="major"} ${major[1]}`,
      `nodejs_gc_duration_seconds_count{kind="major"} ${major[0]}`,
    ].join('\n');

  it("reads the loop's delay and each kind of collection from the /metrics text, and a missing series as 0", () => {
    assert.deepEqual(parseEventLoopMetrics(metrics(0.0123, 0.034, [10, 0.012], [1, 0.004])), {
      lagP99Seconds: 0.0123,
      lagMaxSeconds: 0.034,
      gc: { minor: { pauses: 10, seconds: 0.012 }, major: { pauses: 1, seconds: 0.004 } },
    });
    assert.deepEqual(parseEventLoopMetrics(''), { lagP99Seconds: 0, lagMaxSeconds: 0, gc: {} });
  });

  it('gives how late the loop came round beyond its 10 ms sampling, and the pauses of the run alone', () => {
    const before = parseEventLoopMetrics(metrics(0.0106, 0.15, [100, 0.1], [2, 0.01]));
    const after = parseEventLoopMetrics(metrics(0.0125, 0.0331, [380, 0.5], [4, 0.05]));
    assert.deepEqual(eventLoopFigures(before, after, 10), {
      lagP99Ms: 2.5,
      lagMaxMs: 23.1,
      gcPausesPerSecond: 28.2,
      gcPercent: 4.4,
      majorPauses: 2,
      majorMs: 40,
    });
    assert.equal(eventLoopFigures(before, parseEventLoopMetrics(metrics(0.009, 0.0099, [100, 0.1], [2, 0.01])), 10).lagMaxMs, 0);
  });
});

describe('p99Reason', () => {
  const loop: EventLoopFigures = { lagP99Ms: 2.5, lagMaxMs: 23.1, gcPausesPerSecond: 28.2, gcPercent: 4.4, majorPauses: 2, majorMs: 40 };
  const cpu = { mainThreadBusy: 0.87, mainThreadUs: 141.2, idle: 0.2, steal: 0.02 } as CpuShare;

  it("gives the event loop's lateness and pauses, the main thread's and the machine's CPU, and the bare handler's p99", () => {
    assert.equal(
      p99Reason({ eventLoop: loop, cpu }, 21.43),
      'its event loop came round up to 23.1 ms late (p99 2.5 ms); the garbage collector paused it 28.2 times a second, 4.4% of the run, and made 2 major collections in the run (40 ms in all); ' +
        "its main thread was on a CPU 87% of the run at 141.2 µs a lookup, the machine 20% idle and 2% stolen; the bare handler's p99 in the same rounds: 21.43 ms",
    );
  });

  it('leaves out what the runs did not measure', () => {
    assert.equal(p99Reason({}, 21.43), "the bare handler's p99 in the same rounds: 21.43 ms");
  });

  it("takes each event-loop figure's median across the runs (medianRun)", () => {
    const runs = [3, 1, 2].map((k) => run(1_000, 10, { eventLoop: { ...loop, lagMaxMs: k, majorPauses: 10 - k } }));
    assert.deepEqual(medianRun(runs).eventLoop, { ...loop, lagMaxMs: 2, majorPauses: 8 });
    assert.equal(medianRun([...runs, run(1_000, 10)]).eventLoop, undefined, 'none when a run lacks them');
  });
});

describe('the committed results of `npm run bench`', () => {
  // Each .md is the report's code run on that run's .json (`npm run bench -- --render <name>` after
  // the wording changes): no figure in them is typed by hand.
  for (const name of ['latest', 'postgres', 'governance', 'phone-region', 'delivery']) {
    it(`bench/results/${name}.md is what the report makes of ${name}.json`, () => {
      const results = new URL(`../../bench/results/${name}`, import.meta.url);
      const report = JSON.parse(readFileSync(`${results.pathname}.json`, 'utf8')) as BenchReport;
      assert.equal(markdownReport(report), readFileSync(`${results.pathname}.md`, 'utf8'));
    });
  }
});
