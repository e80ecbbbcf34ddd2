/**
 * Progress of a long maintenance run (reading a million rows, writing their fixes): a bar on an
 * interactive terminal, a plain line every few seconds when stderr is a file or a pipe (a log
 * should not fill with redrawn bars), nothing in tests.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** A phase of `total` steps begins; the previous phase, if any, must be finished. */
  start(phase: string, total: number): void;
  advance(steps: number): void;
  finish(): void;
}

export const silentProgress: Progress = { start() {}, advance() {}, finish() {} };

/** `rate`: also show steps per second and the time left (the import's long phases). */
export function progressOn(stream: NodeJS.WriteStream, { rate = false }: { rate?: boolean } = {}): Progress {
  return stream.isTTY ? progressBar(stream, rate) : progressLines(stream, LINE_INTERVAL_MS, rate);
}

function progressBar(stream: NodeJS.WriteStream, rate: boolean): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `{phase} [{bar}] {percentage}% | {value}/{total} | ${rate ? '{speed}/s | ETA {eta_formatted} | ' : ''}{duration_formatted}`,
      etaBuffer: 50,
      hideCursor: true,
      formatValue: formatCount,
    },
    cliProgress.Presets.shades_classic,
  );
  let startedAt = 0;
  let done = 0;
  const speed = () => perSecond(done, Date.now() - startedAt);
  return {
    start: (phase, total) => {
      [startedAt, done] = [Date.now(), 0];
      bar.start(total, 0, { phase: phase.padEnd(PHASE_WIDTH), speed: '0' });
    },
    advance: (steps) => {
      done += steps;
      bar.increment(steps, { speed: speed() });
    },
    finish: () => bar.stop(),
  };
}

const PHASE_WIDTH = 14;
const LINE_INTERVAL_MS = 2_000;

export function progressLines(stream: Pick<NodeJS.WritableStream, 'write'>, intervalMs = LINE_INTERVAL_MS, rate = false): Progress {
  let phase = '';
  let total = 0;
  let done = 0;
  let startedAt = 0;
  let printedAt = 0;
  const print = (suffix = '') => {
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    const elapsed = Date.now() - startedAt;
    const left = done === 0 ? '' : ` ETA ${formatSeconds(((total - done) * elapsed) / done)}`;
    const speed = rate && suffix === '' ? `, ${perSecond(done, elapsed)}/s,${left}` : '';
    stream.write(`${phase}: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${percent}%)${speed}${suffix}\n`);
    printedAt = Date.now();
  };
  return {
    start(name, steps) {
      [phase, total, done] = [name, steps, 0];
      startedAt = printedAt = Date.now();
    },
    advance(steps) {
      done += steps;
      // The last step is printed by finish(), with the time taken.
      if (done < total && Date.now() - printedAt >= intervalMs) print();
    },
    finish() {
      print(` in ${formatSeconds(Date.now() - startedAt)}`);
    },
  };
}

function perSecond(steps: number, milliseconds: number): string {
  return milliseconds <= 0 ? '0' : Math.round((steps * 1000) / milliseconds).toLocaleString('en-US');
}

export function formatSeconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

function formatCount(value: number, _options: unknown, type: string): string {
  return type === 'value' || type === 'total' ? value.toLocaleString('en-US') : String(value);
}
