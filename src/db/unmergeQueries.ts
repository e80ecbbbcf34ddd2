/**
 * The unmerge's SQL (migrations/0006): separations, the event a merge is undone by, and the rows
 * of one customer. Run inside the governance transaction (`unmergeStore`).
 */
import type { LinkedContact } from '../identity/contact.js';
import type { Separation } from '../identity/separations.js';
import type { GovernanceTransaction } from '../identity/store.js';
import type { LoggedEvent, UnmergeTransaction } from '../identity/unmerge.js';
import type { Queryable } from './database.js';
import { live, rowOrder } from './sql.js';

/**
 * A condition on a `customer.merged` event (`alias`, or the table's name) that holds unless a
 * `customer.unmerged` event undid it: such a merge links nothing any more (regroups, explain).
 */
export const NOT_UNMERGED = (alias: string): string =>
  `NOT EXISTS (SELECT 1 FROM "ContactEvent" AS u
                WHERE u."type" = 'customer.unmerged' AND (u."detail"->>'mergeEventId')::bigint = ${alias}."id")`;

/** The separations as one JSON array, for the statement that loads the block list (one snapshot). */
export const SEPARATIONS_JSON = `(SELECT COALESCE(jsonb_agg(jsonb_build_object(
     'id', s."id", 'contactA', s."contactA", 'contactB', s."contactB", 'mergeEventId', s."mergeEventId",
     'addedBy', s."addedBy", 'createdAt', s."createdAt") ORDER BY s."id"), '[]'::jsonb) FROM "Separation" AS s)`;

export interface SeparationRow {
  id: number;
  contactA: number;
  contactB: number;
  mergeEventId: number | string | null;
  addedBy: string;
  createdAt: string | Date;
}

export function separationOf(row: SeparationRow): Separation {
  return {
    id: row.id,
    contactIds: [row.contactA, row.contactB],
    mergeEventId: row.mergeEventId === null ? null : Number(row.mergeEventId),
    addedBy: row.addedBy,
    createdAt: new Date(row.createdAt),
  };
}

const SEPARATION_COLUMNS = '"id", "contactA", "contactB", "mergeEventId", "addedBy", "createdAt"';

type UnmergeQueries = Omit<UnmergeTransaction, keyof GovernanceTransaction>;

export function unmergeQueries(tx: Queryable, bumpVersion: (tx: Queryable) => Promise<unknown>): UnmergeQueries {
  return {
    customerRowsOfContact: (id) =>
      tx.query<LinkedContact>(
        `WITH owner AS (SELECT COALESCE("linkedId", "id") AS id FROM "Contact" WHERE "id" = $1 AND ${live()})
         SELECT "id", "email", "phoneNumber", "linkedId", "linkPrecedence" FROM "Contact"
          WHERE ${live()} AND ("id" IN (SELECT id FROM owner) OR "linkedId" IN (SELECT id FROM owner))
          ORDER BY ${rowOrder()}`,
        [id],
      ),
    async event(id) {
      const [row] = await tx.query<Omit<LoggedEvent, 'id' | 'undoneBy'> & { id: string; undoneBy: string | null }>(
        `SELECT e."id"::text AS "id", e."type", e."customerIds", e."contactIds",
                (SELECT min(u."id")::text FROM "ContactEvent" AS u
                  WHERE u."type" = 'customer.unmerged' AND (u."detail"->>'mergeEventId')::bigint = e."id") AS "undoneBy"
           FROM "ContactEvent" AS e WHERE e."id" = $1::bigint`,
        [id],
      );
      return row === undefined ? null : { ...row, id: Number(row.id), undoneBy: row.undoneBy === null ? null : Number(row.undoneBy) };
    },
    async addSeparation([a, b], mergeEventId, addedBy) {
      const [row] = await tx.query<SeparationRow>(
        `INSERT INTO "Separation" ("contactA", "contactB", "mergeEventId", "addedBy") VALUES ($1, $2, $3, $4) RETURNING ${SEPARATION_COLUMNS}`,
        [Math.min(a, b), Math.max(a, b), mergeEventId, addedBy],
      );
      await bumpVersion(tx);
      return separationOf(row as SeparationRow);
    },
    async removeSeparation(id) {
      const [row] = await tx.query<SeparationRow>(`DELETE FROM "Separation" WHERE "id" = $1 RETURNING ${SEPARATION_COLUMNS}`, [id]);
      if (row === undefined) return null;
      await bumpVersion(tx);
      return separationOf(row);
    },
  };
}
