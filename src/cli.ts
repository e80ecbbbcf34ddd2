#!/usr/bin/env node
/** `identity-service [serve|migrate]`: what `npm start` and `npm run migrate` run. */
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { reportStartupFailure, serve } from './main.js';

const USAGE = `Usage: identity-service <command>

Commands:
  serve     run the HTTP service (default)
  migrate   apply pending database migrations and exit

Configuration comes from the environment and .env (see README).`;

async function runMigrations(): Promise<void> {
  const db = await openDatabase(loadConfig().database);
  try {
    const { applied } = await migrate(db);
    process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await db.close();
  }
}

function parseCommandLine(): { command: string; help: boolean } {
  try {
    const { positionals, values } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
    return { command: positionals[0] ?? 'serve', help: values.help === true };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
}

const { command, help } = parseCommandLine();
if (help) {
  process.stdout.write(`${USAGE}\n`);
} else if (command === 'serve') {
  serve().catch(reportStartupFailure);
} else if (command === 'migrate') {
  runMigrations().catch(reportStartupFailure);
} else {
  process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
  process.exitCode = 2;
}
