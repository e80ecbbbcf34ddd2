/**
 * `npx tsx bench/check.ts [--rows 1000000] [--write]`: how long `check` takes on a big table with blocked
 * values. Seeds database identity_bench_check (on DATABASE_URL's server) with the benchmark's
 * customers and the junk of bench/junk.ts (blocked by the recommended preset), runs `check` and
 * prints its report and a markdown line with the timings. Then again with every rule dated before
 * every row, as if the preset had been applied on the first day: I5's worst case, where every
 * value is matched against the patterns (and the junk rows become I5 violations). --write puts
 * the markdown lines into docs/storage.md, after `<!-- bench: check -->`.
 */
import { writeAfterMarker } from './docMarker.js';
import { parseArgs } from 'node:util';
import type { Database } from '../src/db/database.js';
import { checkInvariants, checkNormalForm, type InvariantName } from '../src/db/invariants.js';
import { formatCheck } from '../src/maintenance/checkCommand.js';
import { seedJunk } from './junk.js';
import { ROWS_PER_CUSTOMER, seed } from './seed.js';
import { scratchPostgres, withDatabase } from './targets.js';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, write: { type: 'boolean', default: false } },
});
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const customers = Math.round(Number(args.rows) / ROWS_PER_CUSTOMER);

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const startedAt = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - startedAt) / 1000 };
}

/** The markdown lines, one per measurement. */
const lines: string[] = [];

/** Runs `check` and prints its report and `| what | timings |`. */
async function measure(db: Database, what: string): Promise<void> {
  const sql: string[] = [];
  const onChecked = (invariant: InvariantName, milliseconds: number) => sql.push(`${invariant} ${(milliseconds / 1000).toFixed(1)}`);
  const checked = await timed(() => checkInvariants(db, { onChecked }));
  const scanned = await timed(() => checkNormalForm(db));
  const line =
    `| ${what} | check ${checked.seconds.toFixed(1)} s: SQL ${(checked.seconds - scanned.seconds).toFixed(1)} s (${sql.join(', ')}), ` +
    `normal-form scan ${scanned.seconds.toFixed(1)} s |`;
  process.stdout.write(`${formatCheck(checked.value)}\n${line}\n\n`);
  lines.push(line);
}

const target = await scratchPostgres(adminUrl, 'identity_bench_check');
try {
  await withDatabase(target, async (db) => {
    const seeded = await timed(() => seed(db, customers));
    const junk = await seedJunk(db);
    const [{ rules, live } = { rules: 0, live: 0 }] = await db.query<{ rules: number; live: number }>(
      `SELECT (SELECT count(*) FROM "BlockedIdentifier")::int AS rules, (SELECT count(*) FROM "Contact" WHERE "deletedAt" IS NULL)::int AS live`,
    );
    process.stdout.write(
      `seeded ${seeded.value.rows.toLocaleString('en-US')} rows in ${seeded.seconds.toFixed(1)} s; junk rows: ${JSON.stringify(junk.held)}; ` +
        `${rules} rules blocked in ${junk.blockSeconds.toFixed(1)} s\n\n`,
    );
    const table = `${live.toLocaleString('en-US')} live rows, ${rules} rules`;
    await measure(db, `${table}, newer than the rows`);
    await db.query(`UPDATE "BlockedIdentifier" SET "createdAt" = timestamptz '2020-01-01'`);
    await measure(db, `${table}, older than the rows`);
  });
} finally {
  await target.dispose();
}
if (args.write) {
  await writeAfterMarker(new URL('../docs/storage.md', import.meta.url), '<!-- bench: check -->', [
    '| table | timings |',
    '|---|---|',
    ...lines,
  ]);
}
