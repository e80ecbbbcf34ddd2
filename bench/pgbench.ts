/**
 * The database's own ceilings, measured with pgbench on the statements the service sends
 * (prepared, same concurrency, sessions set up as the service's): a lookup, and the two
 * statements of a first order and of an extension (read, then identity_apply_plan); and floors:
 * a first order's row and event inserted by one plain statement with no read, lock or check, and
 * each write's read followed by that plain insert (the least its two statements can cost).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STARTUP_OPTIONS } from '../src/db/database.js';
import { APPLY_PLAN_SQL, FIND_CUSTOMERS_SQL } from '../src/db/identifyStore.js';
import { FIND_MANY_CUSTOMERS_SQL } from '../src/db/lookupBatch.js';
import { APPLY_PLANS_SQL } from '../src/db/planBatch.js';
import type { LoadSettings } from './load.js';

export type CeilingName = 'lookup' | 'new' | 'newBatch' | 'newFloor' | 'extend' | 'extendBatch' | 'extendFloor' | 'insert';

/**
 * Writes per statement in the `newBatch` and `extendBatch` ceilings, which count writes, not
 * scripts. Set before the first measurement; the bench also measures them at the size the
 * service's own write statements carried in the same run (`batch` below).
 */
export const WRITE_BATCH = 4;

const BATCHED: readonly CeilingName[] = ['newBatch', 'extendBatch'];

/** k as two digits: values built as prefix + k + a number stay distinct for every k below 100. */
const twoDigits = (k: number) => String(k).padStart(2, '0');

/** Replaces $1, $2, … by pgbench expressions (which pgbench then sends as parameters). */
function bind(sql: string, ...values: string[]): string {
  return sql.replace(/\$(\d+)/g, (_, index: string) => values[Number(index) - 1] ?? 'NULL').replace(/\s+/g, ' ');
}

const EMAIL = `('u' || :c || '@bench.io')`;

/** An SQL array of `size` values, the k-th (from 0) written by `each`. */
const arrayOf = (size: number, each: (k: number) => string) => `ARRAY[${Array.from({ length: size }, (_, k) => each(k)).join(', ')}]`;

/**
 * The statements as the service sends them with governance on (the default): the lookup reads the
 * rows with their stamps (a request the list made drop a value also reads the version; the bench
 * sends none), and every write checks the version under the governance lock and logs its events.
 * Off: the same lookup, and writes without the version or the event log (GOVERNANCE=off).
 */
const CURRENT_VERSION = `(SELECT "blocklistVersion" FROM "IdentityGovernance")`;

/**
 * identity_apply_plans' arguments after the emails and phones, for `size` plans that each
 * insert one row into the customer `survivors` names (an int[]; null: a new customer), decided
 * on the rows `ids` and `links` (text[]s of int[] literals).
 */
function batchedPlan(
  governed: boolean,
  size: number,
  { ids, links, survivors }: { ids: string; links: string; survivors: string },
): string[] {
  const each = (value: string) => arrayOf(size, () => value);
  const locks = `ARRAY(SELECT coalesce('{' || s || '}', '{}') FROM unnest(${survivors}) WITH ORDINALITY AS u(s, k) ORDER BY k)`;
  const context = governed ? [each(CURRENT_VERSION), each(`'pgbench'`), 'true'] : ['NULL', 'NULL', 'false'];
  return [ids, links, locks, survivors, each('false'), each(`'{}'`), each('true'), ...context];
}

/**
 * A first order's or an extension's row (`linkedId` null: a primary) and its event, in one plain
 * statement: no lock and no check, the least those writes can cost.
 */
function plainInsert(email: string, phone: string, linkedId: string): string {
  const precedence = linkedId === 'NULL' ? `'primary'` : `'secondary'`;
  const type = linkedId === 'NULL' ? 'customer.created' : 'customer.updated';
  return [
    `WITH created AS (INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence") VALUES (${email}, ${phone}, ${linkedId}, ${precedence}) RETURNING "id", coalesce("linkedId", "id") AS "customer")`,
    `INSERT INTO "ContactEvent" ("requestId", "type", "customerIds", "contactIds") SELECT 'pgbench', '${type}', ARRAY["customer"], ARRAY["id"] FROM created;`,
  ].join('\n');
}

