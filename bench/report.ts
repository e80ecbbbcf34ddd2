/** The Markdown table of a benchmark run, as the README shows it. */
import type { BatchFigures } from './batches.js';
import type { LatencySample, WorkloadResult } from './load.js';
import type { StatementCount } from './roundTrips.js';
import { WRITE_BATCH } from './pgbench.js';
import type { CpuShare } from './cpuShare.js';
import { cpuTable, lookupLimit, type CpuRow } from './cpuTable.js';

export interface TargetReport {
  target: 'postgres' | 'embedded';
  /** The customers lookups and extensions pick from. */
  customers: number;
  /** Untouched customers seeded beyond them, for merges (absent in older reports). */
  mergeReserve?: number;
  /** Every row, the reserve's included. */
  rows: number;
  /** Rounds of the goal workloads (bench/run.ts, GOAL_WORKLOADS); `results` holds their median runs, then those run once. */
  rounds?: number;
  /** Each round's runs, in order. */
  roundRuns?: WorkloadResult[][];
  results: WorkloadResult[];
  violations: number;
}

/** A batched pgbench ceiling measured at `plans` a statement, the size the service's own write statements carried. */
export interface ServiceSizedCeiling {
  plans: number;
  /** Writes per second. */
  rate: number;
}

export interface BenchReport {
  date: string;
  machine: { cpus: number; node: string };
  connections: number;
  duration: number;
  logLevel: string;
  /** The load generator: wrk (bench/wrk.ts) or autocannon. */
  loader: string;
  postgres?: TargetReport & {
    pgbench: {
      lookup: number;
      lookupRuns: number[];
      /** Where the machine's CPU went in the counted lookup run (bench/cpuShare.ts). */
      lookupCpu?: CpuShare;
      new: number;
      newBatch?: number;
      /** new's read, then its row and event by a plain INSERT: the least its two statements cost. */
      newFloor?: number;
      extend: number;
      extendBatch?: number;
      /** extend's read, then its row and event by a plain INSERT. */
      extendFloor?: number;
      /** The batched ceilings at the size the service's write statements carried in the same run. */
      newAtServiceSize?: ServiceSizedCeiling;
      extendAtServiceSize?: ServiceSizedCeiling;
      insert?: number;
    };
    twoWorkers?: WorkloadResult[];
    bare?: BareReference;
  };
  embedded?: TargetReport;
  growth?: { rows: number; sequential: LatencySample; loaded: WorkloadResult }[];
  bigCustomer?: { contacts: number; sequential: LatencySample };
  governance?: GovernanceReport;
  phoneRegion?: PhoneRegionReport;
  delivery?: DeliveryReport;
}

/** Writes with one webhook endpoint and with none, interleaved in rounds; how fast the endpoint got every event. */
export interface DeliveryReport {
  customers: number;
  rounds: number;
  writeSeconds: number;
  runs: {
    round: number;
    setting: 'webhook' | 'none';
    results: WorkloadResult[];
    /** Webhook runs: events written, seconds after the run until the receiver had them all, events delivered per second. */
    drain: { events: number; caughtUpSeconds: number; eventsPerSecond: number };
  }[];
  allDelivered: boolean;
  violations: number;
}

export type PhoneRegionSetting = 'region' | 'plain';

/** What DEFAULT_PHONE_REGION costs lookups: two services, with it and without, interleaved in rounds. */
/** Lookups on the service and on the bare handler (bench/bareHandler.ts), interleaved in rounds. */
export interface BareReference {
  rounds: number;
  runs: { round: number; setting: BareSetting; results: WorkloadResult[] }[];
}

export type BareSetting = 'service' | 'bare';

/** Issue 17's goals for lookups: this share of the bare handler's rate, and a p99 below this. */
export const BARE_GOAL = 0.9;
export const BARE_P99_GOAL_MS = 10;

/** Issue 17's other goals: shares of the database's ceilings and of the service's own lookups, and write ceilings. */
export const LOOKUP_CEILING_GOAL = 0.4;
export const WRITE_CEILING_GOALS = { new: 10_000, extend: 6_000 } as const;
export const WRITE_SHARE_GOALS = { new: 0.5, extend: 0.4, merge: 0.4 } as const;

export interface PhoneRegionReport {
  region: string;
  customers: number;
  rows: number;
  rounds: number;
  runs: { round: number; setting: PhoneRegionSetting; results: WorkloadResult[] }[];
  violations: number;
}

/** The issue's goal: lookups with a region keep at least this share of those without. */
export const PHONE_REGION_GOAL = 0.95;

export type GovernanceSetting = 'on' | 'off';

/** The cost of identity governance: the same workloads with it on and off, interleaved in rounds. */
export interface GovernanceReport {
  customers: number;
  rows: number;
  /** Block rules in force with governance on (the recommended preset). */
  rules: number;
  rounds: number;
  /** Seconds per write run (lookups run the bench's duration). */
  writeSeconds: number;
  runs: { round: number; governance: GovernanceSetting; results: WorkloadResult[] }[];
  /** "ContactEvent" rows written during each setting's runs. */
  events: Record<GovernanceSetting, number>;
  statements: StatementCount[];
  violations: number;
}

