/**
 * The repair of a broken `Contact` table, as a pure function of its live rows: which rows must
 * change their email / phone to its normal form, and which their `linkedId` / `linkPrecedence`
 * so that every customer has one primary, its oldest row, and every other row points straight at
 * it. No I/O here; `repair.ts` reads and writes.
 *
 * Values first: each stored email and phone is judged by the request rules (`storedValues.ts`).
 * One not in normal form (`Foo@X.com`, `(555) 010-9999`) takes it; one with no normal form (an
 * email without `@`) is kept as it is and reported. Customers are then found on the values as
 * they will be stored, so rows that become equal are connected, exactly as `check`'s I2 will see
 * them afterwards.
 *
 * A customer is a connected component of live rows, two rows being connected when they share a
 * non-null email or phone that the block list does not block, one links to the other, or both
 * link to the same id. Links count because the service merges customers on requests that add no
 * row (the merge is recorded only in the links), and a shared `linkedId` keeps the secondaries of
 * a deleted primary together. A blocked value links nothing, as for the service, so the rows a
 * block split stay apart. Rows are never deleted or merged away: a redundant row (I4) stays as it
 * is, and so does a value blocked after its row was stored.
 */
import { Blocklist } from '../identity/blocklist.js';
import { PLAIN_NORMALISER, type IdentifierField, type Normaliser } from '../identity/normalise.js';
import { IDENTIFIER_FIELDS, judgeStoredValue } from '../identity/storedValues.js';
import type { StoredContact } from '../db/repairQueries.js';
import { DisjointSets } from '../identity/disjointSets.js';

export type Precedence = 'primary' | 'secondary';

/** A live row as read for the repair (createdAt in microseconds). */
export type RepairRow = StoredContact;

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

/** A row whose email or phone (or both) is put in normal form. */
export interface ValueChange {
  id: number;
  /** The fields that change, email first. */
  fields: IdentifierField[];
  /** The row's values after the repair: normalised in `fields`, as stored in the other. */
  email: string | null;
  phoneNumber: string | null;
}

/** A row with an email or phone (or both) that has no normal form: kept as it is, reported. */
export interface InvalidValues {
  id: number;
  fields: IdentifierField[];
}

/** Rows, and how many of them by their email and by their phone (a row may count in both). */
export interface FieldCounts {
  rows: number;
  email: number;
  phoneNumber: number;
}

export interface RepairSummary {
  /** Live rows read. */
  rows: number;
  /** Customers (connected components) after the repair. */
  components: number;
  /** Rows whose link or precedence changes. */
  changed: number;
  byReason: Record<ChangeReason, number>;
  /** Rows whose email or phone is normalised. */
  normalised: FieldCounts;
  /** Rows with an email or phone that has no normal form (left as they are). */
  invalid: FieldCounts;
}

export interface RepairPlan {
  /** Only the rows whose link changes, in the order of `rows`. */
  changes: RepairChange[];
  /** Only the rows whose values change, in the order of `rows`. */
  values: ValueChange[];
  /** The rows with invalid values, in the order of `rows`. */
  invalid: InvalidValues[];
  summary: RepairSummary;
}

/** `blocklist`: the rules in force, read under the governance lock with the rows. */
export function planRepair(
  storedRows: readonly RepairRow[],
  blocklist: Blocklist = Blocklist.empty(),
  normaliser: Normaliser = PLAIN_NORMALISER,
): RepairPlan {
  const { rows, values, invalid } = normaliseValues(storedRows, normaliser);
  const indexById = new Map<number, number>();
  rows.forEach((row, index) => indexById.set(row.id, index));
  const customers = connectCustomers(rows, indexById, blocklist);
  const primaries = oldestOfEach(rows, customers);

  const changes: RepairChange[] = [];
  const byReason = Object.fromEntries(CHANGE_REASONS.map((reason) => [reason, 0])) as Record<ChangeReason, number>;
  rows.forEach((row, index) => {
    const primary = rowAt(rows, primaries.oldest[customers.find(index)]);
    const to: Link =
      primary === row ? { linkedId: null, linkPrecedence: 'primary' } : { linkedId: primary.id, linkPrecedence: 'secondary' };
    if (to.linkedId === row.linkedId && to.linkPrecedence === row.linkPrecedence) return;
    const reason = reasonFor(row, to, rows, indexById);
    byReason[reason] += 1;
    changes.push({ id: row.id, from: { linkedId: row.linkedId, linkPrecedence: row.linkPrecedence }, to, reason });
  });
  return {
    changes,
    values,
    invalid,
    summary: {
      rows: rows.length,
      components: primaries.count,
      changed: changes.length,
      byReason,
      normalised: fieldCounts(values),
      invalid: fieldCounts(invalid),
    },
  };
}

