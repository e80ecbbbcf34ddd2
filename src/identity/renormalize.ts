/**
 * `repair --renormalize`: moves a table to new normal-form rules (docs/normal-forms.md) while the
 * service serves. A batch of rows at a time, each in its own transaction holding the governance
 * lock exclusively (so no /identify write overlaps it; reads go on): rewrite the values that
 * change, then regroup every customer that owns one of those rows or holds one of the new values,
 * so customers that have become one are joined by the usual rules (oldest row primary). The
 * rows written meanwhile by processes still on the old rules are taken in a last pass that also
 * records the new rules, in one transaction; from then on those processes refuse to answer
 * (the version check, NORMAL_FORM_CHANGED) until restarted with the new settings.
 */
import { Blocklist, checkRule } from './blocklist.js';
import { regroupRows } from './governance.js';
import { createNormaliser, type NormalFormRules, type Normaliser } from './normalise.js';
import { IDENTIFIER_FIELDS, judgeStoredValue } from './storedValues.js';
import type { GovernanceStore, GovernanceTransaction, StoredIdentifiers, ValueRewrite } from './store.js';

export const DEFAULT_RENORMALIZE_BATCH = 1_000;

export interface RenormalizeCounts {
  /** Live rows read. */
  scanned: number;
  /** Rows whose email or phone was rewritten. */
  rewritten: number;
  /** Rows with a value that has no normal form (N2): left as they are. */
  invalid: number;
  /** Customers absorbed into others because they now share a value. */
  absorbed: number;
}

export interface RenormalizeResult extends RenormalizeCounts {
  rules: NormalFormRules;
  /** Exact and domain block rules whose value was rewritten (or dropped as a duplicate). */
  blockRulesRewritten: number;
}

export interface RenormalizeOptions {
  batchSize?: number;
  /** After every batch, with the totals so far and the last row id reached. */
  onBatch?: (totals: RenormalizeCounts, lastId: number) => void;
}

export async function renormalize(
  store: GovernanceStore,
  target: NormalFormRules,
  { batchSize = DEFAULT_RENORMALIZE_BATCH, onBatch }: RenormalizeOptions = {},
): Promise<RenormalizeResult> {
  const normaliser = createNormaliser(target);
  const totals: RenormalizeCounts = { scanned: 0, rewritten: 0, invalid: 0, absorbed: 0 };
  let lastId = 0;
  const step = async (tx: GovernanceTransaction): Promise<boolean> => {
    const batch = await renormalizeBatch(tx, normaliser, lastId, batchSize);
    for (const key of Object.keys(totals) as (keyof RenormalizeCounts)[]) totals[key] += batch.counts[key];
    lastId = batch.lastId;
    onBatch?.(totals, lastId);
    return batch.counts.scanned === batchSize;
  };

  await store.exclusive((tx) => tx.recordRenormalizing(target));
  while (await store.exclusive(step));
  // The tail (rows the old rules' processes wrote meanwhile), the block rules and the record,
  // under one lock: no row in the old form can appear once the new rules are recorded.
  const blockRulesRewritten = await store.exclusive(async (tx) => {
    while (await step(tx));
    const rewritten = await renormalizeBlockRules(tx, normaliser);
    await tx.recordRules(target);
    return rewritten;
  });
  return { ...totals, rules: target, blockRulesRewritten };
}

async function renormalizeBatch(
  tx: GovernanceTransaction,
  normaliser: Normaliser,
  afterId: number,
  limit: number,
): Promise<{ counts: RenormalizeCounts; lastId: number }> {
  const rows = await tx.liveRowsPage(afterId, limit);
  const { changes, invalid } = rewritesOf(rows, normaliser);
  let absorbed = 0;
  if (changes.length > 0) {
    await tx.rewriteValues(changes);
    const affected = await tx.rowsOfCustomersHolding(
      changes.map((change) => change.id),
      changes.map((change) => change.to),
    );
    const result = await regroupRows(tx, affected, 'renormalize');
    absorbed = result.merges.reduce((sum, merge) => sum + merge.absorbedOwnerIds.length, 0);
  }
  return {
    counts: { scanned: rows.length, rewritten: changes.length, invalid, absorbed },
    lastId: rows.at(-1)?.id ?? afterId,
  };
}

/** The rows whose values are not in the new normal form, with the values they get. */
export function rewritesOf(rows: readonly StoredIdentifiers[], normaliser: Normaliser): { changes: ValueRewrite[]; invalid: number } {
  const changes: ValueRewrite[] = [];
  let invalid = 0;
  for (const row of rows) {
    const to = { email: row.email, phoneNumber: row.phoneNumber };
    let bad = false;
    for (const field of IDENTIFIER_FIELDS) {
      const verdict = judgeStoredValue(field, row[field], normaliser);
      if (verdict.kind === 'fixable') to[field] = verdict.value;
      else if (verdict.kind === 'invalid') bad = true;
    }
    if (bad) invalid += 1;
    if (to.email !== row.email || to.phoneNumber !== row.phoneNumber) {
      changes.push({ id: row.id, from: { email: row.email, phoneNumber: row.phoneNumber }, to });
    }
  }
  return { changes, invalid };
}

/**
 * Exact and domain rules in the new form, so they go on matching what they blocked; of rules
 * that become the same, the oldest stays. Pattern rules are kept as written.
 */
async function renormalizeBlockRules(tx: GovernanceTransaction, normaliser: Normaliser): Promise<number> {
  const list: Blocklist = await tx.loadBlocklist();
  const kept = new Map<string, number>();
  const changes: { id: number; value: string }[] = [];
  const dropIds: number[] = [];
  for (const rule of list.rules) {
    if (rule.match === 'pattern') continue;
    const checked = checkRule(rule, normaliser);
    const value = checked.ok ? checked.rule.value : rule.value;
    const key = `${rule.field}\u0000${rule.match}\u0000${value}`;
    if (kept.has(key)) {
      dropIds.push(rule.id);
      continue;
    }
    kept.set(key, rule.id);
    if (value !== rule.value) changes.push({ id: rule.id, value });
  }
  await tx.rewriteRuleValues(changes, dropIds);
  return changes.length + dropIds.length;
}