/** The issue's goal: governance on keeps at least this share of the requests per second it has off. */
export const GOVERNANCE_GOALS: Record<string, number> = { lookup: 0.97, new: 0.85, extend: 0.85, merge: 0.85 };

const number = (value: number) => value.toLocaleString('en');

/** The database's transactions per request, as the report prints it (– when not counted). */
const perRequest = (r: WorkloadResult) => (r.transactionsPerRequest === undefined ? '–' : r.transactionsPerRequest.toFixed(2));

/**
 * Runs of one workload as one: the median of each figure (req/s, each latency percentile,
 * transactions per request), failures and requests summed.
 */
export function medianRun(runs: readonly WorkloadResult[]): WorkloadResult {
  const [first] = runs;
  if (first === undefined) throw new Error('medianRun: no runs');
  const of = (figure: (r: WorkloadResult) => number | undefined) => {
    const values = runs.map(figure).filter((value): value is number => value !== undefined);
    return values.length === runs.length ? median(values) : undefined;
  };
  const sum = (figure: (r: WorkloadResult) => number) => runs.reduce((total, r) => total + figure(r), 0);
  const requests = of((r) => r.requests) === undefined ? undefined : sum((r) => r.requests ?? 0);
  const transactionsPerRequest = of((r) => r.transactionsPerRequest);
  const cpu = medianFigures(runs.map((r) => r.cpu));
  const eventLoop = medianFigures(runs.map((r) => r.eventLoop));
  const batches: NonNullable<WorkloadResult['batches']> = {};
  for (const statement of ['read', 'write'] as const) {
    const figure = (name: keyof BatchFigures) => of((r) => r.batches?.[statement]?.[name]);
    const statements = figure('statements');
    const requestsPerStatement = figure('requestsPerStatement');
    const msPerStatement = figure('msPerStatement');
    const inFlight = figure('inFlight');
    if (statements !== undefined && requestsPerStatement !== undefined && msPerStatement !== undefined && inFlight !== undefined) {
      batches[statement] = { statements, requestsPerStatement, msPerStatement, inFlight };
    }
  }
  return {
    workload: first.workload,
    requestsPerSecond: Math.round(median(runs.map((r) => r.requestsPerSecond))),
    p50: median(runs.map((r) => r.p50)),
    p90: median(runs.map((r) => r.p90)),
    p99: median(runs.map((r) => r.p99)),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    ...(requests === undefined ? {} : { requests }),
    ...(first.runSeconds === undefined ? {} : { runSeconds: first.runSeconds }),
    ...(transactionsPerRequest === undefined ? {} : { transactionsPerRequest }),
    ...(Object.keys(batches).length === 0 ? {} : { batches }),
    ...(cpu === undefined ? {} : { cpu }),
    ...(eventLoop === undefined ? {} : { eventLoop }),
  };
}

/** Each figure's median on its own, when every run has them (a run's CPU, its event loop's figures). */
function medianFigures<T extends object>(readings: readonly (T | undefined)[]): T | undefined {
  if (!readings.every((reading): reading is T => reading !== undefined) || readings.length === 0) return undefined;
  const figures = Object.keys(readings[0] as T) as (keyof T)[];
  return Object.fromEntries(figures.map((figure) => [figure, median(readings.map((reading) => reading[figure] as number))])) as T;
}

/** Each workload's batched statements (bench/batches.ts), for the runs that counted them. */
function batchTable(results: readonly WorkloadResult[], rounds: number): string[] {
  const counted = results.filter((r) => r.batches?.read !== undefined || r.batches?.write !== undefined);
  if (counted.length === 0) return [];
  const cells = (figures: BatchFigures | undefined) =>
    figures === undefined
      ? '– | – | –'
      : `${figures.requestsPerStatement} | ${figures.msPerStatement} | ${(100 * figures.inFlight).toFixed(0)}%`;
  return [
    `/identify's batched statements in those runs, counted by the service itself (\`identity_db_batch_*\` in its /metrics): requests each statement served, ms from sending it to its answer, and the share of the run a statement was in flight (their times summed, over the run's length: above 100% when several were in flight at once)${rounds > 1 ? '; medians of the rounds' : ''}. The read is every request's first statement (a lookup's only one); the write carries the plans of writes, one statement in flight per process ([docs/concurrency.md](../../docs/concurrency.md)).`,
    '',
    '| workload | read: requests / statement | read: ms | read: in flight | write: requests / statement | write: ms | write: in flight |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...counted.map((r) => `| ${r.workload} | ${cells(r.batches?.read)} | ${cells(r.batches?.write)} |`),
    '',
  ];
}

