/**
 * Set-based checks of the table's invariants over live rows. Used by the concurrency tests (and,
 * later, an operator's `check` command), so each is one plain SQL statement that runs on
 * PostgreSQL and PGlite alike and scales with the table, not with its square.
 */
import type { Queryable } from './database.js';

export type InvariantName = 'I1' | 'I2' | 'I3' | 'I4';

export interface InvariantResult {
  invariant: InvariantName;
  description: string;
  /** How many rows break it. */
  count: number;
  /** Up to five ids of such rows, lowest first. */
  examples: number[];
}

const LIVE = `live AS (
  SELECT "id", "email", "phoneNumber", "createdAt", "linkedId", COALESCE("linkedId", "id") AS owner
    FROM "Contact" WHERE "deletedAt" IS NULL
)`;

/** Each query selects the ids of the rows that break one invariant. */
const CHECKS: { invariant: InvariantName; description: string; offendingIds: string }[] = [
  {
    invariant: 'I1',
    description: 'a row is neither a primary with no link nor a secondary linked to a live primary',
    offendingIds: `
      SELECT c."id" FROM "Contact" c LEFT JOIN "Contact" p ON p."id" = c."linkedId"
       WHERE c."deletedAt" IS NULL AND NOT COALESCE(
         (c."linkPrecedence" = 'primary' AND c."linkedId" IS NULL) OR
         (c."linkPrecedence" = 'secondary' AND p."id" IS NOT NULL AND p."deletedAt" IS NULL
           AND p."linkedId" IS NULL AND p."linkPrecedence" = 'primary'),
         false)`,
  },
  {
    invariant: 'I2',
    description: 'a row shares an email or phone with a row of another customer',
    offendingIds: `
      WITH ${LIVE},
      owners AS (
        SELECT "id",
          "email" IS NOT NULL AND min(owner) OVER by_email <> max(owner) OVER by_email AS email_split,
          "phoneNumber" IS NOT NULL AND min(owner) OVER by_phone <> max(owner) OVER by_phone AS phone_split
        FROM live
        WINDOW by_email AS (PARTITION BY "email"), by_phone AS (PARTITION BY "phoneNumber")
      )
      SELECT "id" FROM owners WHERE email_split OR phone_split`,
  },
  {
    invariant: 'I3',
    description: "a customer's primary is not its oldest row by (createdAt, id)",
    offendingIds: `
      WITH ${LIVE},
      oldest AS (SELECT DISTINCT ON (owner) owner, "id" FROM live ORDER BY owner, "createdAt", "id")
      -- Owners that are not live primaries are I1's to report; judging them here would double-count.
      SELECT owner AS "id" FROM oldest
       WHERE "id" <> owner AND owner IN (SELECT "id" FROM live WHERE "linkedId" IS NULL)`,
  },
  {
    invariant: 'I4',
    description: 'a row after the first of its customer brings no email or phone the earlier rows lack',
    offendingIds: `
      WITH ${LIVE},
      ranked AS (
        SELECT "id", "email", "phoneNumber",
          row_number() OVER (PARTITION BY owner ORDER BY "id") AS position,
          row_number() OVER (PARTITION BY owner, "email" ORDER BY "id") AS email_seen,
          row_number() OVER (PARTITION BY owner, "phoneNumber" ORDER BY "id") AS phone_seen
        FROM live
      )
      SELECT "id" FROM ranked
       WHERE position > 1 AND ("email" IS NULL OR email_seen > 1) AND ("phoneNumber" IS NULL OR phone_seen > 1)`,
  },
];

export async function checkInvariants(db: Queryable): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  for (const { invariant, description, offendingIds } of CHECKS) {
    const rows = await db.query<{ id: number; total: number }>(
      `SELECT "id", (count(*) OVER ())::int AS total FROM (${offendingIds}) AS offending ORDER BY "id" LIMIT 5`,
    );
    results.push({ invariant, description, count: rows[0]?.total ?? 0, examples: rows.map((row) => row.id) });
  }
  return results;
}

export function totalViolations(results: readonly InvariantResult[]): number {
  return results.reduce((sum, result) => sum + result.count, 0);
}
