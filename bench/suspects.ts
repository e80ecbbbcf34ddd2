/**
 * `npx tsx bench/suspects.ts [--rows 1000000] [--cap 60] [--write]`: how long the suspects report
 * takes on a big table with junk values. Seeds database identity_bench_suspects (on DATABASE_URL's
 * server) with the benchmark's customers and the junk of bench/junk.ts (a placeholder email and a
 * phone held by thousands of customers, blocked; a customer of 5,000 rows glued by an unblocked
 * email), then times the report's SQL (src/db/suspectsQuery.ts), `identity-service suspects` as a
 * process, and the plain definition it replaced (the store's first version,
 * test/support/suspectsReference.ts), cancelled after --cap seconds. Prints the report and a
 * markdown line; --write puts that line into docs/cli.md, after `<!-- bench: suspects -->`.
 */
import { writeAfterMarker } from './docMarker.js';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/database.js';
import { suspects } from '../src/db/suspectsQuery.js';
import { runCli } from '../test/support/cliProcess.js';
import { referenceSuspects } from '../test/support/suspectsReference.js';
import { GLUED_CONTACTS, JUNK_EMAIL, JUNK_PHONE, seedJunk } from './junk.js';
import { ROWS_PER_CUSTOMER, seed } from './seed.js';
import { scratchPostgres, withDatabase } from './targets.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    cap: { type: 'string', default: '60' },
    write: { type: 'boolean', default: false },
  },
});
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const customers = Math.round(Number(args.rows) / ROWS_PER_CUSTOMER);
const cap = Number(args.cap);
const NAME = 'identity_bench_suspects';
const DOC = new URL('../docs/cli.md', import.meta.url);
const MARKER = '<!-- bench: suspects -->';

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const startedAt = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - startedAt) / 1000 };
}

const seconds = (value: number) => `${value.toFixed(1)} s`;
const count = (value: number) => value.toLocaleString('en-US');

const target = await scratchPostgres(adminUrl, NAME);
let line = '';
try {
  await withDatabase(target, async (db) => {
    await seed(db, customers);
    const { held } = await seedJunk(db);
    const [{ live } = { live: 0 }] = await db.query<{ live: number }>(
      'SELECT count(*)::int AS live FROM "Contact" WHERE "deletedAt" IS NULL',
    );

    const sql = await timed(() => suspects(db, 20));
    const cli = await timed(() => runCli(['suspects'], { DATABASE_URL: target.url ?? undefined }));
    if (cli.value.status !== 0) throw new Error(`identity-service suspects failed: ${cli.value.stderr}`);
    process.stdout.write(`$ identity-service suspects | head -6\n${cli.value.stdout.split('\n').slice(0, 6).join('\n')}\n\n`);

    // The first version's SQL on sessions that give up after `cap` seconds.
    await db.query(`ALTER DATABASE ${NAME} SET statement_timeout = '${cap}s'`);
    const capped = await openDatabase(target.database);
    let before: string;
    try {
      const old = await timed(() => referenceSuspects(capped, 20));
      before = seconds(old.seconds);
    } catch (error) {
      if ((error as { code?: string }).code !== '57014') throw error;
      before = `over ${cap} s (cancelled)`;
    } finally {
      await capped.close();
    }

    line =
      `${count(live)} live rows, ${count(held[JUNK_EMAIL] ?? 0)} customers sharing a blocked placeholder email, ` +
      `${count(held[JUNK_PHONE] ?? 0)} a blocked phone, one customer of ${count(GLUED_CONTACTS)} rows: ` +
      `the report's SQL ${seconds(sql.seconds)}, \`identity-service suspects\` ${seconds(cli.seconds)} (a process, start-up included); ` +
      `before (the store's first version, one count per holder) ${before}.`;
  });
} finally {
  await target.dispose();
}
process.stdout.write(`${line}\n`);
if (args.write) {
  await writeAfterMarker(DOC, MARKER, [line]);
}
