/**
 * How rows read from `Contact` make customers, on any table: one the service wrote alone, or one
 * a shop already had, with soft-deleted primaries and legacy links.
 *
 * Rows belong together when they link to the same row (`linkedId`, or their own id for a row
 * without a link): that row is the customer's *owner*, and every writer of the customer locks
 * it. Deleted rows are never read, so when the owner was soft-deleted its live rows are a customer
 * of their own; in every case the customer's primary is its oldest live row, and every other row
 * is a secondary linked straight to it. A row that links to a secondary (a chain) or round in a
 * cycle is not something the service decides on: `repair` fixes such links.
 */
import type { LinkedContact } from './contact.js';

/**
 * The customers a request touches link to a secondary or in a cycle (a table not written by the
 * service alone). Nothing was written; `identity-service repair` puts the links right.
 */
export class BrokenLinksError extends Error {
  override name = 'BrokenLinksError';
  constructor(readonly contactIds: readonly number[]) {
    super(`contacts ${contactIds.join(', ')} link to a secondary or in a cycle; run \`identity-service repair\``);
  }
}

export interface CustomerGroup<Row extends LinkedContact> {
  /** The row every row of the customer links to (or is): live primary, or a deleted row. */
  ownerId: number;
  /** The customer's live rows in row order; the first is its primary. */
  rows: Row[];
}

export type Grouping<Row extends LinkedContact> =
  | { ok: true; groups: CustomerGroup<Row>[] }
  /** Some rows link to a secondary, or in a cycle: their ids, lowest first. */
  | { ok: false; brokenContactIds: number[] };

/** `rows` in row order (createdAt, id); groups come in the order of their oldest rows. */
export function groupByCustomer<Row extends LinkedContact>(rows: readonly Row[]): Grouping<Row> {
  const groups = new Map<number, CustomerGroup<Row>>();
  for (const row of rows) {
    const ownerId = row.linkedId ?? row.id;
    const group = groups.get(ownerId);
    if (group) group.rows.push(row);
    else groups.set(ownerId, { ownerId, rows: [row] });
  }
  // An owner that is itself linked: a chain, or a cycle (a row linked to itself included).
  const linkedOwners = new Set(rows.filter((row) => row.linkedId !== null && groups.has(row.id)).map((row) => row.id));
  const broken = [...groups.values()].filter((group) => linkedOwners.has(group.ownerId));
  if (broken.length > 0) {
    // The rows of each broken customer, and the linked row they point at.
    const ids = new Set(broken.flatMap((group) => [group.ownerId, ...group.rows.map((row) => row.id)]));
    return { ok: false, brokenContactIds: [...ids].sort((a, b) => a - b) };
  }
  return { ok: true, groups: [...groups.values()] };
}

/** True when the row already is what its place in the customer says it should be. */
export function isInPlace(row: LinkedContact, primaryId: number): boolean {
  return row.id === primaryId
    ? row.linkedId === null && row.linkPrecedence === 'primary'
    : row.linkedId === primaryId && row.linkPrecedence === 'secondary';
}

/** The rows as the table holds them once one customer's links are in place: the first row primary. */
export function linkedToOldest<Row extends LinkedContact>(rows: readonly Row[]): Row[] {
  const [primary] = rows;
  if (primary === undefined) return [];
  return rows.map((row) => {
    if (isInPlace(row, primary.id)) return row;
    return row === primary
      ? { ...row, linkedId: null, linkPrecedence: 'primary' }
      : { ...row, linkedId: primary.id, linkPrecedence: 'secondary' };
  });
}
