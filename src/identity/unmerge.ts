/**
 * Unmerge: an operator takes apart two customers that a logged merge joined (a checkout whose
 * email was one customer's and whose phone another's), and records a separation so that no later
 * request joins them again (`separations.ts`).
 *
 * The decision is pure (`planUnmerge`): the customer's rows are regrouped (`regroup.ts`) with the
 * link graph before the unmerge (every logged merge) and after it (without that merge). If the
 * two sides the merge joined then fall apart, that split is written; if something else still holds
 * them together — an email or phone they share, another logged merge — nothing is written and the
 * answer names those links (fields and contact ids, never values).
 *
 * The use case runs under the governance lock held exclusively, like block and unblock: no
 * /identify write overlaps it, and the split, its events and the separation (which bumps the
 * block list's version) commit in one transaction.
 */
import type { Blocklist } from './blocklist.js';
import type { LinkedContact } from './contact.js';
import { explain } from './explain.js';
import type { MergeRecord } from './linkGraph.js';
import { regroup, type RegroupResult } from './regroup.js';
import type { Separation } from './separations.js';
import type { GovernanceTransaction, NewEvent } from './store.js';

/** What still joins the two sides: one step of a shortest chain between them. */
export interface StillLinkedBy {
  /** An email or phone number both contacts hold, or a logged merge (`merge`) that joined them. */
  field: 'email' | 'phoneNumber' | 'merge';
  /** The two contacts the step joins. */
  contactIds: [number, number];
  /** `merge` only. */
  mergeEventId?: number;
}

export interface UnmergeInput {
  /** Every live row of the customer, in row order. */
  rows: readonly LinkedContact[];
  /** The customer's logged merges (those not undone). */
  merges: readonly MergeRecord[];
  blocklist: Blocklist;
  /** The merge to undo. */
  mergeEventId: number;
  /** A contact of each side the merge joined (survivor's side first). */
  sides: [number, number];
}

export type UnmergePlan =
  /** The sides fall apart: `pieces` are the primaries of the side of `sides[0]` and of `sides[1]`. */
  | { kind: 'split'; result: RegroupResult; pieces: [number, number] }
  /** Something else holds them together: a shortest chain of it, or none when nothing recorded does. */
  | { kind: 'stillLinked'; links: StillLinkedBy[] };

export function planUnmerge({ rows, merges, blocklist, mergeEventId, sides: [a, b] }: UnmergeInput): UnmergePlan {
  const mergesAfter = merges.filter((merge) => merge.eventId !== mergeEventId);
  const result = regroup({ rows, merges, before: blocklist, after: blocklist, mergesAfter });
  const pieceOf = (id: number) => result.customers.find((members) => members.includes(id)) as number[];
  const [pieceA, pieceB] = [pieceOf(a), pieceOf(b)];
  if (pieceA !== pieceB) return { kind: 'split', result, pieces: [pieceA[0] as number, pieceB[0] as number] };
  return { kind: 'stillLinked', links: linksBetween(rows, mergesAfter, blocklist, a, b) };
}

/**
 * The logged merge whose removal separates `a` from `b` (the newest, when several would), or null
 * when no one merge does: for an unmerge asked by the contacts a merge joined.
 */
export function findJoiningMerge(
  rows: readonly LinkedContact[],
  merges: readonly MergeRecord[],
  blocklist: Blocklist,
  [a, b]: [number, number],
): number | null {
  for (const merge of [...merges].sort((x, y) => y.eventId - x.eventId)) {
    const plan = planUnmerge({ rows, merges, blocklist, mergeEventId: merge.eventId, sides: [a, b] });
    if (plan.kind === 'split') return merge.eventId;
  }
  return null;
}

/** A shortest chain from `a` to `b` on the link graph of `merges`, as the links it goes through. */
export function linksBetween(
  rows: readonly LinkedContact[],
  merges: readonly MergeRecord[],
  blocklist: Blocklist,
  a: number,
  b: number,
): StillLinkedBy[] {
  const explanation = explain({ rows, merges, blocklist, from: a, to: b });
  if (explanation.kind !== 'path') return [];
  const links: StillLinkedBy[] = [];
  const { steps } = explanation;
  for (let index = 1; index + 1 < steps.length; index += 2) {
    const [before, step, after] = [steps[index - 1], steps[index], steps[index + 1]];
    if (before?.kind !== 'contact' || after?.kind !== 'contact' || step === undefined) continue;
    const contactIds: [number, number] = [before.id, after.id];
    if (step.kind === 'identifier') links.push({ field: step.field, contactIds });
    else if (step.kind === 'merge') links.push({ field: 'merge', contactIds, mergeEventId: step.eventId });
  }
  return links;
}

