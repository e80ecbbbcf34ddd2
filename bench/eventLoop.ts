/**
 * What held a service's answers up on its event loop during a run, read from its /metrics before
 * and after (prom-client's default metrics, src/http/metrics.ts): the event loop's delay over the
 * run (`nodejs_eventloop_lag_p99_seconds` and `_max_`: prom-client resets their histogram at every
 * scrape, so the scrape after the run reads the run alone) and the garbage collector's pauses
 * (`nodejs_gc_duration_seconds`, by kind: minor, major, incremental, weakcb).
 */
import { metricsText } from './scrape.js';

/**
 * prom-client samples the event loop every 10 ms (its default precision), and a sample is the time
 * between two of them: an idle loop reads about 10 ms. The figures below are the lateness beyond it.
 */
const SAMPLED_EVERY_MS = 10;

export interface GcTotals {
  /** Pauses so far, and their seconds, by kind. */
  [kind: string]: { pauses: number; seconds: number };
}

export interface EventLoopReading {
  lagP99Seconds: number;
  lagMaxSeconds: number;
  gc: GcTotals;
}

export interface EventLoopFigures {
  /** How late the event loop came round over the run (beyond its sampling interval): 99th percentile and worst, in ms. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** The collector's pauses per second of the run, and the percentage of the run they took. */
  gcPausesPerSecond: number;
  gcPercent: number;
  /** Major (mark-compact) collections in the run, and their ms in all. */
  majorPauses: number;
  majorMs: number;
}

/** The figures of a /metrics text; a series the text lacks reads 0. */
export function parseEventLoopMetrics(text: string): EventLoopReading {
  const value = (series: string) => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const gc: GcTotals = {};
  for (const [, kind, pauses] of text.matchAll(/^nodejs_gc_duration_seconds_count\{kind="(\w+)"\} (\S+)$/gm)) {
    gc[kind as string] = { pauses: Number(pauses), seconds: value(`nodejs_gc_duration_seconds_sum\\{kind="${kind}"\\}`) };
  }
  return { lagP99Seconds: value('nodejs_eventloop_lag_p99_seconds'), lagMaxSeconds: value('nodejs_eventloop_lag_max_seconds'), gc };
}

/** A service's reading now (scraping it also starts the event loop's delay afresh). */
export async function readEventLoop(baseUrl: string): Promise<EventLoopReading> {
  return parseEventLoopMetrics(await metricsText(baseUrl));
}

/** A run of `seconds`, from the readings just before and just after it. */
export function eventLoopFigures(before: EventLoopReading, after: EventLoopReading, seconds: number): EventLoopFigures {
  const during = (kind: string) => ({
    pauses: (after.gc[kind]?.pauses ?? 0) - (before.gc[kind]?.pauses ?? 0),
    seconds: (after.gc[kind]?.seconds ?? 0) - (before.gc[kind]?.seconds ?? 0),
  });
  const kinds = Object.keys(after.gc).map(during);
  const major = during('major');
  return {
    lagP99Ms: late(after.lagP99Seconds),
    lagMaxMs: late(after.lagMaxSeconds),
    gcPausesPerSecond: round(kinds.reduce((sum, kind) => sum + kind.pauses, 0) / seconds),
    gcPercent: round((100 * kinds.reduce((sum, kind) => sum + kind.seconds, 0)) / seconds),
    majorPauses: major.pauses,
    majorMs: round(major.seconds * 1000),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
const late = (seconds: number) => round(Math.max(0, seconds * 1000 - SAMPLED_EVERY_MS));
