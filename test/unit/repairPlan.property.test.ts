/**
 * Property: whatever state the links are in (chains, cycles, dangling links, wrong precedences,
 * several primaries), after the plan each customer has exactly one primary, its oldest row, and
 * every other row points straight at it. Customers are found here the slow, obvious way — a
 * search over every pair of rows — rather than with the plan's union-find.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { planRepair, type RepairRow } from '../../src/maintenance/repairPlan.js';
import { liveRows, type RowSpec } from '../support/brokenTables.js';

const brokenTable: fc.Arbitrary<RowSpec[]> = fc
  .array(
    fc.record({
      email: fc.option(fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'), { freq: 2 }),
      phone: fc.option(fc.constantFrom('111', '222', '333', '444'), { freq: 2 }),
      // Up to 3 past the last id: links to missing rows.
      link: fc.option(fc.nat(30), { freq: 2 }),
      precedence: fc.constantFrom('primary' as const, 'secondary' as const),
      // Few distinct times, so that ties (broken by id) are common.
      at: fc.nat(6),
      deleted: fc.nat(9).map((n) => n < 2),
    }),
    { minLength: 1, maxLength: 28 },
  )
  .map((rows) => rows.map(({ link, ...row }, index) => ({ ...row, id: index + 1, linkedId: link === null ? null : link + 1 })));

function related(a: RepairRow, b: RepairRow): boolean {
  return (a.email !== null && a.email === b.email) || (a.phoneNumber !== null && a.phoneNumber === b.phoneNumber) ||
    a.linkedId === b.id || b.linkedId === a.id || (a.linkedId !== null && a.linkedId === b.linkedId);
}

/** The customers: connected components of `related`, by breadth-first search. */
function customersOf(rows: readonly RepairRow[]): RepairRow[][] {
  const seen = new Set<RepairRow>();
  const customers: RepairRow[][] = [];
  for (const start of rows) {
    if (seen.has(start)) continue;
    const customer = [start];
    seen.add(start);
    for (let i = 0; i < customer.length; i++) {
      for (const other of rows) {
        if (!seen.has(other) && related(customer[i] as RepairRow, other)) {
          seen.add(other);
          customer.push(other);
        }
      }
    }
    customers.push(customer);
  }
  return customers;
}

function applied(rows: readonly RepairRow[]): RepairRow[] {
  const changes = new Map(planRepair(rows).changes.map((change) => [change.id, change.to]));
  return rows.map((row) => ({ ...row, ...changes.get(row.id) }));
}

const byAge = (a: RepairRow, b: RepairRow) => a.createdAt - b.createdAt || a.id - b.id;

it('after the plan, each customer has one primary, its oldest row, and every other row links straight to it', () => {
  fc.assert(
    fc.property(brokenTable, (table) => {
      const rows = liveRows(table);
      const after = new Map(applied(rows).map((row) => [row.id, row]));
      // Customers as the table had them: a plan that split one would pass a check made afterwards.
      for (const customer of customersOf(rows)) {
        const [oldest, ...others] = customer.map((row) => after.get(row.id) as RepairRow).sort(byAge);
        assert.ok(oldest);
        assert.deepEqual([oldest.linkedId, oldest.linkPrecedence], [null, 'primary']);
        for (const row of others) assert.deepEqual([row.linkedId, row.linkPrecedence], [oldest.id, 'secondary']);
      }
    }),
    { numRuns: 2000 },
  );
});

it('the plan lists only real changes, from the rows as they are, counted in its summary', () => {
  fc.assert(
    fc.property(brokenTable, (table) => {
      const rows = liveRows(table);
      const byId = new Map(rows.map((row) => [row.id, row]));
      const { changes, summary } = planRepair(rows);
      for (const { id, from, to } of changes) {
        const row = byId.get(id);
        assert.deepEqual(from, { linkedId: row?.linkedId, linkPrecedence: row?.linkPrecedence });
        assert.notDeepEqual(from, to);
      }
      assert.equal(summary.rows, rows.length);
      assert.equal(summary.components, customersOf(rows).length);
      assert.equal(summary.changed, changes.length);
      assert.equal(Object.values(summary.byReason).reduce((sum, count) => sum + count, 0), changes.length);
    }),
    { numRuns: 1000 },
  );
});

it('the plan is idempotent and does not depend on the order rows are read in', () => {
  fc.assert(
    fc.property(brokenTable, (table) => {
      const rows = liveRows(table);
      assert.deepEqual(planRepair(applied(rows)).changes, []);
      const sortById = <T extends { id: number }>(items: T[]) => items.sort((a, b) => a.id - b.id);
      assert.deepEqual(sortById(planRepair([...rows].reverse()).changes), planRepair(rows).changes);
    }),
    { numRuns: 1000 },
  );
});
