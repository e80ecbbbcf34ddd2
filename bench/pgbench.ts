/** The database's own ceiling: pgbench running the service's lookup statement, prepared. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIND_CUSTOMERS_SQL } from '../src/db/contactQueries.js';
import type { LoadSettings } from './load.js';

/** Transactions per second of FIND_CUSTOMERS_SQL for random seeded customers, same concurrency. */
export function pgbenchLookupCeiling(databaseUrl: string, customers: number, { connections, duration }: LoadSettings): number {
  const statement = FIND_CUSTOMERS_SQL.replace('$1::text', `('u' || :c || '@bench.io')`).replace('$2::text', `('90' || :c)`);
  const scriptFile = join(mkdtempSync(join(tmpdir(), 'identity-bench-')), 'lookup.sql');
  writeFileSync(scriptFile, `\\set c random(2, ${customers})\n${statement};\n`);
  const out = spawnSync('pgbench', ['-n', '-M', 'prepared', '-c', String(connections), '-j', '2', '-T', String(duration), '-f', scriptFile, databaseUrl], { encoding: 'utf8' });
  const tps = /tps = ([\d.]+)/.exec(out.stdout)?.[1];
  if (tps === undefined) throw new Error(`pgbench failed: ${out.stderr || out.error?.message}`);
  return Math.round(Number(tps));
}