function script(name: CeilingName, customers: number, governed: boolean, size: number): string {
  // Any customer with an email (all but 10k+1, the phone-only ones), as the service's extend workload picks them.
  const EXTEND_CUSTOMER = `\\set c 10 * random(0, ${Math.floor(customers / 10) - 1}) + random(2, 10)`;
  const arrayOfSize = (each: (k: number) => string) => arrayOf(size, each);
  const writeContext = governed ? [CURRENT_VERSION, `'pgbench'`, 'true'] : ['NULL', 'NULL', 'false'];
  switch (name) {
    case 'lookup':
      return `\\set c random(2, ${customers})\n${bind(FIND_CUSTOMERS_SQL, EMAIL, `('90' || :c)`)};\n`;
    case 'new': {
      const email = `('p' || :n || '@pgbench.io')`;
      const phone = `('5' || :n)`;
      return [
        `\\set n random(1, 2000000000)`,
        `${bind(FIND_CUSTOMERS_SQL, email, phone)};`,
        `${bind(APPLY_PLAN_SQL, email, phone, `'{}'`, `'{}'`, `'{}'`, 'NULL', 'false', `'{}'`, 'true', ...writeContext)};`,
      ].join('\n');
    }
    case 'newBatch': {
      // As the service sends new customers that arrive together: one read of them all, then one
      // identity_apply_plans for them all (src/db/lookupBatch.ts, src/db/planBatch.ts).
      const emails = arrayOfSize((k) => `'b${k}.' || :n || '@pgbench.io'`);
      const phones = arrayOfSize((k) => `'6${twoDigits(k)}' || :n`);
      const none = arrayOfSize(() => `'{}'`);
      return [
        `\\set n random(1, 2000000000)`,
        `${bind(FIND_MANY_CUSTOMERS_SQL, emails, phones)};`,
        `${bind(APPLY_PLANS_SQL, emails, phones, ...batchedPlan(governed, size, { ids: none, links: none, survivors: arrayOfSize(() => 'NULL::int') }))};`,
      ].join('\n');
    }
    case 'extendBatch': {
      // As the service sends extensions that arrive together: one read of the customers of all
      // of them, then one identity_apply_plans that gives each a new phone. Customers 2·size·s + 2,
      // + 4, …: even, so each has an email (only 10k+1 have none), none twice in a batch and none
      // in two batches of different s, so every plan extends (but when two clients draw one s at
      // once: the later batch is stale, about 1 plan in 200 by a count of their events).
      const customer = (k: number) => `${2 * size} * :s + ${2 + 2 * k}`;
      const emails = arrayOfSize((k) => `'u' || (${customer(k)}) || '@bench.io'`);
      const phones = arrayOfSize((k) => `'7${twoDigits(k)}' || :n`);
      const lookups = arrayOfSize(() => 'NULL::text');
      return [
        `\\set s random(0, ${Math.floor(customers / (2 * size)) - 1})`,
        `\\set n random(1, 2000000000)`,
        `SELECT array_agg(ids ORDER BY "request") AS ids, array_agg(links ORDER BY "request") AS links,`,
        `       array_agg(survivor ORDER BY "request") AS survivors FROM (`,
        // In row order, as the service reads them and identity_apply_plans compares them.
        `  SELECT o."request", coalesce(array_agg(r."id" ORDER BY r."createdAt", r."id") FILTER (WHERE r."id" IS NOT NULL), '{}')::text AS ids,`,
        `         coalesce(array_agg(coalesce(r."linkedId", 0) ORDER BY r."createdAt", r."id") FILTER (WHERE r."id" IS NOT NULL), '{}')::text AS links,`,
        `         min(coalesce(r."linkedId", r."id")) AS survivor`,
        `    FROM unnest(${emails}, ${lookups}) WITH ORDINALITY AS o("email", "phoneNumber", "request")`,
        `    LEFT JOIN LATERAL identity_governed_rows(o."email", o."phoneNumber") AS r ON true`,
        `   GROUP BY o."request") AS found \\gset`,
        `${bind(APPLY_PLANS_SQL, emails, phones, ...batchedPlan(governed, size, { ids: ':ids', links: ':links', survivors: ':survivors::int[]' }))};`,
      ].join('\n');
    }
    case 'insert':
      return [`\\set n random(1, 2000000000)`, plainInsert(`'i' || :n || '@pgbench.io'`, `'3' || :n`, 'NULL')].join('\n');
    case 'newFloor': {
      // new's two statements with nothing of the write but its rows: its read, then its row and event.
      const email = `('f' || :n || '@pgbench.io')`;
      const phone = `('2' || :n)`;
      return [`\\set n random(1, 2000000000)`, `${bind(FIND_CUSTOMERS_SQL, email, phone)};`, plainInsert(email, phone, 'NULL')].join('\n');
    }
    case 'extendFloor':
      // extend's two statements with nothing of the write but its rows: its read, then the
      // secondary row and its event.
      return [
        EXTEND_CUSTOMER,
        `\\set n random(1, 2000000000)`,
        `SELECT min(coalesce("linkedId", "id")) AS survivor FROM (${bind(FIND_CUSTOMERS_SQL, EMAIL, 'NULL')}) AS found \\gset`,
        plainInsert(EMAIL, `('1' || :n)`, ':survivor'),
      ].join('\n');
    case 'extend': {
      // (Only 10k+2 were extended before EXTEND_CUSTOMER: a 10 s run added three to five rows to
      // each of them, so the rows every extension reads and re-reads grew during the run.) The
      // read's result is folded into the plan's arguments.
      const phone = `('4' || :n)`;
      return [
        EXTEND_CUSTOMER,
        `\\set n random(1, 2000000000)`,
        `SELECT coalesce(array_agg("id"), '{}') AS ids, coalesce(array_agg(coalesce("linkedId", 0)), '{}') AS links,`,
        `       min(coalesce("linkedId", "id")) AS survivor FROM (${bind(FIND_CUSTOMERS_SQL, EMAIL, 'NULL')}) AS found \\gset`,
        `${bind(APPLY_PLAN_SQL, EMAIL, phone, ':ids', ':links', `ARRAY[:survivor]`, ':survivor', 'false', `'{}'`, 'true', ...writeContext)};`,
      ].join('\n');
    }
  }
}

