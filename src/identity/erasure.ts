/**
 * Erasure (the right to be forgotten): rows lose their email and phone and get `deletedAt`; the
 * values they carried are forgotten everywhere — in other rows holding them (a row left with no
 * identifier is erased too), in the event log, and as exact block rules — and the customers'
 * remaining live rows are regrouped into what their remaining values connect (an erased row may
 * have been the only bridge), each with its oldest row primary. One transaction holding the
 * governance lock exclusively, like a block: no /identify write overlaps it.
 */
import type { LinkedContact } from './contact.js';
import { regroupEvents, type ChangeContext } from './governance.js';
import type { MergeRecord } from './linkGraph.js';
import { regroup, type RegroupResult } from './regroup.js';
import type { ErasureTarget, GovernanceStore, RowScrub } from './store.js';

export type { ErasureTarget } from './store.js';

export interface ErasureOutcome {
  /** The rows erased, by id. */
  erasedContactIds: number[];
  /** The customers their remaining rows make now: each one's primary first, in row order. */
  customers: number[][];
  /** Customers that fell apart, by the row they were owned by, into the primaries of the pieces. */
  splits: RegroupResult['splits'];
  /** Exact block rules that held an erased value: removed, since the value must appear nowhere. */
  blockRulesRemoved: number;
}

/** No live contact matches what was asked to be erased. */
export class NothingToEraseError extends Error {
  override name = 'NothingToEraseError';
}

export interface ErasureService {
  erase(target: ErasureTarget, context: ChangeContext): Promise<ErasureOutcome>;
}

export function createErasureService(store: GovernanceStore, { onChange }: { onChange?: () => Promise<unknown> } = {}): ErasureService {
  return {
    erase: (target, { requestId = null }) =>
      store
        .exclusive(async (tx) => {
          const targets = await tx.rowsToErase(target);
          if (targets.length === 0) throw new NothingToEraseError('no live contact matches');
          const emails = new Set(targets.flatMap((row) => (row.email === null ? [] : [row.email])));
          const phones = new Set(targets.flatMap((row) => (row.phoneNumber === null ? [] : [row.phoneNumber])));
          const affected = await tx.rowsOfCustomersHolding(
            targets.map((row) => row.id),
            targets.map(({ email, phoneNumber }) => ({ email, phoneNumber })),
          );
          const plan = planErasure(affected, new Set(targets.map((row) => row.id)), emails, phones);
          const list = await tx.loadBlocklist();
          const merges = await tx.mergesOf(affected.map((row) => row.id));
          const result = regroup({
            rows: plan.survivors,
            merges: merges.map((merge) => forget(merge, emails, phones)),
            before: list,
            after: list,
            graphBefore: { rows: affected, merges },
          });
          const rules = list.rules.filter((rule) => rule.match === 'exact' && (rule.field === 'email' ? emails : phones).has(rule.value));
          for (const rule of rules) await tx.removeRule(rule.id);
          await tx.eraseValues(plan.scrubs, [...emails], [...phones]);
          const owners = [...new Set(affected.map((row) => row.linkedId ?? row.id))];
          await tx.applyRegroup(
            result.writes,
            [
              { type: 'contact.erased', customerIds: owners, contactIds: plan.erasedIds, detail: { contactIds: plan.erasedIds } },
              ...regroupEvents(result, 'erasure'),
            ],
            requestId,
          );
          if (rules.length > 0) await tx.markGoverned(result.customers.flat());
          return { erasedContactIds: plan.erasedIds, customers: result.customers, splits: result.splits, blockRulesRemoved: rules.length };
        })
        .then(async (outcome) => {
          if (outcome.blockRulesRemoved > 0) await onChange?.();
          return outcome;
        }),
  };
}

interface ErasurePlan {
  erasedIds: number[];
  /** Every affected row whose values change: erased ones lose both, others the forgotten one. */
  scrubs: RowScrub[];
  /** The rows that stay live, with the values they keep, in row order. */
  survivors: LinkedContact[];
}

/**
 * Which rows are erased and what the others keep. Pure. A row is erased when it is a target or
 * when forgetting the values leaves it no identifier.
 */
export function planErasure(
  rows: readonly LinkedContact[],
  targets: ReadonlySet<number>,
  emails: ReadonlySet<string>,
  phones: ReadonlySet<string>,
): ErasurePlan {
  const erasedIds: number[] = [];
  const scrubs: RowScrub[] = [];
  const survivors: LinkedContact[] = [];
  for (const row of rows) {
    const email = row.email !== null && emails.has(row.email) ? null : row.email;
    const phoneNumber = row.phoneNumber !== null && phones.has(row.phoneNumber) ? null : row.phoneNumber;
    const erased = targets.has(row.id) || (email === null && phoneNumber === null);
    if (erased) {
      erasedIds.push(row.id);
      scrubs.push({ id: row.id, email: null, phoneNumber: null, erased: true });
      continue;
    }
    if (email !== row.email || phoneNumber !== row.phoneNumber) scrubs.push({ id: row.id, email, phoneNumber, erased: false });
    survivors.push({ ...row, email, phoneNumber });
  }
  erasedIds.sort((a, b) => a - b);
  return { erasedIds, scrubs, survivors };
}

/** A logged merge as the log will hold it: an erased identifier is gone from it too. */
function forget(merge: MergeRecord, emails: ReadonlySet<string>, phones: ReadonlySet<string>): MergeRecord {
  return {
    ...merge,
    email: merge.email !== null && emails.has(merge.email) ? null : merge.email,
    phoneNumber: merge.phoneNumber !== null && phones.has(merge.phoneNumber) ? null : merge.phoneNumber,
  };
}
