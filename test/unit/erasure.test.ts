/** The pure parts of an erasure: which rows are erased and what the others keep, and the regroup after it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Blocklist } from '../../src/identity/blocklist.js';
import type { LinkedContact } from '../../src/identity/contact.js';
import { DisjointSets } from '../../src/identity/disjointSets.js';
import { planErasure } from '../../src/identity/erasure.js';
import { regroup } from '../../src/identity/regroup.js';

const row = (id: number, email: string | null, phoneNumber: string | null, linkedId: number | null = null): LinkedContact => ({
  id,
  email,
  phoneNumber,
  linkedId,
  linkPrecedence: linkedId === null ? 'primary' : 'secondary',
});
const nothing = Blocklist.empty(1);

describe('planning an erasure', () => {
  it('erases the targets, and forgets their values in the other rows', () => {
    const rows = [row(1, 'a@x.io', '111'), row(2, 'a@x.io', '222', 1), row(3, 'c@x.io', '222', 1)];
    const plan = planErasure(rows, new Set([2]), new Set(['a@x.io']), new Set(['222']));
    assert.deepEqual(plan.erasedIds, [2]);
    assert.deepEqual(plan.survivors, [row(1, null, '111'), row(3, 'c@x.io', null, 1)]);
    assert.deepEqual(plan.scrubs, [
      { id: 1, email: null, phoneNumber: '111', erased: false },
      { id: 2, email: null, phoneNumber: null, erased: true },
      { id: 3, email: 'c@x.io', phoneNumber: null, erased: false },
    ]);
  });

  it('erases a row that forgetting the values leaves with no identifier', () => {
    const rows = [row(1, 'a@x.io', '111'), row(2, 'a@x.io', null, 1)];
    assert.deepEqual(planErasure(rows, new Set([1]), new Set(['a@x.io']), new Set(['111'])).erasedIds, [1, 2]);
  });
});

/** The reference: customers are the groups of rows sharing a value (transitively), oldest row first. */
function componentsBySharedValues(rows: readonly LinkedContact[]): number[][] {
  const sets = new DisjointSets(rows.length);
  const firstWith = new Map<string, number>();
  rows.forEach((r, index) => {
    for (const key of [r.email && `e:${r.email}`, r.phoneNumber && `p:${r.phoneNumber}`]) {
      if (!key) continue;
      const first = firstWith.get(key);
      if (first === undefined) firstWith.set(key, index);
      else sets.union(first, index);
    }
  });
  const groups = new Map<number, number[]>();
  rows.forEach((r, index) => groups.set(sets.find(index), [...(groups.get(sets.find(index)) ?? []), r.id]));
  return [...groups.values()];
}

describe('the regroup after an erasure', () => {
  it('matches the reference: the survivors grouped by the values they still share, whatever was erased', () => {
    const value = (prefix: string) => fc.option(fc.constantFrom(`${prefix}1`, `${prefix}2`, `${prefix}3`, `${prefix}4`), { nil: null });
    fc.assert(
      fc.property(
        fc.array(fc.record({ email: value('e'), phone: value('p') }), { minLength: 1, maxLength: 9 }),
        fc.array(fc.nat(8), { maxLength: 3 }),
        (specs, picked) => {
          const plain = specs.map((spec, index) => row(index + 1, spec.email, spec.phone ?? (spec.email === null ? 'p0' : null)));
          // A consistent table: each customer is a component of shared values, linked to its oldest row.
          const rows = componentsBySharedValues(plain).flatMap((ids) =>
            ids.map((id) => ({ ...plain[id - 1], linkedId: id === ids[0] ? null : ids[0] }) as LinkedContact),
          );
          rows.sort((a, b) => a.id - b.id);
          const targets = new Set(picked.filter((index) => index < rows.length).map((index) => index + 1));
          if (targets.size === 0) return;
          const targetRows = rows.filter((r) => targets.has(r.id));
          const emails = new Set(targetRows.flatMap((r) => (r.email ? [r.email] : [])));
          const phones = new Set(targetRows.flatMap((r) => (r.phoneNumber ? [r.phoneNumber] : [])));
          const plan = planErasure(rows, targets, emails, phones);
          const result = regroup({ rows: plan.survivors, merges: [], before: nothing, after: nothing, graphBefore: { rows, merges: [] } });
          assert.deepEqual(result.customers, componentsBySharedValues(plan.survivors));
        },
      ),
      { numRuns: 500 },
    );
  });
});
