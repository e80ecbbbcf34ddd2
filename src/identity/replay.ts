/**
 * The import's decision: a pure function from (the live rows of the customers an import touches,
 * their logged merges, the imported checkouts) to the table afterwards. It is /identify replayed:
 * every existing row, every logged merge and every imported checkout is taken as a checkout at its
 * own time and sent through the rules of `decide` one at a time, in (time, id) order: the order of
 * the table itself, where a line's id is the one reserved for its row and a merge's the one its
 * checkout's row had or would have had (`LoggedMerge.order`). Customers are kept as member lists with
 * values indexed by value (a map, not a read per checkout), and joined smaller into larger, so a
 * million checkouts take seconds and memory grows with the rows and distinct values.
 *
 * The rules, as /identify applies them (reconcile.ts, identifyService.ts, governance.ts):
 * - blocked values are absent; a checkout with only blocked values writes nothing (/identify's 422);
 * - a separation (unmerge) narrows a checkout whose email's and phone's customers it keeps apart to
 *   its email (separations.ts);
 * - a checkout that would take a customer past the size cap quarantines the value of the larger
 *   customer (the phone on a tie): the value is blocked and the customers it held together split by
 *   the ONE regroup (regroup.ts), then the checkout goes on without it;
 * - a checkout that brings a value its customers lack creates a row (the newest of its customer),
 *   one that brings nothing creates none, and may still join customers (a merge: logged, so the
 *   link graph knows it).
 *
 * Interpretations (docs/import.md):
 * - an existing row is a checkout at its createdAt. When the replay would not create it (an older
 *   imported checkout already brought its values) it is *redundant*: the import soft-deletes it
 *   (`deletedAt`), so the live table equals the replay and its id stays referable;
 * - rows that are one customer in the table stay one customer, also when no value or logged merge
 *   explains it (a legacy join, as the regroup keeps them): when an existing row is replayed and its
 *   values and the logged merges do not connect it to the first row of its customer in the table,
 *   it joins that row's customer (with no size check: it is a fact, not a request);
 * - an existing row keeps the values it stores, even one blocked after it was written (I5); such a
 *   value links nothing; one whose values were all blocked before the import stays a customer of
 *   its own (as the block left it). One whose values all become blocked by a quarantine of this
 *   replay is one /identify would not have written: redundant too.
 */
import { Blocklist, OVER_MERGE_REASON, screen, type BlockRule } from './blocklist.js';
import type { Identifiers, LinkedContact } from './contact.js';
import { groupByCustomer, BrokenLinksError } from './customerGroups.js';
import { buildLinkGraph, connectedContacts, type MergeRecord } from './linkGraph.js';
import type { IdentifierField } from './normalise.js';
import type { DecisionLimits } from './reconcile.js';
import { regroup } from './regroup.js';

/** A live row of the table, with its createdAt in microseconds (timestamptz's precision). */
export interface ExistingRow extends LinkedContact {
  createdAt: number;
}

/** A logged merge (`customer.merged` with the request's two values), replayed as a checkout at `at` (µs). */
export interface LoggedMerge {
  email: string | null;
  phoneNumber: string | null;
  at: number;
  /**
   * Its place among rows of its time, on the ids' scale: an import's checkout, the id reserved
   * for its line (or the row it made redundant); /identify's, just after the rows the table held
   * before the import (a fraction below the import's first id).
   */
  order: number;
}

/** One line of the file: values already normalised, createdAt in microseconds. */
export interface ImportedCheckout extends Identifiers {
  line: number;
  createdAt: number;
  /**
   * The id its row gets, if it makes one: among rows of one time, the table's order is the ids'
   * (rows of earlier chunks of the same run included), and the replay's is too.
   */
  id: number;
}

export interface ReplayInput {
  /** Every live row of every customer holding a value of `checkouts` (any order). */
  rows: readonly ExistingRow[];
  merges: readonly LoggedMerge[];
  checkouts: readonly ImportedCheckout[];
  blocklist: Blocklist;
  limits: DecisionLimits;
}

export type RowSource = { kind: 'existing'; id: number } | { kind: 'line'; line: number };

