/**
 * The repair plan, rule by rule: every customer (rows connected by a shared email or phone, or
 * by links) ends with one primary, its oldest row by (createdAt, id), and every other row
 * linked straight to it; only rows that change are in the plan.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRepair, type RepairPlan } from '../../src/maintenance/repairPlan.js';
import { liveRows, type RowSpec } from '../support/brokenTables.js';

/** Every live row's link once the plan is applied: 'primary', or the id it is linked to. */
function repaired(table: RowSpec[]): Record<number, 'primary' | number> {
  const rows = liveRows(table);
  const changes = new Map(planRepair(rows).changes.map((change) => [change.id, change.to]));
  return Object.fromEntries(rows.map((row) => {
    const { linkedId } = changes.get(row.id) ?? row;
    return [row.id, linkedId ?? 'primary'];
  }));
}

function reasons(plan: RepairPlan): Record<number, string> {
  return Object.fromEntries(plan.changes.map((change) => [change.id, change.reason]));
}

describe('repair plan', () => {
  it('flattens a chain: every row points straight at the primary', () => {
    const table = [{ id: 1, email: 'a@x.io' }, { id: 2, phone: '222', linkedId: 1 }, { id: 3, phone: '333', linkedId: 2 }, { id: 4, linkedId: 3, email: 'd@x.io' }];
    assert.deepEqual(repaired(table), { 1: 'primary', 2: 1, 3: 1, 4: 1 });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 3: 'chain', 4: 'chain' });
  });

  it('breaks a cycle of links: its oldest row becomes the primary', () => {
    const table = [{ id: 1, email: 'a@x.io', linkedId: 3 }, { id: 2, email: 'b@x.io', linkedId: 1 }, { id: 3, email: 'c@x.io', linkedId: 2 }];
    assert.deepEqual(repaired(table), { 1: 'primary', 2: 1, 3: 1 });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 1: 'promoted', 3: 'chain' });
  });

  it('breaks a row linked to itself', () => {
    assert.deepEqual(repaired([{ id: 1, email: 'a@x.io', linkedId: 1 }, { id: 2, email: 'a@x.io', linkedId: 1 }]), { 1: 'primary', 2: 1 });
  });

  it('several primaries in one customer: the oldest stays primary, the others are demoted with their secondaries', () => {
    const table = [
      { id: 1, email: 'a@x.io', phone: '111', at: 30 }, { id: 2, phone: '222', linkedId: 1, at: 31 },
      { id: 3, email: 'b@x.io', phone: '111', at: 10 }, { id: 4, email: 'c@x.io', linkedId: 3, at: 11 },
      { id: 5, email: 'b@x.io', at: 20 },
    ];
    assert.deepEqual(repaired(table), { 1: 3, 2: 3, 3: 'primary', 4: 3, 5: 3 });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 1: 'demoted', 2: 'relinked', 5: 'demoted' });
  });

  it('a primary that is not its customer\'s oldest row changes places with the oldest', () => {
    const table = [{ id: 1, email: 'a@x.io', at: 50 }, { id: 2, email: 'a@x.io', phone: '222', linkedId: 1, at: 10 }, { id: 3, phone: '222', linkedId: 1, at: 60 }];
    assert.deepEqual(repaired(table), { 1: 2, 2: 'primary', 3: 2 });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 1: 'demoted', 2: 'promoted', 3: 'relinked' });
  });

  it('breaks ties in createdAt by id', () => {
    assert.deepEqual(repaired([{ id: 2, email: 'a@x.io', at: 5 }, { id: 1, email: 'a@x.io', at: 5 }]), { 1: 'primary', 2: 1 });
  });

  it('merges two customers that share a phone under the older primary', () => {
    const table = [
      { id: 1, email: 'a@x.io', phone: '111' }, { id: 2, email: 'b@x.io', linkedId: 1 },
      { id: 3, email: 'c@x.io', phone: '333' }, { id: 4, email: 'd@x.io', phone: '111', linkedId: 3 },
    ];
    assert.deepEqual(repaired(table), { 1: 'primary', 2: 1, 3: 1, 4: 1 });
  });

  it('keeps customers merged without a shared identifier together (the service merged them on a request that added no row)', () => {
    // Request (a@x.io, 222) merged customer 2 into customer 1; both identifiers were known, so no row records it but the link.
    const table = [{ id: 1, email: 'a@x.io', phone: '111' }, { id: 2, email: 'b@x.io', phone: '222', linkedId: 1 }, { id: 3, email: 'c@x.io', phone: '333', linkedId: 2 }];
    assert.deepEqual(repaired(table), { 1: 'primary', 2: 1, 3: 1 });
  });

  it('keeps the secondaries of a deleted primary together, under their oldest', () => {
    const table = [
      { id: 1, email: 'a@x.io', deleted: true }, { id: 2, email: 'b@x.io', linkedId: 1 }, { id: 3, phone: '333', linkedId: 1 },
      { id: 4, phone: '444', linkedId: 1 }, { id: 5, email: 'e@x.io' },
    ];
    assert.deepEqual(repaired(table), { 2: 'primary', 3: 2, 4: 2, 5: 'primary' });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 2: 'promoted', 3: 'orphan', 4: 'orphan' });
  });

  it('fixes a linkPrecedence that contradicts the link', () => {
    const table: RowSpec[] = [{ id: 1, email: 'a@x.io', precedence: 'secondary' }, { id: 2, email: 'a@x.io', linkedId: 1, precedence: 'primary' }];
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 1: 'precedence', 2: 'precedence' });
  });

  it('leaves customers that share nothing apart', () => {
    assert.deepEqual(repaired([{ id: 1, email: 'a@x.io', phone: '111' }, { id: 2, email: 'b@x.io', phone: '222' }, { id: 3, email: '111' }]), { 1: 'primary', 2: 'primary', 3: 'primary' });
  });

  it('changes nothing in a correct table', () => {
    const plan = planRepair(liveRows([
      { id: 1, email: 'a@x.io', phone: '111' }, { id: 2, email: 'b@x.io', phone: '111', linkedId: 1 }, { id: 3, phone: '333' },
      { id: 4, email: 'a@x.io', phone: '444', linkedId: 1 },
    ]));
    assert.deepEqual(plan.changes, []);
    assert.deepEqual(plan.summary, { rows: 4, components: 2, changed: 0, byReason: { demoted: 0, promoted: 0, precedence: 0, orphan: 0, chain: 0, relinked: 0 } });
  });

  it('reports each change with the link before and after, and counts them by reason', () => {
    const plan = planRepair(liveRows([{ id: 1, email: 'a@x.io' }, { id: 2, email: 'a@x.io' }, { id: 3, phone: '333', linkedId: 2 }]));
    assert.deepEqual(plan.changes, [
      { id: 2, from: { linkedId: null, linkPrecedence: 'primary' }, to: { linkedId: 1, linkPrecedence: 'secondary' }, reason: 'demoted' },
      { id: 3, from: { linkedId: 2, linkPrecedence: 'secondary' }, to: { linkedId: 1, linkPrecedence: 'secondary' }, reason: 'relinked' },
    ]);
    assert.deepEqual(plan.summary, { rows: 3, components: 1, changed: 2, byReason: { demoted: 1, promoted: 0, precedence: 0, orphan: 0, chain: 0, relinked: 1 } });
  });

  it('plans a 300,000-row chain and 300,000 rows sharing one phone without recursion (no stack overflow)', () => {
    const size = 300_000;
    const chain = liveRows(Array.from({ length: size }, (_, i) => ({ id: i + 1, email: `u${i}@x.io`, linkedId: i === 0 ? null : i })));
    assert.equal(planRepair(chain).summary.changed, size - 2);
    const shared = liveRows(Array.from({ length: size }, (_, i) => ({ id: i + 1, phone: '111', at: size - i })));
    const plan = planRepair(shared);
    assert.deepEqual([plan.summary.components, plan.summary.changed], [1, size - 1]);
  });
});
