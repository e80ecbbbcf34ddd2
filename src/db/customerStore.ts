/**
 * The read API's SQL: one customer's live rows, all columns, in row order — found by its
 * identifiers (the same function `/identify` reads through) or by any of its contacts' ids. Each
 * is one statement, so one snapshot, and reads only; no locks, no transaction.
 */
import type { Contact, Identifiers } from '../identity/contact.js';
import type { CustomerStore } from '../identity/store.js';
import type { Queryable } from './database.js';
import { CONTACT_COLUMNS, live, rowOrder } from './sql.js';

/** Every live row of every customer owning the email or the phone (there may be two customers). */
function findCustomerRows(db: Queryable, { email, phoneNumber }: Identifiers): Promise<Contact[]> {
  return db.query<Contact>(`SELECT ${CONTACT_COLUMNS} FROM identity_customer_rows($1::text, $2::text)`, [email, phoneNumber]);
}

const CONTACT_COLUMNS_OF_R = CONTACT_COLUMNS.split(', ')
  .map((column) => `r.${column}`)
  .join(', ');

/**
 * Every live row of every customer owning live contact `id`'s email or phone (through the same
 * function as `/identify`), the contact's own customer among them; on a table that keeps the
 * invariants there is no other.
 */
function findCustomerRowsOfContact(db: Queryable, id: number): Promise<Contact[]> {
  return db.query<Contact>(
    `SELECT ${CONTACT_COLUMNS_OF_R}
       FROM "Contact" AS c
      CROSS JOIN LATERAL identity_customer_rows(c."email"::text, c."phoneNumber"::text) AS r
      WHERE c."id" = $1::int AND ${live('c')}
      ORDER BY ${rowOrder('r')}`,
    [id],
  );
}

export function customerStore(db: Queryable): CustomerStore {
  return {
    findCustomerRows: (identifiers) => findCustomerRows(db, identifiers),
    findCustomerRowsOfContact: (id) => findCustomerRowsOfContact(db, id),
  };
}