/** A logged event that may be a merge, as the unmerge reads it. */
export interface LoggedEvent {
  id: number;
  type: string;
  customerIds: number[];
  contactIds: number[];
  /** The `customer.unmerged` event that undid it, if one did. */
  undoneBy: number | null;
}

/** What the unmerge needs of storage beyond the regroup's (`src/db/governanceStore.ts`, `unmergeStore`). */
export interface UnmergeTransaction extends GovernanceTransaction {
  /** Every live row, in row order, of the customer of live contact `id`; empty when no live contact has it. */
  customerRowsOfContact(id: number): Promise<LinkedContact[]>;
  event(id: number): Promise<LoggedEvent | null>;
  /** Records a separation (contacts in any order) and bumps the block list's version. */
  addSeparation(contactIds: [number, number], mergeEventId: number | null, addedBy: string): Promise<Separation>;
  /** Removes one and bumps the version; null when none has this id. */
  removeSeparation(id: number): Promise<Separation | null>;
}

export interface UnmergeStore {
  /** As `GovernanceStore.exclusive`: one transaction holding the governance lock exclusively. */
  exclusive<T>(work: (tx: UnmergeTransaction) => Promise<T>): Promise<T>;
  /** The block list (its version) and the separations, from one snapshot. */
  loadBlocklist(): Promise<Blocklist>;
}

export type UnmergeTarget = { mergeEventId: number } | { contactIds: [number, number] };

export interface UnmergeOutcome {
  mergeEventId: number;
  /** The primaries of the two sides afterwards: the merge's survivor's side first (by contacts: the first contact's). */
  into: [number, number];
  separation: Separation;
  /** Customers that fell apart, by their old owner (as a block's). */
  splits: RegroupResult['splits'];
}

/** 404: no live contact has the id, or the merge is not one of this customer's (or was undone). */
export class UnmergeNotFoundError extends Error {
  override name = 'UnmergeNotFoundError';
}

/** 400: the contacts given are not live contacts of the customer. */
export class ContactsNotInCustomerError extends Error {
  override name = 'ContactsNotInCustomerError';
  constructor(
    readonly customerId: number,
    readonly contactIds: number[],
  ) {
    super(
      `${contactIds.length > 1 ? 'Contacts' : 'Contact'} ${contactIds.join(', ')} ${contactIds.length > 1 ? 'are' : 'is'} not a live contact of customer ${customerId}.`,
    );
  }
}

/** 409: the two sides are still one customer without the merge; nothing was written. */
export class StillLinkedError extends Error {
  override name = 'StillLinkedError';
  constructor(
    readonly contactIds: [number, number],
    readonly links: StillLinkedBy[],
  ) {
    super(
      links.length > 0
        ? `Contacts ${contactIds[0]} and ${contactIds[1]} are still one customer without that merge: ${links
            .map((link) =>
              link.field === 'merge'
                ? `merge ${link.mergeEventId}`
                : `the ${link.field === 'email' ? 'email' : 'phone number'} of contacts ${link.contactIds.join(' and ')}`,
            )
            .join(', ')} ${links.length > 1 ? 'hold' : 'holds'} them together; nothing was written.`
        : `Contacts ${contactIds[0]} and ${contactIds[1]} are one customer by links no event records (written before the event log, or by another system); nothing was written.`,
    );
  }
}

export interface UnmergeContext {
  /** `admin:keyN`, `admin:open`, …: recorded with the separation. */
  addedBy: string;
  requestId?: string | null;
}

export interface UnmergeService {
  unmerge(customerContactId: number, target: UnmergeTarget, context: UnmergeContext): Promise<UnmergeOutcome>;
  separations(): Promise<{ version: number; separations: readonly Separation[] }>;
  /** Removes a separation; nothing is merged by it (the next request carrying both sides may). Null when none has this id. */
  removeSeparation(id: number, context: UnmergeContext): Promise<Separation | null>;
}

export interface UnmergeServiceOptions {
  /** Called after every change commits: this process's copy of the block list and separations is refreshed at once. */
  onChange?: () => Promise<unknown>;
}

