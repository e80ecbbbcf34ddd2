/**
 * The statements of `repair --renormalize` (src/identity/renormalize.ts; its pages of rows are
 * the repair's, `readLiveRowsPage`), each run inside a
 * transaction that holds the governance lock exclusively.
 */
import type { Identifiers, LinkedContact } from '../identity/contact.js';
import type { ValueRewrite } from '../identity/store.js';
import type { Queryable } from './database.js';
import { live, liveRowsOfOwners, ownerOf } from './sql.js';

export async function rewriteValues(tx: Queryable, changes: readonly ValueRewrite[]): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `UPDATE "Contact" AS c SET "email" = v.email, "phoneNumber" = v.phone, "updatedAt" = now()
       FROM unnest($1::int[], $2::text[], $3::text[]) AS v(id, email, phone) WHERE c."id" = v.id`,
    [changes.map((change) => change.id), changes.map((change) => change.to.email), changes.map((change) => change.to.phoneNumber)],
  );
  // A logged merge names the identifiers that joined two customers; they must stay the rows' own.
  for (const field of ['email', 'phoneNumber'] as const) {
    const pairs = new Map<string, string>();
    for (const { from, to } of changes) {
      const before = from[field];
      const after = to[field];
      if (before !== null && after !== null && before !== after) pairs.set(before, after);
    }
    if (pairs.size === 0) continue;
    await tx.query(
      `UPDATE "ContactEvent" AS e SET "${field}" = v.after
         FROM unnest($1::text[], $2::text[]) AS v(before, after) WHERE e."${field}" = v.before`,
      [[...pairs.keys()], [...pairs.values()]],
    );
  }
}

export function rowsOfCustomersHolding(tx: Queryable, contactIds: readonly number[], values: Identifiers[]): Promise<LinkedContact[]> {
  const emails = values.map((value) => value.email).filter((value) => value !== null);
  const phones = values.map((value) => value.phoneNumber).filter((value) => value !== null);
  return tx.query<LinkedContact>(
    liveRowsOfOwners(
      `SELECT DISTINCT ${ownerOf()} AS owner FROM "Contact"
        WHERE ${live()} AND ("id" = ANY($1::int[]) OR "email" = ANY($2::text[]) OR "phoneNumber" = ANY($3::text[]))`,
    ),
    [contactIds, emails, phones],
  );
}

/** Drops rules first (duplicates of others once rewritten), then rewrites values; bumps the list's version. */
export async function rewriteRuleValues(
  tx: Queryable,
  changes: readonly { id: number; value: string }[],
  dropIds: readonly number[],
): Promise<void> {
  if (changes.length === 0 && dropIds.length === 0) return;
  await tx.query('DELETE FROM "BlockedIdentifier" WHERE "id" = ANY($1::int[])', [dropIds]);
  await tx.query(
    `UPDATE "BlockedIdentifier" AS b SET "value" = v.value FROM unnest($1::int[], $2::text[]) AS v(id, value) WHERE b."id" = v.id`,
    [changes.map((change) => change.id), changes.map((change) => change.value)],
  );
  await tx.query('UPDATE "IdentityGovernance" SET "blocklistVersion" = "blocklistVersion" + 1');
}