/** A workload's req/s: the median with every round's run in brackets when it ran in rounds. */
function rateCell(result: WorkloadResult, roundRuns: readonly WorkloadResult[][] | undefined): string {
  const runs = (roundRuns ?? []).flatMap((results) => results.filter((r) => r.workload === result.workload));
  const own = number(result.requestsPerSecond);
  return runs.length > 1 ? `${own} (${runs.map((r) => number(r.requestsPerSecond)).join(', ')})` : own;
}

function workloadTable(results: readonly WorkloadResult[], roundRuns?: readonly WorkloadResult[][]): string[] {
  const counted = results.some((r) => r.transactionsPerRequest !== undefined);
  return [
    `| workload | requests/s | p50 ms | p90 ms | p99 ms | non-2xx | errors |${counted ? ' db transactions / request |' : ''}`,
    `|---|---:|---:|---:|---:|---:|---:|${counted ? '---:|' : ''}`,
    ...results.map(
      (r) =>
        `| ${r.workload}${r.runSeconds === undefined ? '' : ` (${r.runSeconds} s)`} | ${rateCell(r, roundRuns)} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.non2xx} | ${r.errors} |${counted ? ` ${perRequest(r)} |` : ''}`,
    ),
  ];
}

const verdict = (held: boolean) => (held ? '**held**' : '**missed**');

/** The workloads the main section runs in rounds, whose CPU the report shows. */
const GOAL_RUNS = ['lookup', 'new', 'extend', 'merge'];

/** Issue 17's goals besides the bare handler's (its own section), each held or missed in this run. */
function performanceGoals(postgres: NonNullable<BenchReport['postgres']>): string[] {
  const rate = (results: readonly WorkloadResult[], workload: string) =>
    results.find((r) => r.workload === workload)?.requestsPerSecond ?? 0;
  const lookup = rate(postgres.results, 'lookup');
  const share = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
  const lookupHeld = lookup >= LOOKUP_CEILING_GOAL * postgres.pgbench.lookup;
  const lookupCpu = postgres.results.find((r) => r.workload === 'lookup')?.cpu;
  const lookupReason =
    lookupHeld || lookupCpu === undefined
      ? ''
      : `; ${lookupLimit(lookupCpu, postgres.pgbench.lookupCpu, LOOKUP_CEILING_GOAL * postgres.pgbench.lookup)}`;
  const rows = [
    `| lookups ≥ ${100 * LOOKUP_CEILING_GOAL}% of pgbench's lookup ceiling | ${share(lookup, postgres.pgbench.lookup)} (${number(lookup)} / ${number(postgres.pgbench.lookup)}) | ${verdict(lookupHeld)}${lookupReason} |`,
  ];
  if (postgres.twoWorkers) {
    const two = postgres.twoWorkers;
    const notSlower = two.every((r) => r.requestsPerSecond >= rate(postgres.results, r.workload));
    const one = (workload: string) => postgres.results.find((r) => r.workload === workload);
    const pairs = two
      .map((r) => {
        const single = one(r.workload);
        const statements =
          r.transactionsPerRequest === undefined || single === undefined
            ? ''
            : ` (db transactions / request ${perRequest(r)} vs ${perRequest(single)})`;
        return `${r.workload} ${number(r.requestsPerSecond)} vs ${number(single?.requestsPerSecond ?? 0)}${statements}`;
      })
      .join('; ');
    // The goal is "not slower … (or the default and the docs say when to use workers, with
    // numbers)": the second half holds it when the first does not.
    const held = notSlower
      ? verdict(true)
      : `${verdict(true)} by its alternative: the default is 1 worker, and docs/operations.md says when to use more, pointing at these numbers (not slower: missed)`;
    rows.push(
      `| \`WEB_CONCURRENCY=2\` not slower than 1 worker, or the default and the docs say when to use workers | ${pairs} | ${held} |`,
    );
  }
  const { newBatch, extendBatch, newAtServiceSize, extendAtServiceSize, newFloor, extendFloor } = postgres.pgbench;
  rows.push(
    writeCeilingRow(
      'new',
      { alone: postgres.pgbench.new, together: newBatch, atServiceSize: newAtServiceSize, floor: newFloor },
      'new customers/s',
    ),
    writeCeilingRow(
      'extend',
      { alone: postgres.pgbench.extend, together: extendBatch, atServiceSize: extendAtServiceSize, floor: extendFloor },
      'extensions/s',
    ),
  );
  for (const [name, goal] of Object.entries(WRITE_SHARE_GOALS)) {
    const writes = rate(postgres.results, name);
    const held = writes >= goal * lookup;
    const write = postgres.results.find((r) => r.workload === name)?.batches?.write;
    rows.push(
      `| service ${name} ≥ ${100 * goal}% of its lookups | ${share(writes, lookup)} (${number(writes)} / ${number(lookup)}) | ${verdict(held)}${held || write === undefined ? '' : `; ${writeBound(write)}`} |`,
    );
  }
  return [
    "### Issue 17's goals in this run",
    '',
    "The bare handler's two are in their own section above.",
    '',
    '| goal | measured | held? |',
    '|---|---|---|',
    ...rows,
    '',
  ];
}

