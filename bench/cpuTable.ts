/** The report's lines on where the machine's CPU went in a run (bench/cpuShare.ts), and what they say about a lookup goal. */
import type { CpuShare } from './cpuShare.js';

const number = (n: number) => Math.round(n).toLocaleString('en-US');
const percent = (share: number) => `${(100 * share).toFixed(0)}%`;
const micro = (us: number) => us.toFixed(1);

/** µs of the whole machine's CPU per request: every part, the rest included. */
export const machineUs = (cpu: CpuShare) => cpu.serviceUs + cpu.databaseUs + cpu.loadGeneratorUs + cpu.restUs;

/** A main thread on a CPU this share of a run or more was the run's limit. */
export const MAIN_THREAD_BOUND = 0.9;
/** A machine idle less than this share of a run had no CPU left. */
const MACHINE_FULL = 0.05;

export interface CpuRow {
  label: string;
  requestsPerSecond: number;
  cpu: CpuShare | undefined;
}

/** One row per run that has its figures; none when no run has them (not Linux, or an older report). */
export function cpuTable(
  rows: readonly CpuRow[],
  { loadGenerator, server = 'the service', rest = 'other processes' }: { loadGenerator: string; server?: string; rest?: string },
): string[] {
  const measured = rows.filter((row): row is CpuRow & { cpu: CpuShare } => row.cpu !== undefined);
  if (measured.length === 0) return [];
  return [
    `Where the machine's CPU went in those runs, from Linux's /proc read before and after each run (processes that exited during it counted through their parents): µs of CPU per request answered, by process — the server driven (${server}; and, of it, its main thread, the one that runs Node.js's event loop), PostgreSQL (its connections and background work), the load generator (${loadGenerator}), and the rest (the kernel's network work, ${rest}) — and the shares of the machine's two cores that sat idle or that the hypervisor took (stolen); "main thread busy": the share of the run the server's main thread was on a CPU (100% is a whole core, the most one process's event loop can have).`,
    '',
    '| run | requests/s | server µs | of it main thread µs | PostgreSQL µs | load generator µs | rest µs | machine µs | idle | stolen | main thread busy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...measured.map(
      ({ label, requestsPerSecond, cpu }) =>
        `| ${label} | ${number(requestsPerSecond)} | ${micro(cpu.serviceUs)} | ${micro(cpu.mainThreadUs)} | ${micro(cpu.databaseUs)} | ${micro(cpu.loadGeneratorUs)} | ${micro(cpu.restUs)} | ${micro(machineUs(cpu))} | ${percent(cpu.idle)} | ${percent(cpu.steal)} | ${cpu.serviceUs > 0 ? percent(cpu.mainThreadBusy) : '–'} |`,
    ),
    '',
  ];
}

/**
 * What held the service's lookups below `goalRate`, from its run's CPU and pgbench's: whether its
 * main thread was the limit (and how little of it a lookup could take to reach the goal), whether
 * the machine was full, or neither (the lookups waited).
 */
export function lookupLimit(service: CpuShare, pgbench: CpuShare | undefined, goalRate: number): string {
  const needed = 1e6 / goalRate;
  const perProcess = 1e6 / Math.max(service.mainThreadUs, 0.1);
  const limit =
    service.mainThreadBusy >= MAIN_THREAD_BOUND
      ? `bound by the service's main thread: it was on a CPU ${percent(service.mainThreadBusy)} of the run at ${micro(service.mainThreadUs)} µs a lookup (one process: at most ${number(perProcess)}/s); the goal needs at most ${micro(needed)} µs`
      : service.idle < MACHINE_FULL
        ? `bound by the machine's CPU (idle ${percent(service.idle)}), not the service's main thread (busy ${percent(service.mainThreadBusy)})`
        : `bound neither by the service's main thread (busy ${percent(service.mainThreadBusy)}) nor by the machine's CPU (idle ${percent(service.idle)}): lookups waited`;
  const machine = `a lookup took ${micro(machineUs(service))} µs of the machine's CPU (service ${micro(service.serviceUs)}, PostgreSQL ${micro(service.databaseUs)}, load generator ${micro(service.loadGeneratorUs)}, rest ${micro(service.restUs)})`;
  const ceiling =
    pgbench === undefined
      ? ''
      : `, pgbench's ${micro(machineUs(pgbench))} µs (PostgreSQL ${micro(pgbench.databaseUs)}, pgbench ${micro(pgbench.loadGeneratorUs)}, rest ${micro(pgbench.restUs)}; idle ${percent(pgbench.idle)})`;
  return `${limit}; ${machine}${ceiling}`;
}
