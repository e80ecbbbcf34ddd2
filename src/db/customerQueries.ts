/**
 * The read API's SQL: one customer's live rows, all columns, in row order — found by its
 * identifiers (the same function `/identify` reads through) or by any of its contacts' ids. Each
 * is one statement, so one snapshot, and reads only; no locks, no transaction.
 */
import type { Contact, Identifiers } from '../identity/contact.js';
import type { Queryable } from './database.js';

const CONTACT_COLUMNS = '"id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt"';

/** Every live row of every customer owning the email or the phone (there may be two customers). */
export function findCustomerRows(db: Queryable, { email, phoneNumber }: Identifiers): Promise<Contact[]> {
  return db.query<Contact>(`SELECT ${CONTACT_COLUMNS} FROM identity_customer_rows($1::text, $2::text)`, [email, phoneNumber]);
}

/**
 * Every live row of the customer owning live contact `id`. Columns cast as in
 * `identity_customer_rows`, so that an adopted table with other column types reads the same.
 */
export function findCustomerRowsOfContact(db: Queryable, id: number): Promise<Contact[]> {
  return db.query<Contact>(
    `WITH owner AS (
       SELECT COALESCE("linkedId", "id") AS "primaryId" FROM "Contact" WHERE "id" = $1::int AND "deletedAt" IS NULL
     ), live AS (
       SELECT * FROM "Contact" WHERE "deletedAt" IS NULL AND "id" IN (SELECT "primaryId" FROM owner)
       UNION ALL
       SELECT * FROM "Contact" WHERE "deletedAt" IS NULL AND "linkedId" IN (SELECT "primaryId" FROM owner)
     )
     SELECT "id"::int, "email"::text, "phoneNumber"::text, "linkedId"::int, "linkPrecedence"::text,
            "createdAt"::timestamptz, "updatedAt"::timestamptz
       FROM live ORDER BY "createdAt", "id"`,
    [id],
  );
}
