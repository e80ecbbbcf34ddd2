/** The statements of an erasure (src/identity/erasure.ts), run under the governance lock. */
import type { LinkedContact } from '../identity/contact.js';
import type { ErasureTarget, RowScrub } from '../identity/store.js';
import type { Queryable } from './database.js';
import { live, liveRowsOfOwners, ownerOf, rowOrder } from './sql.js';

const COLUMNS = '"id", "email", "phoneNumber", "linkedId", "linkPrecedence"';

export function rowsToErase(tx: Queryable, target: ErasureTarget): Promise<LinkedContact[]> {
  if ('contactId' in target) {
    return tx.query<LinkedContact>(`SELECT ${COLUMNS} FROM "Contact" WHERE ${live()} AND "id" = $1`, [target.contactId]);
  }
  if ('customerOf' in target) {
    return tx.query<LinkedContact>(liveRowsOfOwners(`SELECT ${ownerOf()} AS owner FROM "Contact" WHERE ${live()} AND "id" = $1`), [
      target.customerOf,
    ]);
  }
  const [column, value] = 'email' in target ? ['"email"', target.email] : ['"phoneNumber"', target.phoneNumber];
  return tx.query<LinkedContact>(`SELECT ${COLUMNS} FROM "Contact" WHERE ${live()} AND ${column} = $1 ORDER BY ${rowOrder()}`, [value]);
}

export async function eraseValues(
  tx: Queryable,
  scrubs: readonly RowScrub[],
  emails: readonly string[],
  phones: readonly string[],
): Promise<void> {
  await tx.query(
    `UPDATE "Contact" AS c
        SET "email" = s.email, "phoneNumber" = s.phone, "updatedAt" = now(),
            "deletedAt" = CASE WHEN s.erased THEN now() ELSE c."deletedAt" END
       FROM unnest($1::int[], $2::text[], $3::text[], $4::boolean[]) AS s(id, email, phone, erased)
      WHERE c."id" = s.id`,
    [scrubs.map((s) => s.id), scrubs.map((s) => s.email), scrubs.map((s) => s.phoneNumber), scrubs.map((s) => s.erased)],
  );
  // Logged merges name the identifiers that joined two customers: forgotten with the rows.
  await tx.query(`UPDATE "ContactEvent" SET "email" = NULL WHERE "email" = ANY($1::text[])`, [emails]);
  await tx.query(`UPDATE "ContactEvent" SET "phoneNumber" = NULL WHERE "phoneNumber" = ANY($1::text[])`, [phones]);
}
