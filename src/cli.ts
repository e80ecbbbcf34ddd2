#!/usr/bin/env node
/**
 * `identity-service [serve|migrate|check|repair|export|import|erase|block|unblock|blocked|suspects|unmerge|separations|unseparate]`:
 * what `npm start` and `npm run migrate` run, the operator's tools for the table's invariants, the
 * block list, and unmerges.
 * Exit status 2 means a bad command line (or a rule the block list cannot hold).
 */
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { governanceStore, unmergeStore } from './db/governanceStore.js';
import { tableNormaliser } from './db/normalFormStore.js';
import { migrate } from './db/migrate.js';
import { hasBlocklistTable, hasContactTable } from './db/probes.js';
import { MAX_SUSPECTS } from './http/adminSchemas.js';
import { MAX_CONTACT_ID } from './http/schemas.js';
import { PRESETS } from './identity/blocklistPreset.js';
import { createGovernanceService, InvalidRuleError, type ChangeContext, type GovernanceService } from './identity/governance.js';
import { reportStartupFailure, serve } from './main.js';
import { blockRequestFrom, runBlock, runUnblock, type BlockOptions } from './maintenance/blockCommand.js';
import { runCheck } from './maintenance/checkCommand.js';
import { runExport, type ExportFormat } from './maintenance/exportCommand.js';
import { DEFAULT_CHUNK_SIZE } from './maintenance/import.js';
import { runImport } from './maintenance/importCommand.js';
import { eraseTargetFrom, runErase, type EraseOptions } from './maintenance/eraseCommand.js';
import { createErasureService } from './identity/erasure.js';
import { runBlocked, runSuspects } from './maintenance/listCommands.js';
import { DEFAULT_BATCH_SIZE } from './maintenance/repair.js';
import { runRepair } from './maintenance/repairCommand.js';
import { runRenormalize } from './maintenance/renormalizeCommand.js';
import { runSeparations, runUnmerge, runUnseparate, unmergeTargetFrom, type UnmergeOptions } from './maintenance/unmergeCommand.js';
import { createUnmergeService, type UnmergeService } from './identity/unmerge.js';
import { DEFAULT_RENORMALIZE_BATCH } from './identity/renormalize.js';

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

/** `withContactTable` for the block list's commands: the governance tables must exist too (migrations/0004). */
function withGovernanceTables(work: (db: Database) => Promise<number>): Promise<void> {
  return withContactTable(async (db) => {
    if (!(await hasBlocklistTable(db))) {
      throw new Error('the database has no "BlockedIdentifier" table (the block list): run `identity-service migrate` first');
    }
    return work(db);
  });
}

/** The governance use cases over the table, with its own normal-form rules (exact rules are stored in them). */
function withGovernance(work: (governance: GovernanceService) => Promise<number>): Promise<void> {
  return withGovernanceTables(async (db) => work(createGovernanceService(governanceStore(db), { normaliser: await tableNormaliser(db) })));
}

/** The unmerge use cases over the table (the separations live with the block list's tables). */
function withUnmerge(work: (unmerge: UnmergeService) => Promise<number>): Promise<void> {
  return withGovernanceTables((db) => work(createUnmergeService(unmergeStore(db))));
}

/**
 * Who changed the block list, kept with each rule it adds: `cli:` and the operator's login name,
 * as the shell has it ($USER, $LOGNAME), else the OS account's (a container may set neither).
 */
function cliContext(): ChangeContext {
  let user = process.env.USER || process.env.LOGNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      // No passwd entry for this uid (a container started with an arbitrary user).
      user = `uid ${process.getuid?.() ?? 'unknown'}`;
    }
  }
  return { addedBy: `cli:${user}`.slice(0, 100), requestId: null };
}

/** A bad command line found by a command itself: the one-line message commander's own errors have, exit 2. */
function usageError(message: string): never {
  process.stderr.write(`error: ${message}\n(run with --help for usage)\n`);
  process.exit(USAGE_ERROR);
}

