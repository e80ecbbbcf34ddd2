/**
 * The suspects report in seconds on a million rows: the values held by the most live rows, per
 * field, with the customers holding them. Each customer holding a top value is sized once, by
 * the two indexed lookups that `COALESCE("linkedId", "id") = owner` means (its secondaries, and
 * itself if it is a live primary): that expression itself has no index, and a junk value that
 * thousands of customers hold (a blocked placeholder) made it thousands of full scans, minutes
 * on a million rows (bench/suspects.ts).
 */
import type { IdentifierField } from '../identity/normalise.js';
import type { Suspect } from '../identity/store.js';
import type { Queryable } from './database.js';
import { live, ownerOf } from './sql.js';

function suspectsOf(field: IdentifierField): string {
  const column = `"${field}"`;
  return `
    WITH top AS (
      SELECT ${column} AS value, count(*)::int AS contacts FROM "Contact"
       WHERE ${live()} AND ${column} IS NOT NULL
       GROUP BY ${column} ORDER BY count(*) DESC, ${column} LIMIT $1
    ), holders AS (
      SELECT DISTINCT t.value, ${ownerOf('c')} AS owner
        FROM top AS t JOIN "Contact" AS c ON c.${column} = t.value AND ${live('c')}
    ), sizes AS (
      SELECT o.owner,
             (SELECT count(*) FROM "Contact" AS m WHERE ${live('m')} AND m."linkedId" = o.owner)
             + (SELECT count(*) FROM "Contact" AS m WHERE ${live('m')} AND m."id" = o.owner AND m."linkedId" IS NULL) AS size
        FROM (SELECT DISTINCT owner FROM holders) AS o
    )
    SELECT '${field}' AS field, t.value, t.contacts, count(*)::int AS customers, max(s.size)::int AS "largestCustomer",
           identity_is_blocked('${field}', t.value) AS blocked
      FROM top AS t JOIN holders AS h ON h.value = t.value JOIN sizes AS s ON s.owner = h.owner
     GROUP BY t.value, t.contacts
     ORDER BY t.contacts DESC, t.value`;
}

const QUERIES = { email: suspectsOf('email'), phoneNumber: suspectsOf('phoneNumber') };

/** The `limit` values of each field held by the most live rows, most first, emails then phones. */
export async function suspects(db: Queryable, limit: number): Promise<Suspect[]> {
  const ranked = await Promise.all((['email', 'phoneNumber'] as const).map((field) => db.query<Suspect>(QUERIES[field], [limit])));
  return ranked.flat();
}