/**
 * Why a write share was missed, as measured: a process keeps one write statement in flight, so a
 * run in which one was in flight nearly all the time wrote as fast as those statements answered.
 */
function writeBound(write: BatchFigures): string {
  const figures = `a write statement was in flight ${(100 * write.inFlight).toFixed(0)}% of the run, ${write.requestsPerStatement} plans in ${write.msPerStatement} ms each`;
  return write.inFlight >= WRITE_BOUND
    ? `${figures}: bound by it (one in flight per process), so at most ${number(Math.round((1000 * write.requestsPerStatement) / write.msPerStatement))} writes/s at that size and time`
    : `${figures}: not bound by it alone`;
}

/** A write statement in flight this share of a run or more: the run's writes were bound by it. */
const WRITE_BOUND = 0.85;

/**
 * A write ceiling's goal, over the statements one write sends alone, those of WRITE_BATCH arriving
 * together (both sizes set before the first measurement) and those at the size the service's write
 * statements carried in the run; the verdict says which size held it.
 */
export function writeCeilingRow(
  name: keyof typeof WRITE_CEILING_GOALS,
  {
    alone,
    together,
    atServiceSize,
    floor,
  }: { alone: number; together?: number | undefined; atServiceSize?: ServiceSizedCeiling | undefined; floor?: number | undefined },
  unit: string,
): string {
  const goal = WRITE_CEILING_GOALS[name];
  const sizes = [
    { label: 'one at a time', rate: alone },
    ...(together === undefined ? [] : [{ label: `${WRITE_BATCH} arriving together`, rate: together }]),
    ...(atServiceSize === undefined
      ? []
      : [{ label: `${atServiceSize.plans} arriving together (the service's size in this run)`, rate: atServiceSize.rate }]),
  ];
  const measured = sizes.map((size) => `${size.label} ${number(size.rate)}`).join('; ');
  const holding = sizes.filter((size) => size.rate >= goal).map((size) => size.label);
  const missing = sizes.filter((size) => size.rate < goal).map((size) => size.label);
  const which = holding.length > 0 && missing.length > 0 ? `: at ${holding.join(', ')}; missed ${missing.join(', ')}` : '';
  // Whether one at a time could reach the goal at all: its read and a plain insert, with no lock or check, are its floor.
  const reason =
    floor === undefined || alone >= goal
      ? ''
      : floor < goal
        ? `; one at a time cannot reach it in this run: its read and a plain INSERT of its row and event, with no lock or check, ran at ${number(floor)}/s`
        : `; its read and a plain INSERT of its row and event ran at ${number(floor)}/s: the rest (${number(Math.round(1e6 / alone - 1e6 / floor))} µs a write at 20 clients) is the locks, the check and the function`;
  return `| pgbench ${name} ≥ ${number(goal)} tps (${unit}) | ${measured} | ${verdict(holding.length > 0)}${which}${reason} |`;
}

function targetHeading(title: string, target: TargetReport): string {
  const reserve = target.mergeReserve ? ` and ${number(target.mergeReserve)} more for merges` : '';
  const rounds = (target.rounds ?? 1) > 1 ? `, ${target.rounds} rounds` : '';
  return `### ${title}: ${number(target.customers)} customers${reserve} (${number(target.rows)} rows)${rounds}, invariant violations afterwards: ${target.violations}`;
}

/** A target's heading, how its workloads ran, their table and their batched statements. */
function targetSection(title: string, target: TargetReport, duration: number): string[] {
  return [
    targetHeading(title, target),
    '',
    ...targetMethod(target, duration),
    ...workloadTable(target.results, target.roundRuns),
    '',
    ...batchTable(target.results, target.rounds ?? 1),
  ];
}

/** How a target's workloads ran: rounds and medians, and where merges take their customers from. */
function targetMethod(target: TargetReport, duration: number): string[] {
  const rounds = target.rounds ?? 1;
  const goals = target.roundRuns?.[0]?.map((r) => `\`${r.workload}\``).join(', ');
  const lines: string[] = [];
  if (rounds > 1 && goals) {
    lines.push(
      `${goals}: ${rounds} rounds, each driving all of them in that order, so that the drift of this shared machine falls on each alike (the issue's method); every figure is the median of the rounds' runs, req/s with all runs in brackets in round order. The rest ran once, after the rounds.`,
    );
  }
  if (target.mergeReserve) {
    const merge = target.results.find((r) => r.workload === 'merge');
    lines.push(
      `Merges use up two untouched customers each, so they run ${merge?.runSeconds ?? duration} s and take them from the ${number(target.mergeReserve)} seeded beyond the ${number(target.customers)} that lookups and extensions pick from.`,
    );
  }
  return lines.length === 0 ? [] : [lines.join(' '), ''];
}

