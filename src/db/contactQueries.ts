/**
 * All SQL the identify use case runs against `Contact`, in one place. Every statement is an
 * index lookup on live rows (email, phoneNumber, linkedId or the primary key), so its cost grows
 * with the customers involved, never with the table.
 */
import type { Contact, Identifiers } from '../identity/contact.js';
import type { Queryable } from './database.js';

const COLUMNS = `"id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt"`;

/**
 * Every live row of every customer owning the email or the phone, in row order. One statement,
 * so one snapshot: the answer of the read-only path is consistent without a transaction.
 */
export const FIND_CUSTOMERS_SQL = `
WITH owners AS (
  SELECT COALESCE("linkedId", "id") AS "primaryId" FROM "Contact"
   WHERE "deletedAt" IS NULL AND "email" = $1::text
  UNION
  SELECT COALESCE("linkedId", "id") FROM "Contact"
   WHERE "deletedAt" IS NULL AND "phoneNumber" = $2::text
)
SELECT ${COLUMNS} FROM "Contact"
 WHERE "deletedAt" IS NULL AND "id" IN (SELECT "primaryId" FROM owners)
UNION ALL
SELECT ${COLUMNS} FROM "Contact"
 WHERE "deletedAt" IS NULL AND "linkedId" IN (SELECT "primaryId" FROM owners)
ORDER BY "createdAt", "id"`;

export function findCustomers(db: Queryable, request: Identifiers): Promise<Contact[]> {
  return db.query<Contact>(FIND_CUSTOMERS_SQL, [request.email, request.phoneNumber]);
}

/**
 * Transaction-scoped advisory locks on the request's identifiers, taken in a fixed order. They
 * serialise every request that could create a row with the same email or phone, including two
 * first orders of a brand-new customer, which no row lock could (there is no row yet).
 */
export async function lockIdentifiers(tx: Queryable, request: Identifiers): Promise<void> {
  const keys = [request.email && `email:${request.email}`, request.phoneNumber && `phone:${request.phoneNumber}`];
  await tx.query(
    `SELECT pg_advisory_xact_lock(key) FROM (
       SELECT DISTINCT hashtextextended(identifier, 0) AS key FROM unnest($1::text[]) AS identifier
        WHERE identifier IS NOT NULL ORDER BY key
     ) AS ordered`,
    [keys.filter((key): key is string => Boolean(key))],
  );
}

/**
 * Row locks on primaries, in id order. Every write to a customer holds its primary's lock, so
 * once held the customer's rows cannot change under us until commit.
 */
export async function lockPrimaries(tx: Queryable, primaryIds: readonly number[]): Promise<void> {
  await tx.query(`SELECT 1 FROM "Contact" WHERE "id" = ANY($1::int[]) ORDER BY "id" FOR UPDATE`, [primaryIds]);
}

/** Inserts one row; `createdAt` is the clock after the locks are held, not the transaction start. */
export async function insertContact(tx: Queryable, identifiers: Identifiers, primaryId: number | null): Promise<Contact> {
  const [row] = await tx.query<Contact>(
    `INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
     SELECT $1::text, $2::text, $3::int, $4, now, now FROM (SELECT clock_timestamp() AS now) AS clock
     RETURNING ${COLUMNS}`,
    [identifiers.email, identifiers.phoneNumber, primaryId, primaryId === null ? 'primary' : 'secondary'],
  );
  if (row === undefined) throw new Error('INSERT returned no row');
  return row;
}

/** Demotes primaries and re-points all their secondaries straight at the survivor: no chains. */
export async function relinkCustomers(tx: Queryable, survivorId: number, demotedPrimaryIds: readonly number[]): Promise<Date> {
  const [row] = await tx.query<{ now: Date }>(
    `WITH clock AS (SELECT clock_timestamp() AS now),
     moved AS (
       UPDATE "Contact" SET "linkedId" = $1, "linkPrecedence" = 'secondary', "updatedAt" = clock.now
         FROM clock
        WHERE "deletedAt" IS NULL AND ("id" = ANY($2::int[]) OR "linkedId" = ANY($2::int[]))
       RETURNING 1
     )
     SELECT now FROM clock`,
    [survivorId, demotedPrimaryIds],
  );
  if (row === undefined) throw new Error('relink returned no clock');
  return row.now;
}
