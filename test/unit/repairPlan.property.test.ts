/**
 * Property: whatever state the links are in (chains, cycles, dangling links, wrong precedences,
 * several primaries), after the plan each customer has exactly one primary, its oldest row, and
 * every other row points straight at it. Customers are found here the slow, obvious way — a
 * search over every pair of rows — rather than with the plan's union-find. And legacy noise in
 * the values (case, blanks around, phone separators) changes nothing in the outcome.
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
      phone: fc.option(fc.constantFrom('111', '222', '333', '+444'), { freq: 2 }),
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
  return (
    (a.email !== null && a.email === b.email) ||
    (a.phoneNumber !== null && a.phoneNumber === b.phoneNumber) ||
    a.linkedId === b.id ||
    b.linkedId === a.id ||
    (a.linkedId !== null && a.linkedId === b.linkedId)
  );
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
      assert.equal(
        Object.values(summary.byReason).reduce((sum, count) => sum + count, 0),
        changes.length,
      );
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

/** `a@x.io` as a legacy system may have stored it: any letter upper-cased, blanks around. */
function noisyEmail(email: string): fc.Arbitrary<string> {
  const blanks = fc.constantFrom('', ' ', '  ', '\t');
  return fc
    .tuple(blanks, fc.array(fc.boolean(), { minLength: email.length, maxLength: email.length }), blanks)
    .map(([before, upper, after]) => `${before}${[...email].map((char, i) => (upper[i] ? char.toUpperCase() : char)).join('')}${after}`);
}

/** `+444` as a legacy system may have stored it: separators anywhere, blanks around. */
function noisyPhone(phone: string): fc.Arbitrary<string> {
  const separators = fc.constantFrom('', '', ' ', '-', '.', '(', ')', ' - ');
  return fc
    .array(separators, { minLength: phone.length + 1, maxLength: phone.length + 1 })
    .map((between) => between.map((separator, i) => `${separator}${phone[i] ?? ''}`).join(''));
}

/** A broken table, and the same table with noise in some of its values. */
const noisyTable: fc.Arbitrary<[clean: RowSpec[], noisy: RowSpec[]]> = brokenTable.chain((table) =>
  fc.tuple(
    fc.constant(table),
    fc
      .tuple(
        ...table.map((row) =>
          fc.record({
            email: row.email == null ? fc.constant(row.email) : fc.oneof(fc.constant(row.email), noisyEmail(row.email)),
            phone: row.phone == null ? fc.constant(row.phone) : fc.oneof(fc.constant(row.phone), noisyPhone(row.phone)),
          }),
        ),
      )
      .map((noise) => table.map((row, i) => ({ ...row, ...noise[i] }))),
  ),
);

/** The rows once the whole plan, values and links, is applied. */
function repairedRows(rows: readonly RepairRow[]): RepairRow[] {
  const { changes, values } = planRepair(rows);
  const links = new Map(changes.map((change) => [change.id, change.to]));
  const normalised = new Map(values.map(({ id, email, phoneNumber }) => [id, { email, phoneNumber }]));
  return rows.map((row) => ({ ...row, ...links.get(row.id), ...normalised.get(row.id) }));
}

it('legacy noise in the values (case, blanks, phone separators) changes nothing: the same groups, primaries and values as the clean table', () => {
  fc.assert(
    fc.property(noisyTable, ([cleanTable, noisyTable]) => {
      const [clean, noisy] = [liveRows(cleanTable), liveRows(noisyTable)];
      const repaired = repairedRows(noisy);
      assert.deepEqual(repaired, repairedRows(clean));
      const plan = planRepair(noisy);
      const noisyIds = noisy
        .filter((row, i) => row.email !== clean[i]?.email || row.phoneNumber !== clean[i]?.phoneNumber)
        .map((row) => row.id);
      assert.deepEqual(
        plan.values.map((change) => change.id),
        noisyIds,
      );
      assert.deepEqual(plan.invalid, []);
      const again = planRepair(repaired);
      assert.deepEqual([again.changes, again.values], [[], []]);
    }),
    { numRuns: 1000 },
  );
});
