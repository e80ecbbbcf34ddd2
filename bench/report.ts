/** The Markdown table of a benchmark run, as the README shows it. */
import type { LatencySample, WorkloadResult } from './load.js';

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
}

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
  return `${lines.join('\n').trimEnd()}\n`;
}