export function markdownReport(report: BenchReport): string {
  const lines = [
    `${report.date.slice(0, 10)}, ${report.machine.cpus} CPUs, Node ${report.machine.node}; load generator (${report.loader === 'wrk' ? 'wrk, 2 threads' : 'autocannon'}), service and database on this one machine; ${report.connections} connections, ${report.duration} s per workload unless its row says otherwise, after a 3 s warm-up; service at LOG_LEVEL=${report.logLevel}.`,
    '',
  ];
  const { postgres, embedded, growth, bigCustomer } = report;
  if (postgres) {
    const rate = (workload: string) => postgres.results.find((r) => r.workload === workload)?.requestsPerSecond ?? 0;
    const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
    // The ceiling of `size` writes of one workload sent together (absent in older reports).
    const batchedCeilingRow = (workload: string, what: string, ceiling: number | undefined, size = WRITE_BATCH, note = '') =>
      ceiling === undefined
        ? []
        : [
            `| ${workload}, ${size} arriving together${note}: one read of them all + identity_apply_plans (${what}/s) | ${number(ceiling)} | ${number(rate(workload))} | ${percent(rate(workload), ceiling)} | **${percent(rate(workload), rate('lookup'))}** |`,
          ];
    const floorRow = (workload: string, floor: number | undefined) =>
      floor === undefined
        ? []
        : [
            `| the floor under ${workload}'s two statements: its read, then its row and event by one plain INSERT (no lock or check) | ${number(floor)} | ${number(rate(workload))} | ${percent(rate(workload), floor)} | – |`,
          ];
    const serviceSizedRow = (workload: string, what: string, ceiling: ServiceSizedCeiling | undefined) =>
      ceiling === undefined
        ? []
        : batchedCeilingRow(workload, what, ceiling.rate, ceiling.plans, " (the size of the service's write statements in this run)");
    lines.push(...targetSection('PostgreSQL, 1 worker', postgres, report.duration));
    lines.push(
      `The database's own ceilings (pgbench, the service's statements prepared, ${report.connections} clients, no HTTP and no Node.js):`,
      '',
      '| statements | pgbench tps | service req/s | service / ceiling | service / service lookup |',
      '|---|---:|---:|---:|---:|',
      `| lookup: one read | ${number(postgres.pgbench.lookup)} (higher of ${postgres.pgbench.lookupRuns.map(number).join(', ')}) | ${number(rate('lookup'))} | **${percent(rate('lookup'), postgres.pgbench.lookup)}** | – |`,
      `| new: read + identity_apply_plan | ${number(postgres.pgbench.new)} | ${number(rate('new'))} | ${percent(rate('new'), postgres.pgbench.new)} | **${percent(rate('new'), rate('lookup'))}** |`,
      ...batchedCeilingRow('new', 'new customers', postgres.pgbench.newBatch),
      ...serviceSizedRow('new', 'new customers', postgres.pgbench.newAtServiceSize),
      ...floorRow('new', postgres.pgbench.newFloor),
      `| extend: read + identity_apply_plan | ${number(postgres.pgbench.extend)} | ${number(rate('extend'))} | ${percent(rate('extend'), postgres.pgbench.extend)} | **${percent(rate('extend'), rate('lookup'))}** |`,
      ...batchedCeilingRow('extend', 'extensions', postgres.pgbench.extendBatch),
      ...serviceSizedRow('extend', 'extensions', postgres.pgbench.extendAtServiceSize),
      ...floorRow('extend', postgres.pgbench.extendFloor),
      ...(postgres.pgbench.insert === undefined
        ? []
        : [
            `| the floor under new: its row and event, one plain INSERT (no read, lock or check) | ${number(postgres.pgbench.insert)} | – | – | – |`,
          ]),
      '',
    );
    const counted = (workload: string) => postgres.results.find((r) => r.workload === workload);
    lines.push(
      ...cpuTable(
        [
          ...GOAL_RUNS.map((workload) => ({
            label: `${workload} (median of the rounds)`,
            requestsPerSecond: rate(workload),
            cpu: counted(workload)?.cpu,
          })),
          ...(postgres.twoWorkers ?? []).map((r) => ({
            label: `${r.workload}, 2 workers`,
            requestsPerSecond: r.requestsPerSecond,
            cpu: r.cpu,
          })),
          {
            label: "pgbench's lookup ceiling (the run counted)",
            requestsPerSecond: postgres.pgbench.lookup,
            cpu: postgres.pgbench.lookupCpu,
          },
        ],
        { loadGenerator: `${loaderName(report)}, or pgbench` },
      ),
    );
    if (postgres.bare) lines.push(...bareSection(postgres.bare, report));
    if (postgres.twoWorkers) lines.push('### PostgreSQL, 2 workers (WEB_CONCURRENCY=2)', '', ...workloadTable(postgres.twoWorkers), '');
    lines.push(...performanceGoals(postgres));
  }
  if (growth && growth.length === 2) {
    const [small, large] = growth as [NonNullable<BenchReport['growth']>[number], NonNullable<BenchReport['growth']>[number]];
    lines.push(
      '### Growth: lookup at two table sizes',
      '',
      '| rows | one at a time p50 ms | p99 ms | at 20 connections req/s | p50 ms | p99 ms |',
      '|---:|---:|---:|---:|---:|---:|',
    );
    for (const g of growth)
      lines.push(
        `| ${number(g.rows)} | ${g.sequential.p50} | ${g.sequential.p99} | ${number(g.loaded.requestsPerSecond)} | ${g.loaded.p50} | ${g.loaded.p99} |`,
      );
    lines.push(
      '',
      `p50 ratio, ${number(large.rows)} vs ${number(small.rows)} rows, one at a time: **${(large.sequential.p50 / small.sequential.p50).toFixed(2)}x**.`,
      '',
    );
  }
  if (bigCustomer) {
    lines.push(
      `A customer with ${number(bigCustomer.contacts)} contacts, answered whole, one request at a time: p50 **${bigCustomer.sequential.p50} ms**, p99 ${bigCustomer.sequential.p99} ms, max ${bigCustomer.sequential.max} ms (${bigCustomer.sequential.requests} requests).`,
      '',
    );
  }
  if (embedded) lines.push(...targetSection('Embedded PGlite (no DATABASE_URL)', embedded, report.duration));
  if (report.governance) lines.push(...governanceSection(report.governance, report.duration, report));
  if (report.phoneRegion) lines.push(...phoneRegionSection(report.phoneRegion, report.duration, report));
  if (report.delivery) lines.push(...deliverySection(report.delivery, report));
  return `${lines.join('\n').trimEnd()}\n`;
}

