/**
 * The database's own ceilings, measured with pgbench on the statements the service sends
 * (prepared, same concurrency, sessions set up as the service's): a lookup, and the two
 * statements of a first order and of an extension (read, then identity_apply_plan); and, as the
 * floor under a first order's write, its row and its event inserted by one plain statement with no
 * read, lock or check.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STARTUP_OPTIONS } from '../src/db/database.js';
import { CREATE_CUSTOMERS_SQL } from '../src/db/createBatch.js';
import { APPLY_PLAN_SQL, FIND_CUSTOMERS_SQL } from '../src/db/identifyStore.js';
import { FIND_MANY_CUSTOMERS_SQL } from '../src/db/lookupBatch.js';
import type { LoadSettings } from './load.js';

export type CeilingName = 'lookup' | 'new' | 'newBatch' | 'extend' | 'insert';

/** New customers per statement in the `newBatch` ceiling, which counts customers, not scripts. */
export const NEW_BATCH = 4;

/** Replaces $1, $2, … by pgbench expressions (which pgbench then sends as parameters). */
function bind(sql: string, ...values: string[]): string {
  return sql.replace(/\$(\d+)/g, (_, index: string) => values[Number(index) - 1] ?? 'NULL').replace(/\s+/g, ' ');
}

const EMAIL = `('u' || :c || '@bench.io')`;

/**
 * The statements as the service sends them with governance on (the default): the lookup reads the
 * rows with their stamps (a request the list made drop a value also reads the version; the bench
 * sends none), and every write checks the version under the governance lock and logs its events.
 * Off: the same lookup, and writes without the version or the event log (GOVERNANCE=off).
 */
const CURRENT_VERSION = `(SELECT "blocklistVersion" FROM "IdentityGovernance")`;

function script(name: CeilingName, customers: number, governed: boolean): string {
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
      // identity_create_customers for them all (src/db/lookupBatch.ts, src/db/createBatch.ts).
      const each = Array.from({ length: NEW_BATCH }, (_, k) => k);
      const emails = `ARRAY[${each.map((k) => `'b${k}' || :n || '@pgbench.io'`).join(', ')}]`;
      const phones = `ARRAY[${each.map((k) => `'6${k}' || :n`).join(', ')}]`;
      const perRequest = (value: string) => `ARRAY[${each.map(() => value).join(', ')}]`;
      const context = governed ? [perRequest(CURRENT_VERSION), perRequest(`'pgbench'`), 'true'] : ['NULL', 'NULL', 'false'];
      return [
        `\\set n random(1, 2000000000)`,
        `${bind(FIND_MANY_CUSTOMERS_SQL, emails, phones)};`,
        `${bind(CREATE_CUSTOMERS_SQL, emails, phones, ...context)};`,
      ].join('\n');
    }
    case 'insert':
      return [
        `\\set n random(1, 2000000000)`,
        `WITH created AS (INSERT INTO "Contact" ("email", "phoneNumber", "linkPrecedence") VALUES ('i' || :n || '@pgbench.io', '3' || :n, 'primary') RETURNING "id")`,
        `INSERT INTO "ContactEvent" ("requestId", "type", "customerIds", "contactIds") SELECT 'pgbench', 'customer.created', ARRAY["id"], ARRAY["id"] FROM created;`,
      ].join('\n');
    case 'extend': {
      // Any customer with an email (all but 10k+1, the phone-only ones), as the service's extend
      // workload picks them. (Only 10k+2 were extended before: a 10 s run added three to five rows
      // to each of them, so the rows every extension reads and re-reads grew during the run.)
      // The read's result is folded into the plan's arguments.
      const phone = `('4' || :n)`;
      return [
        `\\set c 10 * random(0, ${Math.floor(customers / 10) - 1}) + random(2, 10)`,
        `\\set n random(1, 2000000000)`,
        `SELECT coalesce(array_agg("id"), '{}') AS ids, coalesce(array_agg(coalesce("linkedId", 0)), '{}') AS links,`,
        `       min(coalesce("linkedId", "id")) AS survivor FROM (${bind(FIND_CUSTOMERS_SQL, EMAIL, 'NULL')}) AS found \\gset`,
        `${bind(APPLY_PLAN_SQL, EMAIL, phone, ':ids', ':links', `ARRAY[:survivor]`, ':survivor', 'false', `'{}'`, 'true', ...writeContext)};`,
      ].join('\n');
    }
  }
}

/** Transactions (scripts) per second of pgbench running `name` against the seeded database; for `newBatch`, new customers per second. */
export function pgbenchCeiling(
  name: CeilingName,
  databaseUrl: string,
  customers: number,
  { connections, duration }: LoadSettings,
  governed = true,
): number {
  const scriptFile = join(mkdtempSync(join(tmpdir(), 'identity-bench-')), `${name}.sql`);
  writeFileSync(scriptFile, `${script(name, customers, governed)}\n`);
  const out = spawnSync(
    'pgbench',
    ['-n', '-M', 'prepared', '-c', String(connections), '-j', '2', '-T', String(duration), '-f', scriptFile, databaseUrl],
    // The service's session settings (generic plans, READ COMMITTED): a plan made anew per call inside identity_apply_plan cost a tenth of its rate.
    { encoding: 'utf8', env: { ...process.env, PGOPTIONS: STARTUP_OPTIONS } },
  );
  const tps = /tps = ([\d.]+)/.exec(out.stdout)?.[1];
  if (tps === undefined || out.status !== 0) throw new Error(`pgbench ${name} failed: ${out.stderr || out.error?.message}`);
  return Math.round(Number(tps) * (name === 'newBatch' ? NEW_BATCH : 1));
}
