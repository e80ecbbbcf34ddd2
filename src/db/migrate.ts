/**
 * Forward-only, numbered SQL migrations from `migrations/`, applied in order and recorded in
 * `identity_migrations` with a checksum of each file. A transaction-level advisory lock makes
 * concurrent start-ups of several processes apply each file exactly once (the transaction is
 * READ COMMITTED whatever the server's default, so the one that waited sees what the other did).
 *
 * An applied file never changes: its checksum is compared on every run, and a difference stops
 * start-up, since the database would silently keep the old SQL (the locking protocol lives in
 * these files). Changes ship as new numbered files (`CREATE OR REPLACE`).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { Database, Queryable } from './database.js';

const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);

/**
 * Other texts of a file that databases applied and that count as applied still. 0004 was once
 * edited in place (its GIN indexes given `fastupdate = off`) and that text shipped too; the file
 * is back to its first text, and the difference reaches every database through 0008 (`ALTER INDEX
 * … SET (fastupdate = off)`), so a database that recorded either text is up to date. Never a way to
 * change a file: new changes go in new numbered files.
 */
const SUPERSEDED_CHECKSUMS: Readonly<Record<string, readonly string[]>> = {
  '0004_governance.sql': ['1113565bafd84783551431992769bab875d7b07809f4aed3ff37e5229b789cea'],
};
const MIGRATION_LOCK_KEY = 727_143_001;

export interface MigrationResult {
  applied: string[];
}

/** An applied migration file differs from the one that was applied. */
export class MigrationChangedError extends Error {
  override name = 'MigrationChangedError';
  constructor(readonly file: string) {
    super(
      `migration ${file} was changed after it was applied to this database; restore the applied version and put the change in a new numbered migration`,
    );
  }
}

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export async function migrate(db: Database): Promise<MigrationResult> {
  const files = await readMigrationFiles();
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    const recorded = await recordedChecksums(tx);
    assertUnchanged(files, recorded);
    for (const file of files.filter(({ name }) => recorded.get(name) === null)) {
      // Recorded before checksums existed: the file as it is now is taken as the applied one.
      await tx.query('UPDATE identity_migrations SET checksum = $2 WHERE name = $1', [file.name, file.checksum]);
    }
    for (const file of files.filter(({ name }) => !recorded.has(name))) {
      await tx.exec(file.sql);
      await tx.query('INSERT INTO identity_migrations (name, checksum) VALUES ($1, $2)', [file.name, file.checksum]);
      applied.push(file.name);
    }
  });
  return { applied };
}

/**
 * For a start-up that does not migrate (MIGRATE_ON_START=false): refuses, as `migrate` does, a
 * database on which an applied file has changed. Reads only.
 */
export async function verifyMigrations(db: Queryable): Promise<void> {
  const [table] = await db.query<{ checksums: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.columns
                     WHERE table_name = 'identity_migrations' AND column_name = 'checksum') AS checksums`,
  );
  if (!table?.checksums) return;
  const rows = await db.query<{ name: string; checksum: string | null }>('SELECT name, checksum FROM identity_migrations');
  assertUnchanged(await readMigrationFiles(), new Map(rows.map((row) => [row.name, row.checksum])));
}

function assertUnchanged(files: readonly MigrationFile[], recorded: ReadonlyMap<string, string | null>): void {
  const changed = files.find((file) => {
    const checksum = recorded.get(file.name);
    if (checksum === undefined || checksum === null || checksum === file.checksum) return false;
    return !SUPERSEDED_CHECKSUMS[file.name]?.includes(checksum);
  });
  if (changed) throw new MigrationChangedError(changed.name);
}

async function recordedChecksums(tx: Queryable): Promise<Map<string, string | null>> {
  await tx.exec(`
    CREATE TABLE IF NOT EXISTS identity_migrations (
      name TEXT PRIMARY KEY,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    ALTER TABLE identity_migrations ADD COLUMN IF NOT EXISTS checksum TEXT`);
  const rows = await tx.query<{ name: string; checksum: string | null }>('SELECT name, checksum FROM identity_migrations');
  return new Map(rows.map((row) => [row.name, row.checksum]));
}

async function readMigrationFiles(): Promise<MigrationFile[]> {
  const names = (await readdir(MIGRATIONS_DIR)).filter((name) => /^\d+_.+\.sql$/.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(new URL(name, MIGRATIONS_DIR), 'utf8');
      return { name, sql, checksum: checksumOf(sql) };
    }),
  );
}

/** SHA-256 of the file with its line endings made `\n`, so a checkout on Windows is the same file. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}