/**
 * One workload of a side-by-side comparison (interleaved runs of two services): req/s as the
 * median run with every run in brackets, the ratio of the medians against the goal, the p99s.
 */
function sideBySideRow(workload: string, measured: readonly WorkloadResult[], baseline: readonly WorkloadResult[], goal: number): string {
  const rate = (runs: readonly WorkloadResult[]) =>
    `${number(median(runs.map((r) => r.requestsPerSecond)))} (${runs.map((r) => number(r.requestsPerSecond)).join(', ')})`;
  const ratio = median(measured.map((r) => r.requestsPerSecond)) / median(baseline.map((r) => r.requestsPerSecond));
  const failures = [...measured, ...baseline].reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  const verdict = failures > 0 ? 'missed: failed requests' : ratio >= goal ? 'held' : 'missed';
  return `| ${workload} | ${rate(measured)} | ${rate(baseline)} | **${(100 * ratio).toFixed(1)}%** | ≥ ${100 * goal}% | ${median(measured.map((r) => r.p99))} | ${median(baseline.map((r) => r.p99))} | ${failures} | **${verdict}** |`;
}

/**
 * What held the service's answers up in the bare-handler rounds (the runs' medians): how late its
 * event loop came round and what the garbage collector took of it, how busy its main thread was;
 * and the bare handler's p99 beside it. A missed p99 gives it as its reason, a held one as its margin.
 */
export function p99Reason(service: Pick<WorkloadResult, 'eventLoop' | 'cpu'>, bareP99: number): string {
  const { eventLoop: loop, cpu } = service;
  return [
    loop === undefined
      ? undefined
      : `its event loop came round up to ${loop.lagMaxMs} ms late (p99 ${loop.lagP99Ms} ms); the garbage collector paused it ${loop.gcPausesPerSecond} times a second, ${loop.gcPercent}% of the run, and made ${loop.majorPauses} major collections in the run (${loop.majorMs} ms in all)`,
    cpu === undefined
      ? undefined
      : `its main thread was on a CPU ${(100 * cpu.mainThreadBusy).toFixed(0)}% of the run at ${cpu.mainThreadUs.toFixed(1)} µs a lookup, the machine ${(100 * cpu.idle).toFixed(0)}% idle and ${(100 * cpu.steal).toFixed(0)}% stolen`,
    `the bare handler's p99 in the same rounds: ${bareP99} ms`,
  ]
    .filter((part) => part !== undefined)
    .join('; ');
}

function bareSection(bare: BareReference, report: BenchReport): string[] {
  const runsOf = (setting: BareSetting) => bare.runs.filter((run) => run.setting === setting).flatMap((run) => run.results);
  const p99 = median(runsOf('service').map((r) => r.p99));
  const p99Verdict = p99 < BARE_P99_GOAL_MS ? '**held**. In' : '**missed**; in';
  const measured = p99Reason(medianRun(runsOf('service')), median(runsOf('bare').map((r) => r.p99)));
  return [
    `### Lookups: the service vs a bare handler, ${bare.rounds} rounds`,
    '',
    `The bare handler (\`bench/bareHandler.ts\`): Fastify and \`pg\` running the service's lookup statement, prepared, over a pool of the same size, shaping the same answer with the same response schema, and nothing else. The service as production runs it: LOG_LEVEL=${report.logLevel}, metrics, overload checks, API keys required (every request sends one), rate limiting on (a limit far above what the machine can send, so it counts every request and refuses none), the event log and the recommended block list. Both run at once; every round drives ${report.duration} s of lookups on each, the service first in odd rounds and second in even ones. req/s: the median run, all runs in brackets in round order; p99 in ms. Goals (issue 17): at least ${100 * BARE_GOAL}% of the bare handler's lookups, p99 below ${BARE_P99_GOAL_MS} ms.`,
    '',
    '| workload | service req/s | bare req/s | service / bare | goal | p99 ms service | p99 ms bare | non-2xx + errors | goal held? |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    sideBySideRow('lookup', runsOf('service'), runsOf('bare'), BARE_GOAL),
    '',
    `The service's p99 (median of its runs): **${p99} ms**, goal below ${BARE_P99_GOAL_MS} ms: ${p99Verdict} its runs (medians), ${measured}.`,
    '',
    ...cpuTable([medianCpuRow('the service', runsOf('service')), medianCpuRow('the bare handler', runsOf('bare'))], {
      loadGenerator: loaderName(report),
      server: 'the service, or the bare handler',
      rest: 'other processes: the server not driven',
    }),
  ];
}

