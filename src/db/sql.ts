/**
 * The rules every statement outside the migrations states the same way, defined once. The SQL
 * functions of `migrations/` say the same in SQL (they cannot import these); a change here is a
 * change there, in a new migration.
 */

/** A live row: soft-deleted rows are absent everywhere. Prefix with an alias where a query needs one. */
export const live = (alias?: string): string => `${alias ? `${alias}.` : ''}"deletedAt" IS NULL`;

/** Row order: oldest first, ties by id. "The oldest row is the primary" means the first in it. */
export const rowOrder = (alias?: string): string => {
  const prefix = alias ? `${alias}.` : '';
  return `${prefix}"createdAt", ${prefix}"id"`;
};

/** The row a row belongs under: its link, or itself for a primary. */
export const ownerOf = (alias?: string): string => {
  const prefix = alias ? `${alias}.` : '';
  return `COALESCE(${prefix}"linkedId", ${prefix}"id")`;
};

/** Every column the read API shows, in the table's order. */
export const CONTACT_COLUMNS = '"id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt"';

/**
 * Every live row, in row order, of the customers whose owners `ownersSql` selects (one column,
 * `owner`): the rows a regroup reads.
 */
export const liveRowsOfOwners = (ownersSql: string): string => `WITH owners AS (${ownersSql})
     SELECT "id", "email", "phoneNumber", "linkedId", "linkPrecedence" FROM (
       SELECT * FROM "Contact" WHERE ${live()} AND "id" IN (SELECT owner FROM owners)
       UNION
       SELECT * FROM "Contact" WHERE ${live()} AND "linkedId" IN (SELECT owner FROM owners)
     ) AS rows
      ORDER BY ${rowOrder()}`;