/**
 * Configuration errors read as at start-up; a rule the block list cannot hold (found only once the
 * database read the pattern) as a bad command line; anything else names the command that failed.
 */
function reportFailureOf(command: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof ConfigError) reportStartupFailure(error);
    if (error instanceof InvalidRuleError) usageError(error.message);
    process.stderr.write(`${command} failed: ${(error as Error).message ?? error}\n`);
    process.exit(1);
  };
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError('must be a positive integer.');
  return number;
}

function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(number)) throw new InvalidArgumentError('must be a non-negative integer.');
  return number;
}

/** A parser of a row id, 1 to `max` (PostgreSQL's int4 maximum unless said), whose error says what it `mustBe`. */
function idOf(mustBe: string, max = MAX_CONTACT_ID): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^[0-9]+$/.test(value) || number < 1 || number > max) throw new InvalidArgumentError(`must be ${mustBe}.`);
    return number;
  };
}

const ruleId = idOf('a rule id (`blocked` lists them)');
const separationId = idOf('a separation id (`separations` lists them)');
/** Event ids are bigint: any safe integer. */
const eventId = idOf('the id of a customer.merged event (GET /customers/{id}/history lists them)', Number.MAX_SAFE_INTEGER);

/** `--contacts 2,3`: a contact of each side the merge joined. */
function contactPair(value: string): [number, number] {
  const ids = value.split(',').map(Number);
  if (ids.length !== 2 || ids.some((id) => !Number.isSafeInteger(id) || id < 1 || id > MAX_CONTACT_ID))
    throw new InvalidArgumentError('must be two contact ids separated by a comma, as in 2,3.');
  return ids as [number, number];
}

function suspectsLimit(value: string): number {
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number < 1 || number > MAX_SUSPECTS) throw new InvalidArgumentError(`must be 1 to ${MAX_SUSPECTS}.`);
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
  .command('export')
  .summary("write the table's live rows (or a customer's) as past checkouts: CSV or NDJSON, what `import` reads")
  .description(
    'write the live rows of the Contact table, or of one customer, in id order, as CSV with a header or as NDJSON: email, ' +
      'phoneNumber, createdAt (ISO 8601), and id, linkedId, linkPrecedence (which an import ignores). FILE ending in .gz is ' +
      'gzipped; without FILE (or with -), standard output',
  )
  .argument('[file]', 'where to write (default: standard output)')
  .addOption(new Option('--format <format>', 'csv or ndjson').choices(['csv', 'ndjson']).default('csv'))
  .option('--customer <id>', 'only the customer of this contact', positiveInteger)
  .action((file: string | undefined, options: { format: ExportFormat; customer?: number }) =>
    withContactTable((db) =>
      runExport(
        db,
        file,
        { format: options.format, customerOf: options.customer ?? null },
        { stdout: process.stdout, err: process.stderr },
      ),
    ).catch(reportFailureOf('export')),
  );

