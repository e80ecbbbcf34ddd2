/**
 * The suspects report as the governance store first wrote it: the plain definition, each holder's
 * customer counted by `COALESCE("linkedId", "id") = owner`. No index serves that, so it scans the
 * table once per customer holding a top value (minutes on a million rows with a blocked
 * placeholder); kept as the reference that src/db/suspectsQuery.ts must equal, and as the
 * "before" of bench/suspects.ts.
 */
import type { Queryable } from '../../src/db/database.js';
import { live, ownerOf } from '../../src/db/sql.js';
import type { Suspect } from '../../src/identity/store.js';

export async function referenceSuspects(db: Queryable, limit: number): Promise<Suspect[]> {
  const ranked = await Promise.all(
    (['email', 'phoneNumber'] as const).map((field) =>
      db.query<Suspect>(
        `WITH top AS (
           SELECT "${field}" AS value, count(*)::int AS contacts FROM "Contact"
            WHERE ${live()} AND "${field}" IS NOT NULL
            GROUP BY "${field}" ORDER BY count(*) DESC, "${field}" LIMIT $1
         ), holders AS (
           SELECT t.value, ${ownerOf('c')} AS owner FROM top AS t
             JOIN "Contact" AS c ON c."${field}" = t.value AND ${live('c')}
            GROUP BY t.value, ${ownerOf('c')}
         ), sizes AS (
           SELECT h.value, h.owner,
                  (SELECT count(*) FROM "Contact" AS m WHERE ${live('m')} AND ${ownerOf('m')} = h.owner)::int AS size
             FROM holders AS h
         )
         SELECT '${field}' AS field, t.value, t.contacts,
                (SELECT count(*) FROM sizes AS s WHERE s.value = t.value)::int AS customers,
                (SELECT max(s.size) FROM sizes AS s WHERE s.value = t.value)::int AS "largestCustomer",
                identity_is_blocked('${field}', t.value) AS blocked
           FROM top AS t ORDER BY t.contacts DESC, t.value`,
        [limit],
      ),
    ),
  );
  return ranked.flat();
}
