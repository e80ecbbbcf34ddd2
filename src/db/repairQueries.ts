/**
 * The repair's SQL: one lock, a paged read of every live row, and batched writes of the fixes.
 * The loops around them (pages, batches, progress) are the repair's own (`maintenance/repair.ts`).
 */
import type { Queryable } from './database.js';
import { GOVERNANCE_LOCK_KEY } from './governanceStore.js';
import { live } from './sql.js';

/**
 * EXCLUSIVE, not SHARE ROW EXCLUSIVE: both let plain reads (the service's lookups) go on and make
 * writes wait, but SHARE ROW EXCLUSIVE lets `identity_apply_plan` take its `FOR UPDATE` row
 * locks on primaries and then wait for the table while holding them; the repair, updating such a
 * primary, then waits for it, and one of the two dies of a deadlock (tested). EXCLUSIVE stops the
 * service's write at its first row lock, before it reads, so it then decides on the repaired table.
 */
export const LOCK_CONTACTS = 'LOCK TABLE "Contact" IN EXCLUSIVE MODE';

/**
 * The governance lock exclusively, then the table. The repair writes links, as a block or an
 * unblock does, so it must not overlap one, nor an /identify write decided with an older block
 * list. And in this order: a block holds the governance lock and then updates rows, so a repair
 * holding the table while it waited for the governance lock would deadlock with it (tested).
 * /identify writes take the governance lock (shared) first too, so they wait here before they
 * hold anything the repair needs.
 */
export async function lockForRepair(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [GOVERNANCE_LOCK_KEY]);
  await tx.query(LOCK_CONTACTS);
}

/** A live row as the repair plans on it. */
export interface StoredContact {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  linkedId: number | null;
  linkPrecedence: 'primary' | 'secondary';
  /**
   * Microseconds since the epoch, timestamptz's own precision: the service creates rows
   * microseconds apart, and a millisecond Date would tie (and so misorder) them.
   */
  createdAt: number;
}

export async function countLiveRows(tx: Queryable): Promise<number> {
  const [count] = await tx.query<{ live: number }>(`SELECT count(*)::int AS live FROM "Contact" WHERE ${live()}`);
  return count?.live ?? 0;
}

/** Up to `limit` live rows with ids above `afterId`, by id: keyset paging, no offset to rescan. */
export async function readLiveRowsPage(tx: Queryable, afterId: number, limit: number): Promise<StoredContact[]> {
  const page = await tx.query<Omit<StoredContact, 'createdAt'> & { createdAt: string }>(
    `SELECT "id", "email", "phoneNumber", "linkedId", "linkPrecedence",
            (extract(epoch FROM "createdAt") * 1000000)::bigint AS "createdAt"
       FROM "Contact" WHERE ${live()} AND "id" > $1 ORDER BY "id" LIMIT $2`,
    [afterId, limit],
  );
  // bigint comes from `pg` as a string.
  return page.map((row) => ({ ...row, createdAt: Number(row.createdAt) }));
}

/** One row's fix: its new link, its normalised values, or both. */
export interface RowFix {
  id: number;
  link?: { linkedId: number | null; linkPrecedence: 'primary' | 'secondary' };
  values?: { email: string | null; phoneNumber: string | null };
}

/** One statement for a batch of fixes; a row keeps what its fix does not change (its link, or its values). */
export async function writeRowFixes(tx: Queryable, batch: readonly RowFix[]): Promise<void> {
  await tx.query(
    `UPDATE "Contact" AS c
        SET "linkedId" = CASE WHEN u.relink THEN u.linked ELSE c."linkedId" END,
            "linkPrecedence" = CASE WHEN u.relink THEN u.precedence ELSE c."linkPrecedence" END,
            "email" = CASE WHEN u.normalise THEN u.email ELSE c."email" END,
            "phoneNumber" = CASE WHEN u.normalise THEN u.phone ELSE c."phoneNumber" END,
            "updatedAt" = clock_timestamp()
       FROM unnest($1::int[], $2::boolean[], $3::int[], $4::text[], $5::boolean[], $6::text[], $7::text[])
              AS u(id, relink, linked, precedence, normalise, email, phone)
      WHERE c."id" = u.id`,
    [
      batch.map((fix) => fix.id),
      batch.map((fix) => fix.link !== undefined),
      batch.map((fix) => fix.link?.linkedId ?? null),
      batch.map((fix) => fix.link?.linkPrecedence ?? null),
      batch.map((fix) => fix.values !== undefined),
      batch.map((fix) => fix.values?.email ?? null),
      batch.map((fix) => fix.values?.phoneNumber ?? null),
    ],
  );
}