/** A row afterwards: kept, inserted, or (existing only) made redundant. */
export interface ReplayRow {
  source: RowSource;
  email: string | null;
  phoneNumber: string | null;
  createdAt: number;
  /** Index in `rows` of its customer's primary (itself for a primary). */
  primary: number;
  /** An existing row the replay does not create: soft-deleted, linked to `primary`. */
  redundant: boolean;
}

export interface ReplayResult {
  /** Every row of the customers afterwards, redundant rows included, in row order (createdAt, then id). */
  rows: ReplayRow[];
  /** Checkouts that joined customers without creating a row: the merges to log (lines, and redundant existing rows). */
  merges: { email: string | null; phoneNumber: string | null; createdAt: number; source: RowSource }[];
  /** Values the size cap quarantined, in the order it did. */
  quarantined: { field: IdentifierField; value: string }[];
  /** Lines whose every identifier is blocked: nothing written for them. */
  blockedLines: number[];
  /** Lines a separation narrowed to their email. */
  separatedLines: number[];
}

interface SimRow {
  source: RowSource;
  email: string | null;
  phoneNumber: string | null;
  createdAt: number;
  order: number;
  /** The customer it belongs to (followed through `Cust.into`); for a redundant row, the one it matched. */
  cust: Cust;
  created: boolean;
  /** Existing rows: the request it was replayed as, for a redundant row's customer afterwards. */
  request: Identifiers | null;
}

interface Cust {
  members: SimRow[];
  /** Set when this customer was joined into another, or replaced by a regroup's pieces. */
  into: Cust | null;
}

/** `order`: the place among events of one time (ids, see LoggedMerge.order); `key` breaks its ties (merges at one place). */
type Event =
  | { kind: 0; at: number; order: number; key: number; row: ExistingRow }
  | { kind: 1; at: number; order: number; key: number; merge: LoggedMerge }
  | { kind: 2; at: number; order: number; key: number; checkout: ImportedCheckout };

const emailKey = (value: string) => `e${value}`;
const phoneKey = (value: string) => `p${value}`;
const keyOf = (field: IdentifierField, value: string) => (field === 'email' ? emailKey(value) : phoneKey(value));

