/**
 * `npx tsx bench/import.ts [--checkouts 1000000] [--existing 1000000] [--small 250000]`: how fast
 * `identity-service import` is against a bare COPY of the same file, measured in one run on
 * DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres):
 *
 * 1. a generated file of past checkouts (repeat customers, several emails a person, shared
 *    household phones, a fifth of the people also in the seeded table below), CSV;
 * 2. `psql \copy` of that file into a scratch table with the same columns and indexes as "Contact";
 * 3. `import` of the same file into an empty table, and (for how memory grows) of its first
 *    `--small` lines;
 * 4. `import` of the same file into a table of `--existing` rows (bench/seed.ts);
 *
 * each a process of its own under /usr/bin/time -v (wall time and peak RSS). Writes
 * bench/results/import.{md,json} and the line after `<!-- bench: import -->` in README.md.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROWS_PER_CUSTOMER, emailOf, phoneOf, seed } from './seed.js';
import { scratchPostgres, withDatabase } from './targets.js';
import { seededRandom } from '../test/support/seededRandom.js';
import { writeAfterMarker } from './docMarker.js';

const { values: args } = parseArgs({
  options: {
    checkouts: { type: 'string', default: '1000000' },
    existing: { type: 'string', default: '1000000' },
    small: { type: 'string', default: '250000' },
  },
});
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const CHECKOUTS = Number(args.checkouts);
const EXISTING = Number(args.existing);
const SMALL = Number(args.small);

interface Person {
  emails: string[];
  phone: string | null;
}

/**
 * 2.5 checkouts a person on average (a few people buy very often), 30% with a second email and
 * 10% a third, 85% with a phone, one in ten sharing the phone of the person before (a household);
 * a fifth are customers of the seeded table (their values). Times over three years, lines in no
 * particular order.
 */
async function generate(file: string, checkouts: number): Promise<void> {
  const next = seededRandom(16);
  const people = Math.round(checkouts / 2.5);
  const seededCustomers = Math.round(EXISTING / ROWS_PER_CUSTOMER);
  const person = (p: number): Person => {
    const r = seededRandom(p * 7 + 1);
    if (p % 5 === 0) {
      const c = 1 + ((p * 2654435761) % seededCustomers);
      const email = emailOf(c) ?? `p${p}@shop.example`;
      return { emails: r() < 0.3 ? [email, `p${p}.2@shop.example`] : [email], phone: phoneOf(c) };
    }
    const emails = [`p${p}@shop.example`];
    if (r() < 0.3) emails.push(`p${p}.b@mail.example`);
    if (r() < 0.1) emails.push(`p${p}.c@work.example`);
    const household = r() < 0.1 && p > 0 ? p - 1 : p;
    return { emails, phone: r() < 0.85 ? `7${String(household).padStart(9, '0')}` : null };
  };
  const start = Date.UTC(2023, 0, 1);
  const span = 3 * 365 * 24 * 3600 * 1000;
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('orderId,email,phoneNumber,createdAt,total\n');
  let batch = '';
  for (let i = 0; i < checkouts; i++) {
    // A skewed pick: low-numbered people buy far more often.
    const p = Math.floor(people * next() ** 1.6);
    const { emails, phone } = person(p);
    const email = next() < 0.05 ? '' : (emails[Math.floor(next() * emails.length)] as string);
    const phoneNumber = phone === null || (email !== '' && next() < 0.2) ? '' : phone;
    const at = new Date(start + Math.floor(next() * span)).toISOString();
    batch += `${100000 + i},${email},${phoneNumber === '' && email === '' ? (phone ?? '') : phoneNumber},${at},${(next() * 200).toFixed(2)}\n`;
    if (batch.length > 1 << 20) {
      await write(batch);
      batch = '';
    }
  }
  await write(batch);
  out.end();
  await once(out, 'finish');
}

