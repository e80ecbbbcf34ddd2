/**
 * The operator's command line as a child process (`node --import tsx src/cli.ts …`), and a
 * database for it to work on: a scratch PostgreSQL database when TEST_DATABASE_URL is set, else
 * an embedded PGlite data directory, prepared beforehand and closed (PGlite is one process's).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Queryable } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { openScratchPostgres, postgresUrl } from './databases.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `env` over the parent's environment; an `undefined` value unsets a variable; `input` is its standard input. */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, input?: Buffer): Promise<CliResult> {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [name, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: childEnv,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const [status] = await once(child, 'close');
  return { status: status as number | null, stdout, stderr };
}

export interface CliDatabase {
  /** Which store, for test names. */
  name: 'PostgreSQL' | 'PGlite';
  /** The environment that points the CLI at it. */
  env: Record<string, string | undefined>;
  dispose(): Promise<void>;
}

/** A migrated database filled by `fill`, for CLI processes to open. */
export async function cliDatabase(fill: (db: Queryable) => Promise<void>): Promise<CliDatabase> {
  if (postgresUrl !== undefined) {
    const scratch = await openScratchPostgres(postgresUrl);
    await fill(scratch.db);
    return { name: 'PostgreSQL', env: { DATABASE_URL: scratch.url ?? undefined }, dispose: () => scratch.dispose() };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'identity-cli-'));
  const db = await openDatabase({ kind: 'pglite', dataDir });
  try {
    await migrate(db);
    await fill(db);
  } finally {
    await db.close();
  }
  return {
    name: 'PGlite',
    env: { DATABASE_URL: undefined, DB_HOST: undefined, DB_USER: undefined, DB_PASSWORD: undefined, DB_NAME: undefined, DATA_DIR: dataDir },
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
}
