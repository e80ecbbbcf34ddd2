/** The Markdown table of a benchmark run, as the README shows it. */
import type { LatencySample, WorkloadResult } from './load.js';
import type { StatementCount } from './roundTrips.js';

export interface TargetReport {
  target: 'postgres' | 'embedded';
  customers: number;
  rows: number;
  results: WorkloadResult[];
  violations: number;
}

export interface BenchReport {
  date: string;
  machine: { cpus: number; node: string };
  connections: number;
  duration: number;
  logLevel: string;
  postgres?: TargetReport & {
    pgbench: { lookup: number; lookupRuns: number[]; new: number; extend: number };
    twoWorkers?: WorkloadResult[];
  };
  embedded?: TargetReport;
  growth?: { rows: number; sequential: LatencySample; loaded: WorkloadResult }[];
  bigCustomer?: { contacts: number; sequential: LatencySample };
  governance?: GovernanceReport;
}

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

/** The goal: governance on keeps at least this share of the requests per second it has off. */
export const GOVERNANCE_GOALS: Record<string, number> = { lookup: 0.97, new: 0.85, extend: 0.85, merge: 0.85 };

const number = (value: number) => value.toLocaleString('en');

function workloadTable(results: readonly WorkloadResult[]): string[] {
  return [
    '| workload | requests/s | p50 ms | p90 ms | p99 ms | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) => `| ${r.workload} | ${number(r.requestsPerSecond)} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.non2xx} | ${r.errors} |`,
    ),
  ];
}

function targetHeading(title: string, target: TargetReport): string {
  return `### ${title}: ${number(target.customers)} customers (${number(target.rows)} rows), invariant violations afterwards: ${target.violations}`;
}

export function markdownReport(report: BenchReport): string {
  const lines = [
    `${report.date.slice(0, 10)}, ${report.machine.cpus} CPUs, Node ${report.machine.node}; load generator, service and database on this one machine; ${report.connections} connections, ${report.duration} s per workload, after a 3 s warm-up; service at LOG_LEVEL=${report.logLevel}.`,
    '',
  ];
  const { postgres, embedded, growth, bigCustomer } = report;
  if (postgres) {
    const rate = (workload: string) => postgres.results.find((r) => r.workload === workload)?.requestsPerSecond ?? 0;
    const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
    lines.push(targetHeading('PostgreSQL, 1 worker', postgres), '', ...workloadTable(postgres.results), '');
    lines.push(
      `The database's own ceilings (pgbench, the service's statements prepared, ${report.connections} clients, no HTTP and no Node.js):`,
      '',
      '| statements | pgbench tps | service req/s | service / ceiling | service / service lookup |',
      '|---|---:|---:|---:|---:|',
      `| lookup: one read | ${number(postgres.pgbench.lookup)} (higher of ${postgres.pgbench.lookupRuns.map(number).join(', ')}) | ${number(rate('lookup'))} | **${percent(rate('lookup'), postgres.pgbench.lookup)}** | – |`,
      `| new: read + identity_apply_plan | ${number(postgres.pgbench.new)} | ${number(rate('new'))} | ${percent(rate('new'), postgres.pgbench.new)} | **${percent(rate('new'), rate('lookup'))}** |`,
      `| extend: read + identity_apply_plan | ${number(postgres.pgbench.extend)} | ${number(rate('extend'))} | ${percent(rate('extend'), postgres.pgbench.extend)} | **${percent(rate('extend'), rate('lookup'))}** |`,
      '',
    );
    if (postgres.twoWorkers) lines.push('### PostgreSQL, 2 workers (WEB_CONCURRENCY=2)', '', ...workloadTable(postgres.twoWorkers), '');
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
  if (embedded) lines.push(targetHeading('Embedded PGlite (no DATABASE_URL)', embedded), '', ...workloadTable(embedded.results), '');
  if (report.governance) lines.push(...governanceSection(report.governance, report.duration));
  return `${lines.join('\n').trimEnd()}\n`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function governanceSection(governance: GovernanceReport, duration: number): string[] {
  const runsOf = (setting: GovernanceSetting, workload: string) =>
    governance.runs.filter((run) => run.governance === setting).flatMap((run) => run.results.filter((r) => r.workload === workload));
  const lines = [
    `### Governance on vs off: ${number(governance.customers)} customers (${number(governance.rows)} rows), ${governance.rounds} rounds, invariant violations afterwards: ${governance.violations}`,
    '',
    `On: \`GOVERNANCE=on\`, \`BLOCKLIST_PRESET=recommended\` — every request screened against ${governance.rules} block rules, the block list's version read by every lookup, the governance lock and the version check in every write, every change logged (${number(governance.events.on)} events written). Off: \`GOVERNANCE=off\`, the seed's plain rules (${number(governance.events.off)} events). Two services side by side on one table; every round drives each workload on both (lookups ${duration} s, writes ${governance.writeSeconds} s), the governed one first in odd rounds and second in even ones, so that the drift of this shared machine falls on both alike. req/s: the median run per workload and setting, all runs in brackets in round order; on / off: the ratio of those medians; p99: the median of the runs' p99s. Goal (the issue's): on keeps at least 97% of off's lookups and 85% of its writes.`,
    '',
    '| workload | on req/s | off req/s | on / off | goal | p99 ms on | p99 ms off | non-2xx + errors | goal held? |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const [workload, goal] of Object.entries(GOVERNANCE_GOALS)) {
    const on = runsOf('on', workload);
    const off = runsOf('off', workload);
    const rate = (runs: WorkloadResult[]) =>
      `${number(median(runs.map((r) => r.requestsPerSecond)))} (${runs.map((r) => number(r.requestsPerSecond)).join(', ')})`;
    const ratio = median(on.map((r) => r.requestsPerSecond)) / median(off.map((r) => r.requestsPerSecond));
    const failures = [...on, ...off].reduce((sum, r) => sum + r.non2xx + r.errors, 0);
    const verdict = failures > 0 ? 'missed: failed requests' : ratio >= goal ? 'held' : 'missed';
    lines.push(
      `| ${workload} | ${rate(on)} | ${rate(off)} | **${(100 * ratio).toFixed(1)}%** | ≥ ${100 * goal}% | ${median(on.map((r) => r.p99))} | ${median(off.map((r) => r.p99))} | ${failures} | **${verdict}** |`,
    );
  }
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
    `With governance on, a lookup's one statement is the read that also returns the block list's version (a blocked value is screened out in memory before it); a write's second is \`identity_apply_plan\`, which takes the governance lock, checks the version and logs the change. Besides: ${loads} load(s) of the block list during those ${requestsOn} requests — the list is cached and reloaded at most once a second per process, by whichever request comes first, not once per request.`,
    '',
  );
  return lines;
}
