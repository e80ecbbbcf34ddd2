/**
 * Property: whatever state the links are in (chains, cycles, dangling links, wrong precedences,
 * several primaries), and whatever the block list, after the plan each customer has exactly one
 * primary, its oldest row, and every other row points straight at it. Customers are found here the
 * slow, obvious way — a search over every pair of rows, asking the list about each shared value —
 * rather than with the plan's union-find. And legacy noise in the values (case, blanks around,
 * phone separators) changes nothing in the outcome.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { Blocklist, type BlockRuleSpec } from '../../src/identity/blocklist.js';
import { planRepair, type RepairRow } from '../../src/maintenance/repairPlan.js';
import { blocklistOf } from '../support/blocklists.js';
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

/** Rules over the values `brokenTable` draws from: each exact kind, a domain holding every email, patterns. */
const RULES: readonly BlockRuleSpec[] = [
  { field: 'email', match: 'exact', value: 'a@x.io' },
  { field: 'email', match: 'exact', value: 'b@x.io' },
  { field: 'email', match: 'domain', value: 'x.io' },
  { field: 'email', match: 'pattern', value: '^[cd]@' },
  { field: 'phoneNumber', match: 'exact', value: '111' },
  { field: 'phoneNumber', match: 'pattern', value: '^\\+' },
  { field: 'phoneNumber', match: 'pattern', value: '^(2|3)+$' },
];

/** Mostly short lists, often empty. */
const blocklists: fc.Arbitrary<Blocklist> = fc
  .subarray([...RULES], { maxLength: 3 })
  .map((rules) => (rules.length === 0 ? Blocklist.empty() : blocklistOf(...rules)));

/** A value both rows hold links them unless it is blocked; so do links. */
function related(a: RepairRow, b: RepairRow, blocklist: Blocklist): boolean {
  return (
    (a.email !== null && a.email === b.email && !blocklist.isBlocked('email', a.email)) ||
    (a.phoneNumber !== null && a.phoneNumber === b.phoneNumber && !blocklist.isBlocked('phoneNumber', a.phoneNumber)) ||
    a.linkedId === b.id ||
    b.linkedId === a.id ||
    (a.linkedId !== null && a.linkedId === b.linkedId)
  );
}

/** The customers: connected components of `related`, by breadth-first search. */
function customersOf(rows: readonly RepairRow[], blocklist: Blocklist): RepairRow[][] {
  const seen = new Set<RepairRow>();
  const customers: RepairRow[][] = [];
  for (const start of rows) {
    if (seen.has(start)) continue;
    const customer = [start];
    seen.add(start);
    for (let i = 0; i < customer.length; i++) {
      for (const other of rows) {
        if (!seen.has(other) && related(customer[i] as RepairRow, other, blocklist)) {
          seen.add(other);
          customer.push(other);
        }
      }
    }
    customers.push(customer);
  }
  return customers;
}

function applied(rows: readonly RepairRow[], blocklist: Blocklist): RepairRow[] {
  const changes = new Map(planRepair(rows, blocklist).changes.map((change) => [change.id, change.to]));
  return rows.map((row) => ({ ...row, ...changes.get(row.id) }));
}

const byAge = (a: RepairRow, b: RepairRow) => a.createdAt - b.createdAt || a.id - b.id;

it('after the plan, each customer has one primary, its oldest row, and every other row links straight to it', () => {
  fc.assert(
    fc.property(brokenTable, blocklists, (table, blocklist) => {
      const rows = liveRows(table);
      const after = new Map(applied(rows, blocklist).map((row) => [row.id, row]));
      // Customers as the table had them: a plan that split one would pass a check made afterwards.
      for (const customer of customersOf(rows, blocklist)) {
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
    fc.property(brokenTable, blocklists, (table, blocklist) => {
      const rows = liveRows(table);
      const byId = new Map(rows.map((row) => [row.id, row]));
      const { changes, summary } = planRepair(rows, blocklist);
      for (const { id, from, to } of changes) {
        const row = byId.get(id);
        assert.deepEqual(from, { linkedId: row?.linkedId, linkPrecedence: row?.linkPrecedence });
        assert.notDeepEqual(from, to);
      }
      assert.equal(summary.rows, rows.length);
      assert.equal(summary.components, customersOf(rows, blocklist).length);
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
    fc.property(brokenTable, blocklists, (table, blocklist) => {
      const rows = liveRows(table);
      assert.deepEqual(planRepair(applied(rows, blocklist), blocklist).changes, []);
      const sortById = <T extends { id: number }>(items: T[]) => items.sort((a, b) => a.id - b.id);
      assert.deepEqual(sortById(planRepair([...rows].reverse(), blocklist).changes), planRepair(rows, blocklist).changes);
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
function repairedRows(rows: readonly RepairRow[], blocklist: Blocklist): RepairRow[] {
  const { changes, values } = planRepair(rows, blocklist);
  const links = new Map(changes.map((change) => [change.id, change.to]));
  const normalised = new Map(values.map(({ id, email, phoneNumber }) => [id, { email, phoneNumber }]));
  return rows.map((row) => ({ ...row, ...links.get(row.id), ...normalised.get(row.id) }));
}

it('legacy noise in the values (case, blanks, phone separators) changes nothing: the same groups, primaries and values as the clean table', () => {
  fc.assert(
    fc.property(noisyTable, blocklists, ([cleanTable, noisyTable], blocklist) => {
      const [clean, noisy] = [liveRows(cleanTable), liveRows(noisyTable)];
      const repaired = repairedRows(noisy, blocklist);
      assert.deepEqual(repaired, repairedRows(clean, blocklist));
      const plan = planRepair(noisy, blocklist);
      const noisyIds = noisy
        .filter((row, i) => row.email !== clean[i]?.email || row.phoneNumber !== clean[i]?.phoneNumber)
        .map((row) => row.id);
      assert.deepEqual(
        plan.values.map((change) => change.id),
        noisyIds,
      );
      assert.deepEqual(plan.invalid, []);
      const again = planRepair(repaired, blocklist);
      assert.deepEqual([again.changes, again.values], [[], []]);
    }),
    { numRuns: 1000 },
  );
});