export function createUnmergeService(store: UnmergeStore, { onChange }: UnmergeServiceOptions = {}): UnmergeService {
  const changing = <T>(work: (tx: UnmergeTransaction) => Promise<T>): Promise<T> =>
    store.exclusive(work).then(async (result) => {
      await onChange?.();
      return result;
    });
  return {
    unmerge: (customerContactId, target, context) => changing((tx) => unmergeIn(tx, customerContactId, target, context)),
    separations: async () => {
      const list = await store.loadBlocklist();
      return { version: list.version, separations: list.separations.list };
    },
    removeSeparation: (id, { requestId = null }) =>
      changing(async (tx) => {
        const removed = await tx.removeSeparation(id);
        if (removed === null) return null;
        await tx.applyRegroup(
          [],
          [
            {
              type: 'separation.removed',
              customerIds: [...removed.contactIds],
              contactIds: [...removed.contactIds],
              detail: { separationId: removed.id, mergeEventId: removed.mergeEventId },
            },
          ],
          requestId,
        );
        await tx.markGoverned([...removed.contactIds]);
        return removed;
      }),
  };
}

async function unmergeIn(
  tx: UnmergeTransaction,
  customerContactId: number,
  target: UnmergeTarget,
  { addedBy, requestId = null }: UnmergeContext,
): Promise<UnmergeOutcome> {
  const rows = await tx.customerRowsOfContact(customerContactId);
  if (rows.length === 0) throw new UnmergeNotFoundError(`No live contact has id ${customerContactId}.`);
  const liveIds = new Set(rows.map((row) => row.id));
  const merges = await tx.mergesOf([...liveIds]);
  const blocklist = await tx.loadBlocklist();

  let mergeEventId: number;
  let sides: [number, number];
  if ('mergeEventId' in target) {
    mergeEventId = target.mergeEventId;
    sides = await sidesOfMerge(tx, mergeEventId, liveIds, customerContactId);
  } else {
    sides = target.contactIds;
    const strangers = sides.filter((id) => !liveIds.has(id));
    if (strangers.length > 0) throw new ContactsNotInCustomerError(customerContactId, strangers);
    const joining = findJoiningMerge(rows, merges, blocklist, sides);
    if (joining === null) throw new StillLinkedError(sides, linksBetween(rows, merges, blocklist, sides[0], sides[1]));
    mergeEventId = joining;
  }

  const plan = planUnmerge({ rows, merges, blocklist, mergeEventId, sides });
  if (plan.kind === 'stillLinked') throw new StillLinkedError(sides, plan.links);
  const { result, pieces } = plan;
  const separation = await tx.addSeparation(pieces, mergeEventId, addedBy);
  const owner = rows[0]?.linkedId ?? rows[0]?.id;
  const events: NewEvent[] = [
    {
      type: 'customer.unmerged',
      customerIds: [...pieces, ...(owner === undefined || pieces.includes(owner) ? [] : [owner])],
      detail: { mergeEventId, separationId: separation.id, into: pieces },
    },
    ...result.splits.map((split) => ({
      type: 'customer.split',
      customerIds: [...split.into, ...(split.into.includes(split.ownerId) ? [] : [split.ownerId])],
      detail: { into: split.into, cause: 'customer.unmerged', mergeEventId },
    })),
  ];
  await tx.applyRegroup(result.writes, events, requestId);
  await tx.markGoverned(result.customers.flat());
  return { mergeEventId, into: pieces, separation, splits: result.splits };
}

/** The survivor of a logged merge and a contact it absorbed, both live contacts of the customer. */
async function sidesOfMerge(
  tx: UnmergeTransaction,
  mergeEventId: number,
  liveIds: ReadonlySet<number>,
  customerId: number,
): Promise<[number, number]> {
  const event = await tx.event(mergeEventId);
  if (event === null || event.type !== 'customer.merged') throw new UnmergeNotFoundError(`Event ${mergeEventId} is not a logged merge.`);
  if (event.undoneBy !== null) throw new UnmergeNotFoundError(`Merge ${mergeEventId} was undone already (event ${event.undoneBy}).`);
  const [survivor, ...absorbed] = event.customerIds;
  const absorbedSide = [...absorbed, ...event.contactIds].find((id) => liveIds.has(id));
  if (survivor === undefined || !liveIds.has(survivor) || absorbedSide === undefined) {
    throw new UnmergeNotFoundError(`Merge ${mergeEventId} did not join contacts that are both customer ${customerId}'s now.`);
  }
  return [survivor, absorbedSide];
}
