/**
 * `npx tsx bench/repair.ts [--rows 1000000]`: how long `check` and `repair` take on a big, partly
 * broken table. Seeds database identity_bench_repair (on DATABASE_URL's server) with the
 * benchmark's customers, breaks a few percent of them with SQL (links, and legacy values that
 * are not in normal form), checks, repairs, and checks the invariants after.
 */
import { parseArgs } from 'node:util';
import type { Queryable } from '../src/db/database.js';
import { checkInvariants, checkNormalForm, type InvariantResult } from '../src/db/invariants.js';
import { formatCheck } from '../src/maintenance/checkCommand.js';
import { progressOn } from '../src/maintenance/progress.js';
import { repair, REPAIRED_INVARIANTS } from '../src/maintenance/repair.js';
import { formatRepair } from '../src/maintenance/repairCommand.js';
import { ROWS_PER_CUSTOMER, seed } from './seed.js';
import { scratchPostgres, withDatabase } from './targets.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'batch-size': { type: 'string', default: '10000' },
  },
});
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const customers = Math.round(Number(args.rows) / ROWS_PER_CUSTOMER);

/**
 * Breaks 2% of the customers in each way the repair fixes. The seed gives customer c the primary
 * id c, its secondaries consecutive ids, and c's row count by c % 10 (CONTACTS_SQL: 1 -> 5 rows,
 * 2 -> 4, 3 -> 3, 7 -> 1), so each residue below picks customers with enough rows to break.
 */
const BREAKAGES: { what: string; sql: string }[] = [
  {
    what: 'chains: each secondary after the first links to the one before it',
    sql: `UPDATE "Contact" AS s SET "linkedId" = s."id" - 1
            FROM "Contact" AS previous
           WHERE previous."id" = s."id" - 1 AND previous."linkedId" = s."linkedId" AND s."linkedId" % 50 = 2`,
  },
  {
    what: 'primaries younger than their secondaries',
    sql: `UPDATE "Contact" SET "createdAt" = "createdAt" + interval '2 years' WHERE "id" <= $1 AND "id" % 50 = 11`,
  },
  {
    what: "two customers sharing a phone: a primary takes the next customer's",
    sql: `UPDATE "Contact" SET "phoneNumber" = '90' || ("id" + 1) WHERE "id" < $1 AND "id" % 50 = 23`,
  },
  {
    what: 'deleted primaries with live secondaries',
    sql: `UPDATE "Contact" SET "deletedAt" = now() WHERE "id" <= $1 AND "id" % 50 = 13`,
  },
  {
    what: 'secondaries unlinked into primaries of their own',
    sql: `UPDATE "Contact" SET "linkedId" = NULL, "linkPrecedence" = 'primary' WHERE "linkedId" % 50 = 41`,
  },
  {
    what: 'legacy values: emails upper-cased',
    sql: `UPDATE "Contact" SET "email" = upper("email") WHERE "id" % 50 = 31 AND "email" IS NOT NULL`,
  },
  {
    what: 'legacy values: phones written with separators, (90) 12-345',
    sql: `UPDATE "Contact" SET "phoneNumber" = '(' || left("phoneNumber", 2) || ') ' || substr("phoneNumber", 3, 2) || '-' || substr("phoneNumber", 5)
           WHERE "id" % 50 = 37 AND "phoneNumber" IS NOT NULL`,
  },
  {
    what: "one person twice: a primary takes the next customer's email, upper-cased (one customer once normalised)",
    sql: `UPDATE "Contact" SET "email" = upper('u' || ("id" + 1) || '@bench.io') WHERE "id" < $1 AND "id" % 50 = 47`,
  },
  {
    what: 'invalid values: emails without @, phones with words (reported, left as they are)',
    sql: `UPDATE "Contact" SET "email" = CASE WHEN "id" % 2000 = 43 THEN replace("email", '@', ' at ') ELSE "email" END,
                              "phoneNumber" = CASE WHEN "id" % 2000 = 59 THEN 'ext ' || "phoneNumber" ELSE "phoneNumber" END
           WHERE ("id" % 2000 = 43 AND "email" IS NOT NULL) OR ("id" % 2000 = 59 AND "phoneNumber" IS NOT NULL)`,
  },
];

async function breakTable(db: Queryable): Promise<void> {
  for (const { what, sql } of BREAKAGES) {
    const [row] = await db.query<{ changed: number }>(
      `WITH changed AS (${sql} RETURNING 1) SELECT count(*)::int AS changed FROM changed`,
      sql.includes('$1') ? [customers] : [],
    );
    log(`  ${String(row?.changed ?? 0).padStart(7)} rows: ${what}`);
  }
  await db.query('ANALYZE "Contact"');
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const startedAt = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - startedAt) / 1000 };
}

const target = await scratchPostgres(adminUrl, 'identity_bench_repair');
let broken: InvariantResult[] = [];
try {
  await withDatabase(target, async (db) => {
    const seeded = await timed(() => seed(db, customers));
    log(
      `seeded ${seeded.value.rows.toLocaleString('en-US')} rows (${customers.toLocaleString('en-US')} customers) in ${seeded.seconds.toFixed(1)} s; breaking:`,
    );
    await breakTable(db);
    const checked = await timed(() => checkInvariants(db));
    const scanned = await timed(() => checkNormalForm(db));
    log(
      `\nbefore the repair (check: ${checked.seconds.toFixed(1)} s, of which the normal-form scan N1–N2 ${scanned.seconds.toFixed(1)} s):\n${formatCheck(checked.value)}`,
    );

    const repaired = await timed(() => repair(db, { batchSize: Number(args['batch-size']), progress: progressOn(process.stderr) }));
    log(`\n${formatRepair(repaired.value, repaired.seconds * 1000)}`);
    log(
      `repair: ${repaired.value.plan.summary.rows.toLocaleString('en-US')} rows, ${repaired.value.plan.summary.changed.toLocaleString('en-US')} changes, ${repaired.seconds.toFixed(1)} s`,
    );

    const after = await checkInvariants(db);
    log(`\nafter the repair:\n${formatCheck(after)}`);
    broken = after.filter((result) => REPAIRED_INVARIANTS.includes(result.invariant) && result.count > 0);
  });
} finally {
  await target.dispose();
}
process.exitCode = broken.length === 0 ? 0 : 1;