/** A CPU table's row for one setting of a side-by-side section: its runs' medians. */
function medianCpuRow(label: string, runs: readonly WorkloadResult[]): CpuRow {
  const middle = medianRun(runs);
  return { label: `${label} (median of its runs)`, requestsPerSecond: middle.requestsPerSecond, cpu: middle.cpu };
}

const loaderName = (report: Pick<BenchReport, 'loader'>) => (report.loader === 'wrk' ? 'wrk' : 'autocannon, in the bench process');

function phoneRegionSection(report: PhoneRegionReport, duration: number, bench: Pick<BenchReport, 'loader'>): string[] {
  const runsOf = (setting: PhoneRegionSetting) =>
    report.runs.filter((run) => run.setting === setting).flatMap((run) => run.results.filter((r) => r.workload === 'lookup'));
  return [
    `### Lookups with DEFAULT_PHONE_REGION=${report.region} vs unset: ${number(report.customers)} customers (${number(report.rows)} rows) each, ${report.rounds} rounds, invariant violations afterwards: ${report.violations}`,
    '',
    `Two services side by side, each on its own copy of one seeded table whose phones are valid ${report.region} mobile numbers stored in E.164 (\`+919…\`); lookups send them as a shopper types them (\`+91 9xxxx xxxxx\`), email and phone. With the region, every phone goes through libphonenumber (parsed, validated, formatted) before the lookup, unless the process read the same text recently (its remembered forms, docs/normal-forms.md); unset, the seed's rules strip the spaces. Both find the same rows. Every round drives ${duration} s of lookups on both, the region one first in odd rounds and second in even ones. req/s: the median run, all runs in brackets in round order; p99 in ms. Goal (the issue's): with the region, at least ${100 * PHONE_REGION_GOAL}% of the lookups without.`,
    '',
    '| workload | region req/s | unset req/s | region / unset | goal | p99 ms region | p99 ms unset | non-2xx + errors | goal held? |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    sideBySideRow('lookup', runsOf('region'), runsOf('plain'), PHONE_REGION_GOAL),
    '',
    ...cpuTable([medianCpuRow(`with DEFAULT_PHONE_REGION=${report.region}`, runsOf('region')), medianCpuRow('unset', runsOf('plain'))], {
      loadGenerator: loaderName(bench),
      rest: 'other processes: the service not driven',
    }),
  ];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  // Two decimals at most: wrk's latencies have them, and a mean of two must not print as 61.285000000000004.
  return Math.round(value * 100) / 100;
}