/**
 * Transactions (scripts) per second of pgbench running `name` against the seeded database; for a
 * batched ceiling, writes per second, `batch` (default WRITE_BATCH) to a statement.
 */
export function pgbenchCeiling(
  name: CeilingName,
  databaseUrl: string,
  customers: number,
  { connections, duration }: LoadSettings,
  { governed = true, batch = WRITE_BATCH }: { governed?: boolean; batch?: number } = {},
): number {
  const scriptFile = join(mkdtempSync(join(tmpdir(), 'identity-bench-')), `${name}.sql`);
  writeFileSync(scriptFile, `${script(name, customers, governed, batch)}\n`);
  const out = spawnSync(
    'pgbench',
    ['-n', '-M', 'prepared', '-c', String(connections), '-j', '2', '-T', String(duration), '-f', scriptFile, databaseUrl],
    // The service's session settings (generic plans, READ COMMITTED): a plan made anew per call inside identity_apply_plan cost a tenth of its rate.
    { encoding: 'utf8', env: { ...process.env, PGOPTIONS: STARTUP_OPTIONS } },
  );
  const tps = /tps = ([\d.]+)/.exec(out.stdout)?.[1];
  if (tps === undefined || out.status !== 0) throw new Error(`pgbench ${name} failed: ${out.stderr || out.error?.message}`);
  return Math.round(Number(tps) * (BATCHED.includes(name) ? batch : 1));
}
