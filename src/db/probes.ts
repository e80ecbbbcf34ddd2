/** Questions about the database itself, asked before any work on it. */
import type { Queryable } from './database.js';

/** Answers if the database does: what readiness checks. */
export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}

/** Whether the `Contact` table exists (check and repair read one; they never create it). */
export async function hasContactTable(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ table: string | null }>(`SELECT to_regclass('"Contact"')::text AS "table"`);
  return row?.table != null;
}

/** Whether the block list's table exists (migrations/0004): the governance commands need it. */
export async function hasBlocklistTable(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ table: string | null }>(`SELECT to_regclass('"BlockedIdentifier"')::text AS "table"`);
  return row?.table != null;
}
