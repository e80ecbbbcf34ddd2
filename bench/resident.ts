/** MB a process holds in memory now (its resident set, from Linux's /proc); 0 once it has gone. */
import { readFile } from 'node:fs/promises';

export async function residentMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}
