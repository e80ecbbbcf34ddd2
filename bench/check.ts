/**
 * `npx tsx bench/check.ts [--rows 1000000]`: how long `check` takes on a big table with blocked
 * values. Seeds database identity_bench_check (on DATABASE_URL's server) with the benchmark's
 * customers and the junk of bench/junk.ts (blocked by the recommended preset), runs `check` once
 * and prints its report and a markdown line with the timings.
 */
import { parseArgs } from 'node:util';
import { checkInvariants, checkNormalForm } from '../src/db/invariants.js';
import { formatCheck } from '../src/maintenance/checkCommand.js';
import { seedJunk } from './junk.js';
import { ROWS_PER_CUSTOMER, seed } from './seed.js';
import { scratchPostgres, withDatabase } from './targets.js';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const customers = Math.round(Number(args.rows) / ROWS_PER_CUSTOMER);

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const startedAt = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - startedAt) / 1000 };
}

const target = await scratchPostgres(adminUrl, 'identity_bench_check');
try {
  await withDatabase(target, async (db) => {
    const seeded = await timed(() => seed(db, customers));
    const junk = await seedJunk(db);
    const [{ rules } = { rules: 0 }] = await db.query<{ rules: number }>('SELECT count(*)::int AS rules FROM "BlockedIdentifier"');
    process.stdout.write(
      `seeded ${seeded.value.rows.toLocaleString('en-US')} rows in ${seeded.seconds.toFixed(1)} s; junk rows: ${JSON.stringify(junk.held)}; ` +
        `${rules} rules blocked in ${junk.blockSeconds.toFixed(1)} s\n`,
    );
    const checked = await timed(() => checkInvariants(db));
    const scanned = await timed(() => checkNormalForm(db));
    process.stdout.write(`${formatCheck(checked.value)}\n`);
    const [{ live } = { live: 0 }] = await db.query<{ live: number }>(
      'SELECT count(*)::int AS live FROM "Contact" WHERE "deletedAt" IS NULL',
    );
    process.stdout.write(
      `| ${live.toLocaleString('en-US')} live rows, ${rules} rules | check ${checked.seconds.toFixed(1)} s ` +
        `(SQL ${(checked.seconds - scanned.seconds).toFixed(1)} s, normal-form scan ${scanned.seconds.toFixed(1)} s) |\n`,
    );
  });
} finally {
  await target.dispose();
}