program
  .command('import')
  .summary('import past checkouts (CSV or NDJSON, gzip accepted): the table becomes what /identify would have made of them in time order')
  .description(
    'import past checkouts from FILE (- for standard input): CSV with a header or NDJSON, gzipped or not, with email, phoneNumber ' +
      'and createdAt (ISO 8601); other columns are ignored. The table afterwards is what it would be had every existing row and every ' +
      'checkout been sent to /identify one at a time in createdAt order (docs/import.md). Bad lines go to the reject file by line ' +
      'number and reason, and are skipped. Runs in chunks while the service serves; resumable after a crash or Ctrl-C',
  )
  .argument('<file>', 'the checkouts (- for standard input)')
  .option('--dry-run', 'replay every chunk, print what would change, roll it back')
  .option('--reject <file>', 'where bad lines are listed (default: FILE.rejects.csv; none for standard input)')
  .option('--max-errors <n>', 'stop, writing nothing, when more than this many lines are bad (default: no limit)', nonNegativeInteger)
  .option('--chunk-size <n>', `checkouts per transaction, whole customers each (default: ${DEFAULT_CHUNK_SIZE})`, positiveInteger)
  .action((file: string, options: { dryRun?: boolean; reject?: string; maxErrors?: number; chunkSize?: number }) =>
    withGovernanceTables((db) => {
      const stopAfter = process.env.IDENTITY_IMPORT_STOP_AFTER;
      return runImport(
        db,
        {
          file,
          dryRun: options.dryRun === true,
          reject: options.reject ?? null,
          maxErrors: options.maxErrors ?? Number.POSITIVE_INFINITY,
          chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
          maxCustomerContacts: loadConfig().governance.maxCustomerContacts,
          ...(stopAfter === undefined ? {} : { stopAfterChunks: Number(stopAfter) }),
        },
        { out: process.stdout, err: process.stderr },
      );
    }).catch(reportFailureOf('import')),
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
  .option(
    '--batch-size <rows>',
    `rows per read and per UPDATE statement (default: ${DEFAULT_BATCH_SIZE}); with --renormalize, rows per transaction (default: ${DEFAULT_RENORMALIZE_BATCH})`,
    positiveInteger,
  )
  .option(
    '--renormalize',
    'move the table to the rules DEFAULT_PHONE_REGION and EMAIL_CANONICAL_FORM set now: rewrite stored values, join the customers ' +
      'that become one; in batches, while the service serves (docs/normal-forms.md)',
  )
  .action(({ dryRun, batchSize, renormalize }: { dryRun?: boolean; batchSize?: number; renormalize?: boolean }) => {
    const streams = { out: process.stdout, err: process.stderr };
    if (renormalize && dryRun) usageError('--dry-run cannot be combined with --renormalize');
    const run = renormalize
      ? withGovernanceTables((db) =>
          runRenormalize(db, { target: loadConfig().normalForm, batchSize: batchSize ?? DEFAULT_RENORMALIZE_BATCH }, streams),
        )
      : withContactTable((db) => runRepair(db, { dryRun: dryRun === true, batchSize: batchSize ?? DEFAULT_BATCH_SIZE }, streams));
    return run.catch(reportFailureOf('repair'));
  });

program
  .command('block')
  .summary('block an email, a phone, a domain or a pattern: it links nothing from now on, and the customers it held together split')
  .description(
    'add a rule to the block list: a blocked value matches nothing and is never stored, and the customers it held together ' +
      'split into the parts their other values connect (in one transaction, as the admin API does). Give exactly one of ' +
      "--email, --phone, --domain, --pattern (with --field) or --preset; every rule but a preset's needs --reason",
  )
  .option('--email <email>', 'one email, normalised as requests are')
  .option('--phone <phone>', 'one phone number, normalised as requests are')
  .option('--domain <domain>', 'every email at this domain')
  .option('--pattern <regex>', 'every value of --field matching this regular expression (docs/cli.md says which syntax)')
  .addOption(new Option('--field <field>', 'the field --pattern blocks').choices(['email', 'phoneNumber']))
  .option('--reason <text>', 'why, kept with the rule')
  .addOption(
    new Option('--preset <name>', "add the preset's rules that are missing, each with its own reason").choices(Object.keys(PRESETS)),
  )
  .action((options: BlockOptions) => {
    const request = blockRequestFrom(options);
    if (!request.ok) usageError(request.message);
    return withGovernance((governance) => runBlock(governance, request.value, cliContext(), process.stdout)).catch(
      reportFailureOf('block'),
    );
  });

program
  .command('erase')
  .summary("erase a contact, a customer, or everyone's rows holding an email or a phone: the values are forgotten everywhere")
  .description(
    'erase rows (right to be forgotten): their email and phone become NULL and they get deletedAt; the values they held are ' +
      'removed from every other row, the event log and exact block rules; what they alone held together splits (as the admin API ' +
      'does, under the governance lock). Give exactly one of --email, --phone, --contact, --customer (any contact id of the customer)',
  )
  .option('--email <email>', "every row holding this email (normalised by the table's rules)")
  .option('--phone <phone>', "every row holding this phone number (normalised by the table's rules)")
  .option('--contact <id>', 'one contact', positiveInteger)
  .option('--customer <id>', 'every row of the customer of this contact', positiveInteger)
  .action((options: EraseOptions) =>
    withGovernanceTables(async (db) => {
      const target = eraseTargetFrom(options, await tableNormaliser(db));
      if (!target.ok) usageError(target.message);
      const erasure = createErasureService(governanceStore(db));
      return runErase(erasure, target.value, cliContext(), { out: process.stdout, err: process.stderr });
    }).catch(reportFailureOf('erase')),
  );

program
  .command('unblock')
  .summary('remove a rule: the customers that share its values again are joined')
  .description('remove block rule <id>; the customers that share its values again are joined, by the usual rules, in one transaction')
  .argument('<id>', 'the rule (`blocked` lists them)', ruleId)
  .action((id: number) =>
    withGovernance((governance) => runUnblock(governance, id, cliContext(), { out: process.stdout, err: process.stderr })).catch(
      reportFailureOf('unblock'),
    ),
  );

program
  .command('blocked')
  .description('list the block list: id, field, match, value, reason, addedBy, createdAt')
  .option('--json', 'print the list as one JSON object')
  .action((options: { json?: boolean }) =>
    withGovernance((governance) => runBlocked(governance, options, process.stdout)).catch(reportFailureOf('blocked')),
  );

program
  .command('suspects')
  .summary('the emails and phones held by the most rows: what to consider blocking')
  .description(
    'for each field, the values held by the most live rows, with how many customers hold them, the size of the largest, ' +
      'and whether they are blocked',
  )
  .option('--limit <values>', `values per field, 1 to ${MAX_SUSPECTS}`, suspectsLimit, 20)
  .option('--json', 'print the list as one JSON object')
  .action((options: { limit: number; json?: boolean }) =>
    withGovernance((governance) => runSuspects(governance, options, process.stdout)).catch(reportFailureOf('suspects')),
  );

program
  .command('unmerge')
  .summary('undo a logged merge: its two sides become customers again, and a separation keeps requests from joining them')
  .description(
    'undo a logged merge of the customer of contact <contact>, as the admin API does: the two sides it joined become ' +
      'customers again (each its oldest row primary) and a separation keeps later requests from joining them, in one ' +
      'transaction under the governance lock. Give exactly one of --merge (the customer.merged event) or --contacts (a ' +
      'contact of each side). Writes nothing, exit 1, when something else still holds the sides together, and says what',
  )
  .argument('<contact>', 'any contact id of the customer', positiveInteger)
  .option('--merge <eventId>', 'the customer.merged event to undo', eventId)
  .option('--contacts <a,b>', 'a contact of each side: the merge that joined them is found', contactPair)
  .action((contact: number, options: UnmergeOptions) => {
    const target = unmergeTargetFrom(options);
    if (!target.ok) usageError(target.message);
    return withUnmerge((unmerge) =>
      runUnmerge(unmerge, contact, target.value, cliContext(), { out: process.stdout, err: process.stderr }),
    ).catch(reportFailureOf('unmerge'));
  });

program
  .command('separations')
  .description('list the separations (customers requests may not join again): id, contacts, mergeEventId, addedBy, createdAt')
  .option('--json', 'print the list as one JSON object')
  .action((options: { json?: boolean }) =>
    withUnmerge((unmerge) => runSeparations(unmerge, options, process.stdout)).catch(reportFailureOf('separations')),
  );

program
  .command('unseparate')
  .summary('remove a separation: nothing is joined by it, but the next request carrying both sides may')
  .description(
    'remove separation <id>; nothing is merged by it: the next request carrying identifiers of both sides joins them by the usual rules',
  )
  .argument('<id>', 'the separation (`separations` lists them)', separationId)
  .action((id: number) =>
    withUnmerge((unmerge) => runUnseparate(unmerge, id, cliContext(), { out: process.stdout, err: process.stderr })).catch(
      reportFailureOf('unseparate'),
    ),
  );

const args = process.argv.slice(2);
await program.parseAsync(args.length === 0 ? ['serve'] : args, { from: 'user' });