export function replay({ rows, merges, checkouts, blocklist: initialList, limits }: ReplayInput): ReplayResult {
  const grouping = groupByCustomer([...rows].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id));
  if (!grouping.ok) throw new BrokenLinksError(grouping.brokenContactIds);
  const ownerOf = new Map<number, number>();
  for (const group of grouping.groups) for (const row of group.rows) ownerOf.set(row.id, group.ownerId);
  // What values and logged merges explain of each customer of the table: only its other pieces are legacy joins.
  const pieceOf = new Map<number, number>();
  const graph = buildLinkGraph(
    rows,
    merges.map((merge, index) => ({ eventId: index + 1, email: merge.email, phoneNumber: merge.phoneNumber })),
    initialList,
  );
  for (const piece of connectedContacts(rows, graph)) for (const id of piece) pieceOf.set(id, piece[0] as number);

  const events: Event[] = [
    ...rows.map((row): Event => ({ kind: 0, at: row.createdAt, order: row.id, key: 0, row })),
    ...merges.map((merge, index): Event => ({ kind: 1, at: merge.at, order: merge.order, key: index, merge })),
    ...checkouts.map((checkout): Event => ({ kind: 2, at: checkout.createdAt, order: checkout.id, key: 0, checkout })),
  ];
  events.sort((a, b) => a.at - b.at || a.order - b.order || a.kind - b.kind || a.key - b.key);

  let blocklist = initialList;
  const index = new Map<string, Cust>();
  const all: SimRow[] = [];
  const simMerges: MergeRecord[] = [];
  const result: Omit<ReplayResult, 'rows'> = { merges: [], quarantined: [], blockedLines: [], separatedLines: [] };
  /** The first replayed row of each customer of the table: what its later rows join (legacy join). */
  const firstOfOwner = new Map<number, SimRow>();

  const resolve = (cust: Cust): Cust => {
    let current = cust;
    while (current.into !== null) current = current.into;
    // Path compression: later lookups of the same stale customer are one step.
    let step = cust;
    while (step.into !== null && step.into !== current) [step, step.into] = [step.into, current];
    return current;
  };
  const lookup = (field: IdentifierField, value: string | null): Cust | undefined => {
    if (value === null) return undefined;
    const found = index.get(keyOf(field, value));
    return found === undefined ? undefined : resolve(found);
  };
  const indexValues = (row: SimRow, cust: Cust) => {
    for (const field of ['email', 'phoneNumber'] as const) {
      const value = row[field];
      if (value !== null && !blocklist.isBlocked(field, value)) index.set(keyOf(field, value), cust);
    }
  };
  const join = (custs: Cust[]): Cust => {
    const [largest, ...others] = [...custs].sort((a, b) => b.members.length - a.members.length);
    if (largest === undefined) throw new Error('nothing to join');
    for (const other of others) {
      for (const row of other.members) {
        row.cust = largest;
        largest.members.push(row);
        indexValues(row, largest);
      }
      other.members = [];
      other.into = largest;
    }
    return largest;
  };
  const idsOf = (cust: Cust) => new Set(cust.members.flatMap((row) => (row.source.kind === 'existing' ? [row.source.id] : [])));

  /** Blocks `value` and splits the customer holding it as a block would (regroup.ts). */
  const quarantine = (field: IdentifierField, value: string) => {
    const cust = lookup(field, value);
    const rule: BlockRule = {
      id: -(result.quarantined.length + 1),
      field,
      match: 'exact',
      value,
      reason: OVER_MERGE_REASON,
      addedBy: 'size-cap',
      createdAt: new Date(0),
    };
    const before = blocklist;
    blocklist = new Blocklist(before.version + 1, [...before.rules, rule], before.separations);
    result.quarantined.push({ field, value });
    index.delete(keyOf(field, value));
    if (cust === undefined) return;
    const members = [...cust.members].sort((a, b) => a.order - b.order);
    const primaryId = members[0]?.order ?? 0;
    const linked = members.map((row): LinkedContact => ({
      id: row.order,
      email: row.email,
      phoneNumber: row.phoneNumber,
      linkedId: row.order === primaryId ? null : primaryId,
      linkPrecedence: row.order === primaryId ? 'primary' : 'secondary',
    }));
    const { customers } = regroup({ rows: linked, merges: simMerges, before, after: blocklist });
    const byOrder = new Map(members.map((row) => [row.order, row]));
    const pieces = customers.map((ids): Cust => ({ members: ids.map((id) => byOrder.get(id) as SimRow), into: null }));
    for (const piece of pieces) {
      for (const row of piece.members) {
        row.cust = piece;
        indexValues(row, piece);
      }
    }
    cust.members = [];
    // Rows that only matched it (redundant) find their customer by value at the end.
    cust.into = pieces[0] ?? null;
  };

  /** One checkout through /identify's rules; the customer it landed in and whether it brings a new value. */
  const identify = (
    raw: Identifiers,
    line: number | null,
  ): { cust: Cust | null; bringsNew: boolean; joined: boolean; request: Identifiers } | null => {
    for (;;) {
      const usable = screen(raw, blocklist).usable;
      if (usable === null) return null;
      let request = usable;
      const byEmail = lookup('email', request.email);
      let byPhone = lookup('phoneNumber', request.phoneNumber);
      if (byEmail !== undefined && byPhone !== undefined && byEmail !== byPhone && !blocklist.separations.isEmpty) {
        if (blocklist.separations.between(idsOf(byEmail), idsOf(byPhone)) !== null) {
          request = { email: request.email, phoneNumber: null };
          byPhone = undefined;
          if (line !== null) result.separatedLines.push(line);
        }
      }
      const involved = [...new Set([byEmail, byPhone].filter((cust): cust is Cust => cust !== undefined))];
      const bringsNew = (request.email !== null && byEmail === undefined) || (request.phoneNumber !== null && byPhone === undefined);
      if (involved.length > 0 && limits.maxCustomerContacts > 0 && (involved.length > 1 || bringsNew)) {
        const size = involved.reduce((sum, cust) => sum + cust.members.length, 0) + (bringsNew ? 1 : 0);
        if (size > limits.maxCustomerContacts) {
          const sizeOf = (cust: Cust | undefined) => cust?.members.length ?? 0;
          const field: IdentifierField = sizeOf(byEmail) > sizeOf(byPhone) ? 'email' : 'phoneNumber';
          quarantine(field, request[field] as string);
          continue;
        }
      }
      if (involved.length > 1) simMerges.push({ eventId: simMerges.length + 1, ...request });
      return {
        cust: involved.length === 0 ? null : join(involved),
        bringsNew: involved.length === 0 || bringsNew,
        joined: involved.length > 1,
        request,
      };
    }
  };

  const place = (row: SimRow, cust: Cust | null) => {
    const target = cust ?? { members: [], into: null };
    row.cust = target;
    row.created = true;
    target.members.push(row);
    indexValues(row, target);
    return target;
  };

  for (const [order, event] of events.entries()) {
    if (event.kind === 1) {
      // A logged merge brings no row: at its time its values were known.
      identify(event.merge, null);
      continue;
    }
    const values = event.kind === 0 ? event.row : event.checkout;
    const source: RowSource = event.kind === 0 ? { kind: 'existing', id: event.row.id } : { kind: 'line', line: event.checkout.line };
    const row: SimRow = {
      source,
      email: values.email,
      phoneNumber: values.phoneNumber,
      createdAt: event.at,
      order,
      cust: null as unknown as Cust,
      created: false,
      request: null,
    };
    const outcome = identify({ email: values.email, phoneNumber: values.phoneNumber }, event.kind === 2 ? event.checkout.line : null);
    if (outcome === null) {
      // /identify would write nothing: a line is skipped; an existing row is redundant (below).
      if (event.kind === 2) {
        result.blockedLines.push(event.checkout.line);
        continue;
      }
      // Blocked before the import (I5: a block's regroup left it a customer of its own): it stays so.
      if (screen(event.row, initialList).usable === null) place(row, null);
      else row.cust = { members: [], into: null };
    } else if (outcome.bringsNew) {
      // A new row stores the request as decided: blocked values dropped, a separated phone too.
      if (event.kind === 2) [row.email, row.phoneNumber] = [outcome.request.email, outcome.request.phoneNumber];
      place(row, outcome.cust);
    } else {
      row.cust = outcome.cust as Cust;
      row.request = outcome.request;
      if (outcome.joined) {
        result.merges.push({ email: outcome.request.email, phoneNumber: outcome.request.phoneNumber, createdAt: event.at, source });
      }
    }
    if (event.kind === 0) {
      all.push(row);
      if (!row.created && outcome === null) continue;
      const owner = ownerOf.get(event.row.id) as number;
      const first = firstOfOwner.get(owner);
      if (first === undefined) firstOfOwner.set(owner, row);
      else if (pieceOf.get(first.source.kind === 'existing' ? first.source.id : 0) !== pieceOf.get(event.row.id)) {
        const a = resolve(first.cust);
        const b = resolve(row.cust);
        if (a !== b) join([a, b]);
      }
    } else if (row.created) all.push(row);
  }

  // The table afterwards: each customer's oldest created row is its primary.
  const finalCust = (row: SimRow): Cust => {
    if (row.created) return resolve(row.cust);
    const request = row.request ?? row;
    return lookup('email', request.email) ?? lookup('phoneNumber', request.phoneNumber) ?? resolve(row.cust);
  };
  all.sort((a, b) => a.order - b.order);
  const position = new Map(all.map((row, i) => [row, i]));
  const primaryOf = new Map<Cust, number>();
  for (const row of all) {
    if (!row.created) continue;
    const cust = resolve(row.cust);
    if (!primaryOf.has(cust)) primaryOf.set(cust, position.get(row) as number);
  }
  const out = all.map((row, index): ReplayRow => {
    // A redundant row of no customer (only blocked values) stays where it is, deleted.
    const primary = primaryOf.get(finalCust(row)) ?? (row.created ? undefined : index);
    if (primary === undefined) throw new Error('a customer of the replay has no row');
    return {
      source: row.source,
      email: row.email,
      phoneNumber: row.phoneNumber,
      createdAt: row.createdAt,
      primary,
      redundant: !row.created,
    };
  });
  return { rows: out, ...result };
}
