/**
 * The regroup: how customers are rebuilt when what links rows changes (a value blocked or
 * unblocked, a quarantine). A pure function of the rows of every customer affected; the
 * governance use case reads them under the governance lock and writes the result in one
 * statement (`identity_apply_regroup`).
 *
 * The customers afterwards are the connected components of the rows by the link graph
 * (`linkGraph.ts`) under the new block list, each with its oldest row as primary and every other
 * row linked straight to it. One exception keeps what no value explains: rows that were one
 * customer although the link graph under the *old* list does not connect them (merged before the
 * event log existed, say) stay together, their pieces joined through their oldest rows. So a
 * block only undoes links its value made, and an unblock only adds links.
 */
import type { Blocklist } from './blocklist.js';
import type { LinkedContact } from './contact.js';
import { BrokenLinksError, groupByCustomer, isInPlace } from './customerGroups.js';
import { DisjointSets } from './disjointSets.js';
import { buildLinkGraph, connectedContacts, type MergeRecord } from './linkGraph.js';

export interface RegroupInput {
  /** Every live row of every affected customer, in row order (createdAt, id). */
  rows: readonly LinkedContact[];
  /** The logged merges of those customers. */
  merges: readonly MergeRecord[];
  before: Blocklist;
  after: Blocklist;
  /**
   * The graph before, when it held more than `rows` and `merges` do now: an erasure passes the
   * rows with their values and the erased rows, and the merges as logged, so that pieces that only
   * an erased row or value held together are explained by it and split (not kept as a legacy join).
   */
  graphBefore?: { rows: readonly LinkedContact[]; merges: readonly MergeRecord[] };
  /**
   * The logged merges the graph *afterwards* uses, when they differ from `merges` (an unmerge
   * takes one out); `merges` when absent. `merges` is what the graph before used.
   */
  mergesAfter?: readonly MergeRecord[];
}

/** A row's place afterwards: `linkedId` null for a primary. */
export interface RowWrite {
  id: number;
  linkedId: number | null;
}

export interface RegroupResult {
  /** Only rows whose link or precedence changes, by id. */
  writes: RowWrite[];
  /** The customers afterwards: primary first, rows in row order. */
  customers: number[][];
  /** Customers that fell apart: the row they were owned by (primary or deleted), and the primaries of the pieces. */
  splits: { ownerId: number; into: number[] }[];
  /** Customers joined into one: the survivor, and the owners of the others. */
  merges: { survivorId: number; absorbedOwnerIds: number[] }[];
}

export function regroup({
  rows,
  merges,
  before,
  after,
  graphBefore = { rows, merges },
  mergesAfter: graphMergesAfter = merges,
}: RegroupInput): RegroupResult {
  const grouping = groupByCustomer(rows);
  if (!grouping.ok) throw new BrokenLinksError(grouping.brokenContactIds);
  const ownerOf = new Map<number, number>();
  for (const group of grouping.groups) for (const row of group.rows) ownerOf.set(row.id, group.ownerId);

  const indexOf = new Map(rows.map((row, index) => [row.id, index]));
  const sets = new DisjointSets(rows.length);
  const join = (a: number, b: number) => sets.union(indexOf.get(a) as number, indexOf.get(b) as number);
  for (const component of connectedContacts(rows, buildLinkGraph(rows, graphMergesAfter, after))) {
    for (const id of component.slice(1)) join(component[0] as number, id);
  }
  // What the old list does not explain either stays together (module comment).
  const beforePieces = connectedContacts(rows, buildLinkGraph(graphBefore.rows, graphBefore.merges, before));
  const firstPieceOfOwner = new Map<number, number>();
  for (const piece of beforePieces) {
    const first = piece[0] as number;
    const owner = ownerOf.get(first) as number;
    const joined = firstPieceOfOwner.get(owner);
    if (joined === undefined) firstPieceOfOwner.set(owner, first);
    else join(joined, first);
  }

  const byRoot = new Map<number, LinkedContact[]>();
  for (const [index, row] of rows.entries()) {
    const root = sets.find(index);
    byRoot.set(root, [...(byRoot.get(root) ?? []), row]);
  }
  const customers = [...byRoot.values()];
  const writes: RowWrite[] = [];
  const primaryOf = new Map<number, number>();
  for (const members of customers) {
    const primary = members[0] as LinkedContact;
    for (const row of members) {
      primaryOf.set(row.id, primary.id);
      if (!isInPlace(row, primary.id)) writes.push({ id: row.id, linkedId: row === primary ? null : primary.id });
    }
  }
  writes.sort((a, b) => a.id - b.id);

  const splits = grouping.groups
    .map((group) => ({ ownerId: group.ownerId, into: distinct(group.rows.map((row) => primaryOf.get(row.id) as number)) }))
    .filter((split) => split.into.length > 1);
  const mergesAfter = customers
    .map((members) => ({
      survivorId: (members[0] as LinkedContact).id,
      owners: distinct(members.map((row) => ownerOf.get(row.id) as number)),
    }))
    .filter((joined) => joined.owners.length > 1)
    .map(({ survivorId, owners }) => ({ survivorId, absorbedOwnerIds: owners.filter((owner) => owner !== ownerOf.get(survivorId)) }));

  return { writes, customers: customers.map((members) => members.map((row) => row.id)), splits, merges: mergesAfter };
}

function distinct(values: number[]): number[] {
  return [...new Set(values)];
}
