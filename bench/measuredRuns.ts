/**
 * Runs of a workload against a server process, with what the bench measures around them: where
 * the machine's CPU went (bench/cpuShare.ts) and what held up the service's event loop
 * (bench/eventLoop.ts); and rounds that interleave two settings. Used by `npm run bench`
 * (bench/run.ts) and the scripts beside it (bench/youngGeneration.ts).
 */
import type { ServiceProcess } from '../test/support/serviceProcess.js';
import { cpuBetween, cpuSnapshot } from './cpuShare.js';
import { eventLoopFigures, readEventLoop } from './eventLoop.js';
import { drive, type WorkloadResult } from './load.js';

/** `drive`'s arguments after the server's URL. */
export type DriveArguments = Parameters<typeof drive> extends [string, ...infer Rest] ? Rest : never;

/** `drive` of `server`, with where the machine's CPU went during it (bench/cpuShare.ts). */
export async function driveWithCpu(server: ServiceProcess, ...run: DriveArguments): Promise<WorkloadResult> {
  const pid = server.child.pid;
  const before = cpuSnapshot(pid);
  const result = await drive(server.baseUrl, ...run);
  const cpu = cpuBetween(before, cpuSnapshot(pid), result.requests ?? result.requestsPerSecond * run[2].duration);
  return cpu === undefined ? result : { ...result, cpu };
}

/**
 * `driveWithCpu` of the service, with what held up its event loop during the run, read from its
 * /metrics just before and just after (bench/eventLoop.ts; nothing else scrapes it meanwhile).
 */
export async function driveWatchingLoop(server: ServiceProcess, ...run: DriveArguments): Promise<WorkloadResult> {
  const before = await readEventLoop(server.baseUrl);
  const result = await driveWithCpu(server, ...run);
  return { ...result, eventLoop: eventLoopFigures(before, await readEventLoop(server.baseUrl), run[2].duration) };
}

/** `rounds` rounds of one run per setting: the first one first in odd rounds, second in even ones (so drift falls on both). */
export async function interleavedRounds<Setting extends string>(
  rounds: number,
  [first, second]: [Setting, Setting],
  run: (setting: Setting, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 1; round <= rounds; round++) {
    for (const setting of round % 2 === 1 ? [first, second] : [second, first]) await run(setting, round);
  }
}
