#!/usr/bin/env node
/**
 * `identity-service [serve|migrate|check|repair]`: what `npm start` and `npm run migrate` run,
 * and the operator's tools for the table's invariants. Exit status 2 means a bad command line.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { hasContactTable } from './db/probes.js';
import { reportStartupFailure, serve } from './main.js';
import { runCheck } from './maintenance/checkCommand.js';
import { DEFAULT_BATCH_SIZE } from './maintenance/repair.js';
import { runRepair } from './maintenance/repairCommand.js';

const USAGE_ERROR = 2;

/** Opens the configured database, runs `work` and closes it; `work` resolves to the exit status. */
async function withDatabase(work: (db: Database) => Promise<number>): Promise<void> {
  const db = await openDatabase(loadConfig().database);
  try {
    process.exitCode = await work(db);
  } finally {
    await db.close();
  }
}

/** `withDatabase` for `check` and `repair`: they read a table that must exist, never create it (`migrate` does). */
function withContactTable(work: (db: Database) => Promise<number>): Promise<void> {
  return withDatabase(async (db) => {
    if (!(await hasContactTable(db))) {
      throw new Error(
        'the database has no "Contact" table: point DATABASE_URL (or DB_*) at the shop\'s database, or run `identity-service migrate` first',
      );
    }
    return work(db);
  });
}

/** Configuration errors read as at start-up; anything else names the command that failed. */
function reportFailureOf(command: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof ConfigError) reportStartupFailure(error);
    process.stderr.write(`${command} failed: ${(error as Error).message ?? error}\n`);
    process.exit(1);
  };
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError('must be a positive integer.');
  return number;
}

const program = new Command('identity-service')
  .description('Customer identity reconciliation: the HTTP service and its operator tools.')
  .addHelpText('after', '\nWith no command: serve. Configuration comes from the environment and .env (see README).')
  .showHelpAfterError('(run with --help for usage)')
  // --help exits 0; every other parse error (unknown command, option or value) exits 2.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USAGE_ERROR));

program
  .command('serve')
  .description('run the HTTP service (the default)')
  .action(() => serve().catch(reportStartupFailure));

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(() =>
    withDatabase(async (db) => {
      const { applied } = await migrate(db);
      process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
      return 0;
    }).catch(reportStartupFailure),
  );

program
  .command('check')
  .summary("check the Contact table's invariants; exit 1 if any is broken")
  .description(
    "check the Contact table's invariants I1–I4 and that stored emails and phones are in normal form (N1, N2); " +
      'exit 0 when they hold, 1 when any is broken',
  )
  .option('--json', 'print the result as one JSON object')
  .action((options: { json?: boolean }) => withContactTable((db) => runCheck(db, options, process.stdout)).catch(reportFailureOf('check')));

program
  .command('repair')
  .summary('normalise emails and phones, fix the links: one primary per customer, its oldest row (I1–I3, N1)')
  .description(
    'put every email and phone in the normal form requests use (N1), then make every customer one primary (its oldest row) ' +
      'with every other row linked straight to it (I1–I3), in one transaction; redundant rows (I4) are reported, never deleted, ' +
      'and values with no normal form (N2) are reported and left as they are',
  )
  .option('--dry-run', 'do everything, print the summary and the first changes, then roll back')
  .option('--batch-size <rows>', 'rows per read and per UPDATE statement', positiveInteger, DEFAULT_BATCH_SIZE)
  .action(({ dryRun, batchSize }: { dryRun?: boolean; batchSize: number }) =>
    withContactTable((db) => runRepair(db, { dryRun: dryRun === true, batchSize }, { out: process.stdout, err: process.stderr })).catch(
      reportFailureOf('repair'),
    ),
  );

const args = process.argv.slice(2);
await program.parseAsync(args.length === 0 ? ['serve'] : args, { from: 'user' });