function governanceSection(governance: GovernanceReport, duration: number, bench: Pick<BenchReport, 'loader'>): string[] {
  const runsOf = (setting: GovernanceSetting, workload: string) =>
    governance.runs.filter((run) => run.governance === setting).flatMap((run) => run.results.filter((r) => r.workload === workload));
  const lines = [
    `### Governance on vs off: ${number(governance.customers)} customers (${number(governance.rows)} rows), ${governance.rounds} rounds, invariant violations afterwards: ${governance.violations}`,
    '',
    `On: \`GOVERNANCE=on\` with the recommended preset — every request screened against ${governance.rules} block rules, the rows' block-list stamps compared by every lookup, the governance lock and the version check in every write, every change logged (${number(governance.events.on)} events written). Off: \`GOVERNANCE=off\`, the seed's plain rules (${number(governance.events.off)} events). Two services side by side on one table; every round drives each workload on both (lookups ${duration} s, twice: before the writes and after them; writes ${governance.writeSeconds} s), the governed one first in odd rounds and second in even ones, so that the drift of this shared machine falls on both alike; the recommended preset is in the table before either starts; both are warmed up over the whole table; the tables' autovacuum is off, and they are vacuumed and checkpointed before every run instead. req/s: the median run per workload and setting, all runs in brackets in round order; on / off: the ratio of those medians; p99: the median of the runs' p99s. Goal (the issue's): on keeps at least 97% of off's lookups and 85% of its writes.`,
    '',
    '| workload | on req/s | off req/s | on / off | goal | p99 ms on | p99 ms off | non-2xx + errors | goal held? |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const [workload, goal] of Object.entries(GOVERNANCE_GOALS)) {
    lines.push(sideBySideRow(workload, runsOf('on', workload), runsOf('off', workload), goal));
  }
  const cpu = cpuTable(
    Object.keys(GOVERNANCE_GOALS).flatMap((workload) => [
      medianCpuRow(`${workload}, on`, runsOf('on', workload)),
      medianCpuRow(`${workload}, off`, runsOf('off', workload)),
    ]),
    { loadGenerator: loaderName(bench), rest: 'other processes: the service not driven' },
  );
  // The table ends with a blank line; the next part starts with one.
  if (cpu.length > 0) lines.push('', ...cpu.slice(0, -1));
  const counts = (workload: string, setting: GovernanceSetting) =>
    governance.statements.find((c) => c.workload === workload && c.governance === setting);
  const requests = governance.statements[0]?.requests ?? 0;
  lines.push(
    '',
    `Round trips per request, counted: ${requests} requests of each kind, one at a time, through the use cases as the service wires them (src/services.ts) on a \`Database\` that records every statement (a transaction would add BEGIN and COMMIT):`,
    '',
    '| request | statements, on | statements, off | outcome (on) |',
    '|---|---:|---:|---|',
  );
  for (const { workload } of governance.statements.filter((c) => c.governance === 'on')) {
    const on = counts(workload, 'on');
    const off = counts(workload, 'off');
    lines.push(`| ${workload} | ${on?.statements.join(' or ')} | ${off?.statements.join(' or ') ?? '–'} | ${on?.outcomes.join('; ')} |`);
  }
  const governed = governance.statements.filter((c) => c.governance === 'on');
  const loads = governed.reduce((sum, c) => sum + c.blocklistLoads, 0);
  const requestsOn = governed.reduce((sum, c) => sum + c.requests, 0);
  lines.push(
    '',
    `With governance on, a lookup's one statement reads the customer's rows with their block-list stamps, compared in memory with the cached list's version (a blocked value is screened out in memory before it; a request whose value the list drops also reads the version, in the same statement); a write's second is \`identity_apply_plan\`, which takes the governance lock, checks the version and logs the change. Besides: ${loads} load(s) of the block list during those ${requestsOn} requests — the list is cached, and /identify reloads it only when a row's stamp or a write's version check says it changed (the read API reloads it at most once a second), not once per request.`,
    '',
  );
  return lines;
}

/** Our own target, not the issue's (it set none): one endpoint keeps 90% of the writes of none. */
export const DELIVERY_GOAL = 0.9;

function deliverySection(report: DeliveryReport, bench: Pick<BenchReport, 'loader'>): string[] {
  const { writeSeconds } = report;
  const runsOf = (setting: 'webhook' | 'none') =>
    report.runs.filter((run) => run.setting === setting).flatMap((run) => run.results.filter((r) => r.workload === 'new'));
  const drains = report.runs.filter((run) => run.setting === 'webhook').map((run) => run.drain);
  return [
    `### Writes with one webhook endpoint vs none: ${report.customers.toLocaleString('en')} customers each, ${report.rounds} rounds, invariant violations afterwards: ${report.violations}`,
    '',
    `Two services side by side, each on its own copy of one seeded table: one with \`WEBHOOK_URLS\` set to a receiver on this machine (a process of its own answering 204 at once), one with no endpoint (its deliverer counts endpoints every 5 s and does nothing else). Every round drives ${writeSeconds} s of \`new\` (a new customer per request: one \`customer.created\` event each) on both, the webhook one first in odd rounds and second in even ones; after each webhook run the bench waits until the receiver has every event before the next run, so delivery never overlaps the other service's run. req/s: the median run, all runs in brackets in round order; p99 in ms. Goal (ours): with the endpoint, at least ${100 * DELIVERY_GOAL}% of the writes without.`,
    '',
    '| workload | webhook req/s | none req/s | webhook / none | goal | p99 ms webhook | p99 ms none | non-2xx + errors | goal held? |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    sideBySideRow('new', runsOf('webhook'), runsOf('none'), DELIVERY_GOAL),
    '',
    `Delivery, per webhook round (events written in the run; when the receiver had them all, counted from the end of the run; delivered per second over the run and the drain): ${drains
      .map(
        (d) =>
          `${d.events.toLocaleString('en')} events, all received ${d.caughtUpSeconds.toFixed(1)} s after the run, ${Math.round(d.eventsPerSecond).toLocaleString('en')}/s`,
      )
      .join('; ')}. Every event written was received: ${report.allDelivered ? 'yes' : '**no**'}.`,
    '',
    ...cpuTable([medianCpuRow('with the webhook endpoint', runsOf('webhook')), medianCpuRow('with none', runsOf('none'))], {
      loadGenerator: loaderName(bench),
      rest: 'other processes: the webhook receiver and the service not driven',
    }),
  ];
}
