/**
 * The database's own ceilings, measured with pgbench on the statements the service sends
 * (prepared, same concurrency): a lookup, and the two statements of a first order and of an
 * extension (read, then identity_apply_plan).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPLY_PLAN_SQL, FIND_CUSTOMERS_SQL } from '../src/db/identifyStore.js';
import type { LoadSettings } from './load.js';

export type CeilingName = 'lookup' | 'new' | 'extend';

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
    case 'extend': {
      // Customers 10k+2 have an email; the read's result is folded into the plan's arguments.
      const phone = `('4' || :n)`;
      return [
        `\\set c 10 * random(0, ${Math.floor(customers / 10) - 1}) + 2`,
        `\\set n random(1, 2000000000)`,
        `SELECT coalesce(array_agg("id"), '{}') AS ids, coalesce(array_agg(coalesce("linkedId", 0)), '{}') AS links,`,
        `       min(coalesce("linkedId", "id")) AS survivor FROM (${bind(FIND_CUSTOMERS_SQL, EMAIL, 'NULL')}) AS found \\gset`,
        `${bind(APPLY_PLAN_SQL, EMAIL, phone, ':ids', ':links', `ARRAY[:survivor]`, ':survivor', 'false', `'{}'`, 'true', ...writeContext)};`,
      ].join('\n');
    }
  }
}

/** Transactions (scripts) per second of pgbench running `name` against the seeded database. */
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
    { encoding: 'utf8' },
  );
  const tps = /tps = ([\d.]+)/.exec(out.stdout)?.[1];
  if (tps === undefined || out.status !== 0) throw new Error(`pgbench ${name} failed: ${out.stderr || out.error?.message}`);
  return Math.round(Number(tps));
}