/**
 * The rows with their values as the repair will leave them (a row that keeps its values is the
 * same object), the rows whose values change, and the rows with values that have no normal form.
 */
function normaliseValues(
  rows: readonly RepairRow[],
  normaliser: Normaliser,
): { rows: RepairRow[]; values: ValueChange[]; invalid: InvalidValues[] } {
  const values: ValueChange[] = [];
  const invalid: InvalidValues[] = [];
  const normalised = rows.map((row) => {
    let after: RepairRow | undefined;
    let changed: IdentifierField[] | undefined;
    let bad: IdentifierField[] | undefined;
    for (const field of IDENTIFIER_FIELDS) {
      const verdict = judgeStoredValue(field, row[field], normaliser);
      if (verdict.kind === 'fixable') {
        after = { ...(after ?? row), [field]: verdict.value };
        (changed ??= []).push(field);
      } else if (verdict.kind === 'invalid') {
        (bad ??= []).push(field);
      }
    }
    if (after !== undefined && changed !== undefined)
      values.push({ id: row.id, fields: changed, email: after.email, phoneNumber: after.phoneNumber });
    if (bad !== undefined) invalid.push({ id: row.id, fields: bad });
    return after ?? row;
  });
  return { rows: normalised, values, invalid };
}

function fieldCounts(rows: readonly { fields: readonly IdentifierField[] }[]): FieldCounts {
  const counts: FieldCounts = { rows: rows.length, email: 0, phoneNumber: 0 };
  for (const { fields } of rows) for (const field of fields) counts[field] += 1;
  return counts;
}

/** In a map of first holders: the value is blocked, so its holders are not joined. */
const BLOCKED = -1;

/**
 * Unions each row with the first row seen for each of its keys (email, phone, linkedId) and with
 * the row it links to: linear in the rows, whatever the shape of the links, cycles included. A
 * value is matched against the block list once, when a second row holds it: a value held by one
 * row joins nothing either way, and most are.
 */
function connectCustomers(rows: readonly RepairRow[], indexById: ReadonlyMap<number, number>, blocklist: Blocklist): DisjointSets {
  const sets = new DisjointSets(rows.length);
  const firstByEmail = new Map<string, number>();
  const firstByPhone = new Map<string, number>();
  const firstByLink = new Map<number, number>();
  const joinFirst = <Key>(firstByKey: Map<Key, number>, key: Key | null, index: number, isBlocked: (key: Key) => boolean) => {
    if (key === null) return;
    const first = firstByKey.get(key);
    if (first === undefined) firstByKey.set(key, index);
    else if (first === BLOCKED) return;
    else if (isBlocked(key)) firstByKey.set(key, BLOCKED);
    else sets.union(first, index);
  };
  const emailBlocked = (email: string) => blocklist.isBlocked('email', email);
  const phoneBlocked = (phone: string) => blocklist.isBlocked('phoneNumber', phone);
  const never = () => false;
  rows.forEach((row, index) => {
    joinFirst(firstByEmail, row.email, index, emailBlocked);
    joinFirst(firstByPhone, row.phoneNumber, index, phoneBlocked);
    joinFirst(firstByLink, row.linkedId, index, never);
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
