/**
 * Forward-only, numbered SQL migrations from `migrations/`, applied in order and recorded in
 * `identity_migrations`. A transaction-level advisory lock makes concurrent start-ups of several
 * processes apply each file exactly once.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Database } from './database.js';

const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);
const MIGRATION_LOCK_KEY = 727_143_001;

export interface MigrationResult {
  applied: string[];
}

export async function migrate(db: Database): Promise<MigrationResult> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((name) => /^\d+_.+\.sql$/.test(name)).sort();
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS identity_migrations (
      name TEXT PRIMARY KEY,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const done = new Set((await tx.query<{ name: string }>('SELECT name FROM identity_migrations')).map((row) => row.name));
    for (const name of files.filter((file) => !done.has(file))) {
      await tx.exec(await readFile(new URL(name, MIGRATIONS_DIR), 'utf8'));
      await tx.query('INSERT INTO identity_migrations (name) VALUES ($1)', [name]);
      applied.push(name);
    }
  });
  return { applied };
}