interface Timed {
  seconds: number;
  peakRssMb: number;
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under /usr/bin/time -v: its wall time and peak resident set size. */
async function timed(command: string, commandArgs: string[], env: Record<string, string> = {}): Promise<Timed> {
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-v', command, ...commandArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [status] = (await once(child, 'close')) as [number];
  const seconds = (performance.now() - started) / 1000;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return { seconds, peakRssMb: rss ? Number(rss[1]) / 1024 : 0, status, stdout, stderr };
}

async function importInto(url: string, file: string): Promise<Timed> {
  const result = await timed(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'import', file, '--reject', `${file}.rejects.csv`], {
    DATABASE_URL: url,
  });
  if (result.status !== 0) throw new Error(`import failed:\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function check(url: string): Promise<boolean> {
  const result = await timed(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check'], { DATABASE_URL: url });
  return result.status === 0;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'identity-bench-import-'));
  try {
    const file = join(dir, 'checkouts.csv');
    const small = join(dir, 'small.csv');
    console.log(`generating ${CHECKOUTS.toLocaleString('en-US')} checkouts`);
    await generate(file, CHECKOUTS);
    await generate(small, SMALL);

    // 1. The baseline: COPY into a table with the same columns and indexes.
    const copyTarget = await scratchPostgres(adminUrl, 'identity_bench_import_copy');
    await withDatabase(copyTarget, async (db) => {
      await db.query(`CREATE TABLE "CopyTarget" (LIKE "Contact" INCLUDING DEFAULTS INCLUDING INDEXES)`);
      // The file's other columns are kept too: COPY reads the same file as it is.
      await db.query(`ALTER TABLE "CopyTarget" ALTER "linkPrecedence" SET DEFAULT 'primary', ADD "orderId" text, ADD "total" text`);
    });
    console.log('COPY');
    const copy = await timed('psql', [
      copyTarget.url as string,
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `\\copy "CopyTarget" ("orderId", "email", "phoneNumber", "createdAt", "total") FROM '${file}' WITH (FORMAT csv, HEADER true)`,
    ]);
    if (copy.status !== 0) throw new Error(`COPY failed: ${copy.stderr}`);
    const copyIndexes = await withDatabase(copyTarget, (db) =>
      db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'CopyTarget' ORDER BY indexname`),
    );
    await copyTarget.dispose();

    // 2. Into an empty table: the small file, then the whole one.
    const empty = await scratchPostgres(adminUrl, 'identity_bench_import_empty');
    await withDatabase(empty, async () => {});
    console.log(`import of ${SMALL.toLocaleString('en-US')} into an empty table`);
    const smallRun = await importInto(empty.url as string, small);
    await empty.dispose();
    const emptyAgain = await scratchPostgres(adminUrl, 'identity_bench_import_empty');
    await withDatabase(emptyAgain, async () => {});
    console.log('import into an empty table');
    const intoEmpty = await importInto(emptyAgain.url as string, file);
    const emptyHolds = await check(emptyAgain.url as string);
    await emptyAgain.dispose();

    // 3. Into a table of EXISTING rows.
    const full = await scratchPostgres(adminUrl, 'identity_bench_import_full');
    const seeded = await withDatabase(full, (db) => seed(db, Math.round(EXISTING / ROWS_PER_CUSTOMER)));
    await timed('psql', [full.url as string, '-c', 'VACUUM ANALYZE "Contact"']);
    console.log(`import into a table of ${seeded.rows.toLocaleString('en-US')} rows`);
    const intoFull = await importInto(full.url as string, file);
    const fullHolds = await check(full.url as string);
    await full.dispose();

    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
      checkouts: CHECKOUTS,
      existingRows: seeded.rows,
      copy: { seconds: copy.seconds, indexes: copyIndexes.map((index) => index.indexdef) },
      small: { checkouts: SMALL, seconds: smallRun.seconds, peakRssMb: smallRun.peakRssMb },
      intoEmpty: {
        seconds: intoEmpty.seconds,
        peakRssMb: intoEmpty.peakRssMb,
        ratio: intoEmpty.seconds / copy.seconds,
        invariantsHold: emptyHolds,
      },
      intoFull: {
        seconds: intoFull.seconds,
        peakRssMb: intoFull.peakRssMb,
        ratio: intoFull.seconds / copy.seconds,
        invariantsHold: fullHolds,
      },
      outputs: { small: smallRun.stdout, intoEmpty: intoEmpty.stdout, intoFull: intoFull.stdout },
    };
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/import.json', `${JSON.stringify(report, null, 2)}\n`);
    await writeFile('bench/results/import.md', markdown(report));
    console.log(markdown(report));
    await writeAfterMarker(new URL('../README.md', import.meta.url), '<!-- bench: import -->', [readmeLine(report)]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The README's sentence on the numbers (issue 16 wants them there), from this run. */
function readmeLine(report: Parameters<typeof markdown>[0]): string {
  const ratio = (value: number) => `${value.toFixed(2)}x`;
  return `Its last run (${report.date.slice(0, 10)}, ${report.machine.cpus} CPUs): ${report.checkouts.toLocaleString('en-US')} checkouts took ${ratio(report.intoEmpty.ratio)} the time of a bare \`COPY\` of the same file into an empty table with the same indexes (${report.intoEmpty.seconds.toFixed(1)} s vs ${report.copy.seconds.toFixed(1)} s; goal 3x), ${ratio(report.intoFull.ratio)} into a table of ${report.existingRows.toLocaleString('en-US')} rows (goal 5x), with a peak of ${Math.round(Math.max(report.intoEmpty.peakRssMb, report.intoFull.peakRssMb))} MB.`;
}

function markdown(report: {
  date: string;
  machine: { cpus: number; memoryGb: number; node: string };
  checkouts: number;
  existingRows: number;
  copy: { seconds: number; indexes: string[] };
  small: { checkouts: number; seconds: number; peakRssMb: number };
  intoEmpty: { seconds: number; peakRssMb: number; ratio: number; invariantsHold: boolean };
  intoFull: { seconds: number; peakRssMb: number; ratio: number; invariantsHold: boolean };
  outputs: { intoEmpty: string; intoFull: string };
}): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const s = (value: number) => `${value.toFixed(1)} s`;
  const mb = (value: number) => `${Math.round(value)} MB`;
  const verdict = (ratio: number, goal: number) => `${ratio.toFixed(2)}x (goal ${goal}x: ${ratio <= goal ? 'held' : 'missed'})`;
  const perMillion = (report.intoEmpty.peakRssMb - report.small.peakRssMb) / ((report.checkouts - report.small.checkouts) / 1e6);
  return `# Import benchmark

Generated by \`npx tsx bench/import.ts\` (${report.date}; ${report.machine.cpus} CPUs, ${report.machine.memoryGb} GB, Node ${report.machine.node}; PostgreSQL on the same machine).
One file of ${n(report.checkouts)} past checkouts (CSV, repeat customers, several emails a person, shared household phones),
each run a process of its own under \`/usr/bin/time -v\` (wall time including start-up, peak RSS).

| run | time | vs COPY | peak RSS | invariants (\`check\`) |
|---|---|---|---|---|
| bare \`COPY\` (psql \`\\copy\`) into a table with the same indexes | ${s(report.copy.seconds)} | 1x | | |
| \`import\` into an empty table | ${s(report.intoEmpty.seconds)} | ${verdict(report.intoEmpty.ratio, 3)} | ${mb(report.intoEmpty.peakRssMb)} | ${report.intoEmpty.invariantsHold ? 'hold' : 'broken'} |
| \`import\` into a table of ${n(report.existingRows)} rows | ${s(report.intoFull.seconds)} | ${verdict(report.intoFull.ratio, 5)} | ${mb(report.intoFull.peakRssMb)} | ${report.intoFull.invariantsHold ? 'hold' : 'broken'} |
| \`import\` of the first ${n(report.small.checkouts)} checkouts, empty table | ${s(report.small.seconds)} | | ${mb(report.small.peakRssMb)} | |

Memory grows linearly with the checkouts (they are held in columns, with one map entry per distinct value while the
file is cut into chunks): about ${mb(perMillion)} per million checkouts between the two empty-table runs.

COPY's table: ${report.copy.indexes.map((index) => `\`${index.replace(/ USING btree/, '')}\``).join(', ')}.

What the import into an empty table said:

\`\`\`
${report.outputs.intoEmpty.trimEnd()}
\`\`\`

Into the table of ${n(report.existingRows)} rows:

\`\`\`
${report.outputs.intoFull.trimEnd()}
\`\`\`
`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
