/**
 * The repair of a broken `Contact` table, as a pure function of its live rows: which rows must
 * change their `linkedId` / `linkPrecedence` so that every customer has one primary, its oldest
 * row, and every other row points straight at it. No I/O here; `repair.ts` reads and writes.
 *
 * A customer is a connected component of live rows, two rows being connected when they share a
 * non-null email, a non-null phone, one links to the other, or both link to the same id. Links
 * count because the service merges customers on requests that add no row (the merge is recorded
 * only in the links), and a shared `linkedId` keeps the secondaries of a deleted primary together.
 * Rows are never deleted or merged away: a redundant row (I4) stays as it is.
 */
import { DisjointSets } from './disjointSets.js';

export type Precedence = 'primary' | 'secondary';

export interface RepairRow {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  linkedId: number | null;
  linkPrecedence: Precedence;
  /**
   * Microseconds since the epoch, timestamptz's own precision: the service creates rows
   * microseconds apart, and a millisecond Date would tie (and so misorder) them.
   */
  createdAt: number;
}

export interface Link {
  linkedId: number | null;
  linkPrecedence: Precedence;
}

/** Why a row changes: exactly one of these describes each change. */
export type ChangeReason =
  /** it was a primary (no link) and an older row of its customer becomes the primary */
  | 'demoted'
  /** it was linked, and is its customer's oldest row */
  | 'promoted'
  /** its link was right (or null) but its linkPrecedence said otherwise */
  | 'precedence'
  /** it linked to a row that is deleted or missing */
  | 'orphan'
  /** it linked to a secondary: a chain (or a cycle) */
  | 'chain'
  /** it linked to a live primary that is no longer its customer's primary */
  | 'relinked';

export const CHANGE_REASONS: readonly ChangeReason[] = ['demoted', 'promoted', 'precedence', 'orphan', 'chain', 'relinked'];

export interface RepairChange {
  id: number;
  from: Link;
  to: Link;
  reason: ChangeReason;
}

export interface RepairSummary {
  /** Live rows read. */
  rows: number;
  /** Customers (connected components) after the repair. */
  components: number;
  /** Rows whose link or precedence changes. */
  changed: number;
  byReason: Record<ChangeReason, number>;
}

export interface RepairPlan {
  /** Only the rows that change, in the order of `rows`. */
  changes: RepairChange[];
  summary: RepairSummary;
}

export function planRepair(rows: readonly RepairRow[]): RepairPlan {
  const indexById = new Map<number, number>();
  rows.forEach((row, index) => indexById.set(row.id, index));
  const customers = connectCustomers(rows, indexById);
  const primaries = oldestOfEach(rows, customers);

  const changes: RepairChange[] = [];
  const byReason = Object.fromEntries(CHANGE_REASONS.map((reason) => [reason, 0])) as Record<ChangeReason, number>;
  rows.forEach((row, index) => {
    const primary = rowAt(rows, primaries.oldest[customers.find(index)]);
    const to: Link = primary === row ? { linkedId: null, linkPrecedence: 'primary' } : { linkedId: primary.id, linkPrecedence: 'secondary' };
    if (to.linkedId === row.linkedId && to.linkPrecedence === row.linkPrecedence) return;
    const reason = reasonFor(row, to, rows, indexById);
    byReason[reason] += 1;
    changes.push({ id: row.id, from: { linkedId: row.linkedId, linkPrecedence: row.linkPrecedence }, to, reason });
  });
  return { changes, summary: { rows: rows.length, components: primaries.count, changed: changes.length, byReason } };
}

/**
 * Unions each row with the first row seen for each of its keys (email, phone, linkedId) and with
 * the row it links to: linear in the rows, whatever the shape of the links, cycles included.
 */
function connectCustomers(rows: readonly RepairRow[], indexById: ReadonlyMap<number, number>): DisjointSets {
  const sets = new DisjointSets(rows.length);
  const firstByEmail = new Map<string, number>();
  const firstByPhone = new Map<string, number>();
  const firstByLink = new Map<number, number>();
  const joinFirst = <Key>(firstByKey: Map<Key, number>, key: Key | null, index: number) => {
    if (key === null) return;
    const first = firstByKey.get(key);
    if (first === undefined) firstByKey.set(key, index);
    else sets.union(first, index);
  };
  rows.forEach((row, index) => {
    joinFirst(firstByEmail, row.email, index);
    joinFirst(firstByPhone, row.phoneNumber, index);
    joinFirst(firstByLink, row.linkedId, index);
    const linked = row.linkedId === null ? undefined : indexById.get(row.linkedId);
    if (linked !== undefined) sets.union(index, linked);
  });
  return sets;
}

/** For each customer's set representative, the index of its oldest row by (createdAt, id); -1 elsewhere. */
function oldestOfEach(rows: readonly RepairRow[], customers: DisjointSets): { oldest: Int32Array; count: number } {
  const oldest = new Int32Array(rows.length).fill(-1);
  let count = 0;
  rows.forEach((row, index) => {
    const customer = customers.find(index);
    const current = oldest[customer] ?? -1;
    if (current === -1) count += 1;
    if (current === -1 || isOlder(row, rowAt(rows, current))) oldest[customer] = index;
  });
  return { oldest, count };
}

function isOlder(a: RepairRow, b: RepairRow): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id);
}

function reasonFor(row: RepairRow, to: Link, rows: readonly RepairRow[], indexById: ReadonlyMap<number, number>): ChangeReason {
  if (row.linkedId === to.linkedId) return 'precedence';
  if (row.linkedId === null) return 'demoted';
  if (to.linkedId === null) return 'promoted';
  const target = indexById.get(row.linkedId);
  if (target === undefined) return 'orphan';
  return rowAt(rows, target).linkedId === null ? 'relinked' : 'chain';
}

function rowAt(rows: readonly RepairRow[], index: number | undefined): RepairRow {
  const row = index === undefined ? undefined : rows[index];
  if (row === undefined) throw new Error(`no row at index ${index}`);
  return row;
}
