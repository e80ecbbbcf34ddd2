/**
 * The outage part of bench/overload.ts: the service reaches PostgreSQL through a TCP proxy that
 * the benchmark can cut, so that the database stops answering mid-run (connections dropped, new
 * ones accepted and never answered, as a hung or unreachable server does) and comes back. While
 * load runs, the service's own /metrics is read every second: what it answered, how many
 * requests wait, whether /health still answers, its RSS.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { metricsText } from './scrape.js';
import { residentMb } from './resident.js';

export class DatabaseProxy {
  private readonly server: Server;
  private readonly piped = new Set<Socket>();
  private readonly hanging = new Set<Socket>();
  private down = false;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    return address.port;
  }

  /** The database goes away: open connections drop, new ones are accepted and never answered. */
  cut(): void {
    this.down = true;
    for (const socket of this.piped) socket.destroy();
    this.piped.clear();
  }

  /** The database is back; connections left hanging are closed, so that clients try again. */
  restore(): void {
    this.down = false;
    for (const socket of this.hanging) socket.destroy();
    this.hanging.clear();
  }

  async close(): Promise<void> {
    this.cut();
    this.restore();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    client.on('error', () => {});
    if (this.down) {
      this.hanging.add(client);
      client.once('close', () => this.hanging.delete(client));
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    for (const socket of [client, upstream]) {
      this.piped.add(socket);
      socket.once('close', () => {
        this.piped.delete(socket);
        (socket === client ? upstream : client).destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

export interface OutageSecond {
  second: number;
  phase: 'healthy' | 'database down' | 'database back';
  ok: number;
  overloaded: number;
  databaseUnavailable: number;
  other: number;
  waiting: number;
  /** How long GET /health took at the end of this second; null if it did not answer within 2 s. */
  healthMs: number | null;
  rssMb: number;
}

interface Snapshot {
  byStatus: Map<string, number>;
  overloaded: number;
  waiting: number;
}

async function snapshot(baseUrl: string): Promise<Snapshot> {
  const text = await metricsText(baseUrl);
  const byStatus = new Map<string, number>();
  let overloaded = 0;
  let waiting = 0;
  for (const line of text.split('\n')) {
    // The API's answers only: not this sampler's own /metrics and /health.
    const status =
      /^identity_http_request_duration_seconds_count\{(?=.*route="(?:\/identify|\/customers[^"]*)").*status_code="(\d+)".*\} (\d+)/.exec(
        line,
      );
    if (status) byStatus.set(status[1] as string, (byStatus.get(status[1] as string) ?? 0) + Number(status[2]));
    const shed = /^identity_overload_shed_total\{reason="(line_full|stalled|waited_too_long|event_loop_delay)"\} (\d+)/.exec(line);
    if (shed) overloaded += Number(shed[2]);
    const line_ = /^identity_overload_in_flight\{state="waiting"\} (\d+)/.exec(line);
    if (line_) waiting = Number(line_[1]);
  }
  return { byStatus, overloaded, waiting };
}

async function healthMs(baseUrl: string): Promise<number | null> {
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return Math.round(performance.now() - started);
  } catch {
    return null;
  }
}

/**
 * Samples the service every second for `seconds` while load runs elsewhere; `at(second)` is
 * called at the start of each second to cut or restore the database.
 */
export async function sampleTimeline(
  baseUrl: string,
  pid: number,
  seconds: number,
  phaseOf: (second: number) => OutageSecond['phase'],
  at: (second: number) => void,
): Promise<OutageSecond[]> {
  const timeline: OutageSecond[] = [];
  let previous = await snapshot(baseUrl);
  const started = performance.now();
  for (let second = 1; second <= seconds; second++) {
    at(second);
    const due = started + second * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    const current = await snapshot(baseUrl);
    const delta = (status: string) => (current.byStatus.get(status) ?? 0) - (previous.byStatus.get(status) ?? 0);
    const all = [...current.byStatus.keys()].reduce((sum, status) => sum + delta(status), 0);
    const ok = [...current.byStatus.keys()].filter((s) => s.startsWith('2')).reduce((sum, status) => sum + delta(status), 0);
    const overloaded = current.overloaded - previous.overloaded;
    const unavailable = delta('503') - overloaded;
    timeline.push({
      second,
      phase: phaseOf(second),
      ok,
      overloaded,
      databaseUnavailable: unavailable,
      other: all - ok - overloaded - unavailable,
      waiting: current.waiting,
      healthMs: await healthMs(baseUrl),
      rssMb: await residentMb(pid),
    });
    previous = current;
  }
  return timeline;
}

export interface OutageReport {
  connections: number;
  healthySeconds: number;
  downSeconds: number;
  backSeconds: number;
  loader: { errors: number; maxMs: number; p99Ms: number };
  timeline: OutageSecond[];
  /** Seconds from the database's return to the first second at 80% of the healthy 2xx rate. */
  recoverySeconds: number | null;
}

const number = (value: number) => value.toLocaleString('en');

export function outageMarkdown(report: OutageReport): string {
  const lines = [
    `lookup at ${number(report.connections)} connections; the database answers for ${report.healthySeconds} s, then stops answering for ${report.downSeconds} s (connections dropped, new ones accepted and never answered), then is back for ${report.backSeconds} s. Per second, as the service counted its answers:`,
    '',
    '| second | database | 2xx | 503 OVERLOADED | 503 DATABASE_UNAVAILABLE | other | waiting in line | GET /health ms | RSS MB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...report.timeline.map(
      (s) =>
        `| ${s.second} | ${s.phase} | ${number(s.ok)} | ${number(s.overloaded)} | ${number(s.databaseUnavailable)} | ${number(s.other)} | ${number(s.waiting)} | ${s.healthMs ?? 'no answer'} | ${s.rssMb} |`,
    ),
    '',
    `Back to 80% of the healthy throughput ${report.recoverySeconds === null ? 'not within the run' : `${report.recoverySeconds} s after the database returned`}; the load generator saw ${number(report.loader.errors)} connection errors or timeouts, p99 ${number(report.loader.p99Ms)} ms, max ${number(report.loader.maxMs)} ms.`,
  ];
  return `${lines.join('\n')}\n`;
}

export function recoverySeconds(timeline: OutageSecond[]): number | null {
  const healthy = timeline.filter((s) => s.phase === 'healthy').slice(1); // the first second ramps up
  const rate = healthy.reduce((sum, s) => sum + s.ok, 0) / Math.max(1, healthy.length);
  const back = timeline.filter((s) => s.phase === 'database back');
  const index = back.findIndex((s) => s.ok >= 0.8 * rate);
  return index === -1 ? null : index + 1;
}
