/**
 * Where a run's CPU went on this whole machine, read from Linux's /proc just before and just after
 * the run: the service (and, apart, its main thread: one thread runs a Node.js process's event
 * loop, so its share of the run caps what one worker answers), PostgreSQL, the load generator, the
 * rest, and the time the machine sat idle or the hypervisor took (stolen). Two readings and no
 * sampling, so nothing is missed: a process that exited during the run (a pgbench connection's
 * backend, an autovacuum worker, wrk itself) is counted through its parent's count of its reaped
 * children (the postmaster's, the bench's). The bench process counts as the load generator: it runs
 * autocannon when wrk is not installed, and waits otherwise. The figures explain a run's rate: a main thread busy
 * all the run is the limit of one worker; idle time means requests waited rather than computed.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** /proc counts CPU time in USER_HZ ticks, which Linux fixes at 100 a second for every architecture. */
const TICK_US = 10_000;

/** One line of /proc/<pid>/stat, in ticks: the process's own CPU time and that of its reaped children. */
export interface ProcessTicks {
  pid: number;
  name: string;
  parent: number;
  own: number;
  children: number;
}

/** The machine's line of /proc/stat, in ticks summed over its CPUs. */
export interface MachineTicks {
  cpus: number;
  total: number;
  /** Idle and waiting for I/O. */
  idle: number;
  steal: number;
}

/** Who a tick belongs to (the rest is the machine's busy time less these). */
export interface PartTicks {
  service: number;
  database: number;
  loadGenerator: number;
}

export interface CpuSnapshot {
  machine: MachineTicks;
  parts: PartTicks;
  /** Each service process's main thread (the thread whose id is the process's), by pid. */
  mainThreads: Map<number, number>;
}

/** A run's CPU, per request answered. */
export interface CpuShare {
  /** µs of CPU per request. */
  serviceUs: number;
  /** µs per request on the service's busiest main thread (part of serviceUs). */
  mainThreadUs: number;
  databaseUs: number;
  loadGeneratorUs: number;
  /** The machine's other busy time: the kernel's network work, other processes. */
  restUs: number;
  /** Shares of the machine's CPU time (all its cores) over the run. */
  idle: number;
  steal: number;
  /** Share of the run's wall time the busiest main thread was on a CPU: 1 is a core's worth. */
  mainThreadBusy: number;
}

/** Parses /proc/<pid>/stat (its name may hold spaces and parentheses: it ends at the last ')'). */
export function parseProcessStat(pid: number, text: string): ProcessTicks {
  const close = text.lastIndexOf(')');
  const name = text.slice(text.indexOf('(') + 1, close);
  // After the name: state, ppid (index 1), …, utime (11), stime (12), cutime (13), cstime (14).
  const fields = text.slice(close + 2).split(' ');
  const at = (index: number) => Number(fields[index]);
  return { pid, name, parent: at(1), own: at(11) + at(12), children: at(13) + at(14) };
}

/** Parses /proc/stat's `cpu` line (user nice system idle iowait irq softirq steal …) and counts the `cpuN` lines. */
export function parseMachineStat(text: string): MachineTicks {
  const lines = text.split('\n');
  const ticks = (lines[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const [, , , idle = 0, iowait = 0, , , steal = 0] = ticks;
  return {
    cpus: lines.filter((line) => /^cpu\d+ /.test(line)).length,
    total: ticks.reduce((sum, value) => sum + value, 0),
    idle: idle + iowait,
    steal,
  };
}

/**
 * Whose ticks are whose: the processes under `servicePid` (its cluster workers included); every
 * `postgres` process with the children it reaped (exited backends and workers); the load generator:
 * wrk or pgbench, running or reaped by the bench (`benchPid`), and the bench itself (autocannon runs in it).
 */
export function partTicks(
  processes: readonly ProcessTicks[],
  { servicePid, benchPid }: { servicePid?: number; benchPid: number },
): PartTicks {
  const service = serviceTree(processes, servicePid);
  const parts: PartTicks = { service: 0, database: 0, loadGenerator: 0 };
  for (const each of processes) {
    if (service.has(each.pid)) parts.service += each.own;
    else if (each.name === 'postgres') parts.database += each.own + each.children;
    else if (each.name === 'wrk' || each.name === 'pgbench') parts.loadGenerator += each.own;
    // The bench process runs autocannon itself, and reaps wrk and pgbench; during a run it does nothing else.
    if (each.pid === benchPid) parts.loadGenerator += each.own + each.children;
  }
  return parts;
}

function serviceTree(processes: readonly ProcessTicks[], root: number | undefined): Set<number> {
  const tree = new Set<number>(root === undefined ? [] : [root]);
  for (let grew = tree.size > 0; grew;) {
    grew = false;
    for (const each of processes) {
      if (tree.has(each.parent) && !tree.has(each.pid)) {
        tree.add(each.pid);
        grew = true;
      }
    }
  }
  return tree;
}

/** The run's figures from the readings before and after it, over the `requests` it answered. */
export function cpuShare(before: CpuSnapshot, after: CpuSnapshot, requests: number): CpuShare {
  const perRequest = (ticks: number) => round((ticks * TICK_US) / Math.max(requests, 1));
  const delta = (part: keyof PartTicks) => after.parts[part] - before.parts[part];
  const total = after.machine.total - before.machine.total;
  const idle = after.machine.idle - before.machine.idle;
  const steal = after.machine.steal - before.machine.steal;
  const mainThread = Math.max(0, ...[...after.mainThreads].map(([pid, ticks]) => ticks - (before.mainThreads.get(pid) ?? 0)));
  const known = delta('service') + delta('database') + delta('loadGenerator');
  const wall = total / Math.max(after.machine.cpus, 1);
  return {
    serviceUs: perRequest(delta('service')),
    mainThreadUs: perRequest(mainThread),
    databaseUs: perRequest(delta('database')),
    loadGeneratorUs: perRequest(delta('loadGenerator')),
    restUs: perRequest(Math.max(0, total - idle - steal - known)),
    idle: share(idle, total),
    steal: share(steal, total),
    mainThreadBusy: share(mainThread, wall),
  };
}

const round = (value: number) => Math.round(value * 10) / 10;
const share = (part: number, whole: number) => (whole > 0 ? Math.round((1000 * part) / whole) / 1000 : 0);

/** Reads /proc now (undefined where there is none: the figures are Linux's). */
export function cpuSnapshot(servicePid?: number): CpuSnapshot | undefined {
  let machine: MachineTicks;
  try {
    machine = parseMachineStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
  const processes: ProcessTicks[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(`/proc/${entry}/stat`);
    if (stat !== undefined) processes.push(parseProcessStat(Number(entry), stat));
  }
  const parts = partTicks(processes, { ...(servicePid === undefined ? {} : { servicePid }), benchPid: process.pid });
  const mainThreads = new Map<number, number>();
  for (const pid of serviceTree(processes, servicePid)) {
    const stat = readStat(`/proc/${pid}/task/${pid}/stat`);
    if (stat !== undefined) mainThreads.set(pid, parseProcessStat(pid, stat).own);
  }
  return { machine, parts, mainThreads };
}

/** A process may exit between listing /proc and reading its file. */
function readStat(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The figures of a run between two readings, when both were taken. */
export function cpuBetween(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined, requests: number): CpuShare | undefined {
  return before === undefined || after === undefined ? undefined : cpuShare(before, after, requests);
}
