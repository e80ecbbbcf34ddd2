/**
 * Seeds a realistic `Contact` table in bulk, entirely inside PostgreSQL (generate_series), so a
 * million customers take seconds, not one request per row.
 *
 * Customer i (1..N) has 1 to 5 rows. Its primary (id i) has email u{i}@bench.io and phone
 * 90{i}; each secondary brings one new identifier (odd: an email, even: a phone). Every tenth
 * customer has emails only, the next one phones only. Secondaries are younger than every
 * primary, so the table satisfies I1–I4 from the start.
 */
import type { Queryable } from '../src/db/database.js';

/** How many rows customer i has: 1..5, about 2 on average. */
export const CONTACTS_SQL = `(ARRAY[1,1,1,1,2,2,2,3,4,5])[1 + (c::bigint * 7919) % 10]`;

export function emailOf(customer: number, k = 0): string | null {
  if (customer % 10 === 1) return null;
  return k === 0 ? `u${customer}@bench.io` : `u${customer}.${k}@bench.io`;
}

export function phoneOf(customer: number, k = 0): string | null {
  if (customer % 10 === 0) return null;
  return k === 0 ? `90${customer}` : `8${customer}0${k}`;
}

/**
 * The phone-region section's phones: every seeded phone made a valid Indian mobile number,
 * `9` and the seeded digits padded to nine, stored in E.164. Seeded phones have at most nine
 * digits up to 999,999 customers.
 */
export const MAX_CUSTOMERS_WITH_INDIAN_PHONES = 999_999;

export async function makePhonesIndian(db: Queryable): Promise<void> {
  await db.query(`UPDATE "Contact" SET "phoneNumber" = '+919' || lpad("phoneNumber", 9, '0') WHERE "phoneNumber" IS NOT NULL`);
  // The update leaves every old row version behind: vacuumed now, not by an autovacuum in the
  // middle of one setting's runs (which would fall on one side of the comparison only).
  await db.query('VACUUM ANALYZE "Contact"');
}

/** A seeded phone as `makePhonesIndian` stores it, written as a shopper types it: `+91 9xxxx xxxxx`. */
export function indianPhoneAsTyped(seeded: string): string {
  const national = `9${seeded.padStart(9, '0')}`;
  return `+91 ${national.slice(0, 5)} ${national.slice(5)}`;
}

export async function seed(db: Queryable, customers: number): Promise<{ rows: number }> {
  await db.query('TRUNCATE "Contact" RESTART IDENTITY');
  await db.query(
    `INSERT INTO "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
     SELECT c,
            CASE WHEN c % 10 = 1 THEN NULL ELSE 'u' || c || '@bench.io' END,
            CASE WHEN c % 10 = 0 THEN NULL ELSE '90' || c END,
            NULL, 'primary', t, t
       FROM generate_series(1, $1::int) AS c,
            LATERAL (SELECT timestamptz '2025-01-01' + c * interval '1 millisecond' AS t) AS clock`,
    [customers],
  );
  await db.query(`SELECT setval(pg_get_serial_sequence('"Contact"', 'id'), $1::int)`, [customers]);
  // Secondary k of customer c: odd k brings a new email, even k a new phone (email-only and
  // phone-only customers get their own kind of identifier only).
  await db.query(
    `INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
     SELECT CASE WHEN c % 10 = 1 THEN NULL
                 WHEN c % 10 = 0 OR k % 2 = 1 THEN 'u' || c || '.' || k || '@bench.io'
                 ELSE 'u' || c || '@bench.io' END,
            CASE WHEN c % 10 = 0 THEN NULL
                 WHEN c % 10 = 1 OR k % 2 = 0 THEN '8' || c || '0' || k
                 ELSE '90' || c END,
            c, 'secondary', t, t
       FROM generate_series(1, $1::int) AS c,
            generate_series(1, 4) AS k,
            LATERAL (SELECT timestamptz '2026-01-01' + (c * 5 + k) * interval '1 millisecond' AS t) AS clock
      WHERE k < ${CONTACTS_SQL}
      ORDER BY c, k`,
    [customers],
  );
  await db.query('ANALYZE "Contact"');
  const [row] = await db.query<{ rows: number }>('SELECT count(*)::int AS rows FROM "Contact"');
  return { rows: row?.rows ?? 0 };
}

/** Rows per customer on average, from CONTACTS_SQL: (4*1 + 3*2 + 3 + 4 + 5) / 10. */
export const ROWS_PER_CUSTOMER = 2.2;

export const BIG_CUSTOMER_EMAIL = 'big@bench.io';

/**
 * One customer with `contacts` rows, newer than all others: a primary and secondaries that each
 * brought a new phone with the same email. Answering it reads and returns every row.
 */
export async function seedBigCustomer(db: Queryable, contacts: number): Promise<void> {
  const [primary] = await db.query<{ id: number }>(
    `INSERT INTO "Contact" ("email", "phoneNumber", "linkPrecedence") VALUES ($1, '5000000', 'primary') RETURNING "id"`,
    [BIG_CUSTOMER_EMAIL],
  );
  await db.query(
    `INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
     SELECT $1, '5000000' || k, $2::int, 'secondary', now() + k * interval '1 millisecond', now() + k * interval '1 millisecond'
       FROM generate_series(1, $3::int - 1) AS k`,
    [BIG_CUSTOMER_EMAIL, primary?.id, contacts],
  );
  await db.query('ANALYZE "Contact"');
}
