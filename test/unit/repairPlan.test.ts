/**
 * The repair plan, rule by rule: stored emails and phones are put in the normal form requests
 * use (values with none are kept and reported); every customer (rows connected by a shared email
 * or phone as they will be stored and not blocked, or by links) ends with one primary, its oldest
 * row by (createdAt, id), and every other row linked straight to it; only rows that change are in the plan.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Blocklist } from '../../src/identity/blocklist.js';
import { planRepair, type RepairPlan } from '../../src/maintenance/repairPlan.js';
import { blocklistOf } from '../support/blocklists.js';
import { liveRows, type RowSpec } from '../support/brokenTables.js';

/** Every live row's link once the plan is applied: 'primary', or the id it is linked to. */
function repaired(table: RowSpec[], blocklist?: Blocklist): Record<number, 'primary' | number> {
  const rows = liveRows(table);
  const changes = new Map(planRepair(rows, blocklist).changes.map((change) => [change.id, change.to]));
  return Object.fromEntries(
    rows.map((row) => {
      const { linkedId } = changes.get(row.id) ?? row;
      return [row.id, linkedId ?? 'primary'];
    }),
  );
}

function reasons(plan: RepairPlan): Record<number, string> {
  return Object.fromEntries(plan.changes.map((change) => [change.id, change.reason]));
}

describe('repair plan', () => {
  it('flattens a chain: every row points straight at the primary', () => {
    const table = [
      { id: 1, email: 'a@x.io' },
      { id: 2, phone: '222', linkedId: 1 },
      { id: 3, phone: '333', linkedId: 2 },
      { id: 4, linkedId: 3, email: 'd@x.io' },
    ];
    assert.deepEqual(repaired(table), { 1: 'primary', 2: 1, 3: 1, 4: 1 });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 3: 'chain', 4: 'chain' });
  });

  it('breaks a cycle of links: its oldest row becomes the primary', () => {
    const table = [
      { id: 1, email: 'a@x.io', linkedId: 3 },
      { id: 2, email: 'b@x.io', linkedId: 1 },
      { id: 3, email: 'c@x.io', linkedId: 2 },
    ];
    assert.deepEqual(repaired(table), { 1: 'primary', 2: 1, 3: 1 });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 1: 'promoted', 3: 'chain' });
  });

  it('breaks a row linked to itself', () => {
    assert.deepEqual(
      repaired([
        { id: 1, email: 'a@x.io', linkedId: 1 },
        { id: 2, email: 'a@x.io', linkedId: 1 },
      ]),
      { 1: 'primary', 2: 1 },
    );
  });

  it('several primaries in one customer: the oldest stays primary, the others are demoted with their secondaries', () => {
    const table = [
      { id: 1, email: 'a@x.io', phone: '111', at: 30 },
      { id: 2, phone: '222', linkedId: 1, at: 31 },
      { id: 3, email: 'b@x.io', phone: '111', at: 10 },
      { id: 4, email: 'c@x.io', linkedId: 3, at: 11 },
      { id: 5, email: 'b@x.io', at: 20 },
    ];
    assert.deepEqual(repaired(table), { 1: 3, 2: 3, 3: 'primary', 4: 3, 5: 3 });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 1: 'demoted', 2: 'relinked', 5: 'demoted' });
  });

  it("a primary that is not its customer's oldest row changes places with the oldest", () => {
    const table = [
      { id: 1, email: 'a@x.io', at: 50 },
      { id: 2, email: 'a@x.io', phone: '222', linkedId: 1, at: 10 },
      { id: 3, phone: '222', linkedId: 1, at: 60 },
    ];
    assert.deepEqual(repaired(table), { 1: 2, 2: 'primary', 3: 2 });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 1: 'demoted', 2: 'promoted', 3: 'relinked' });
  });

  it('breaks ties in createdAt by id', () => {
    assert.deepEqual(
      repaired([
        { id: 2, email: 'a@x.io', at: 5 },
        { id: 1, email: 'a@x.io', at: 5 },
      ]),
      { 1: 'primary', 2: 1 },
    );
  });

  it('merges two customers that share a phone under the older primary', () => {
    const table = [
      { id: 1, email: 'a@x.io', phone: '111' },
      { id: 2, email: 'b@x.io', linkedId: 1 },
      { id: 3, email: 'c@x.io', phone: '333' },
      { id: 4, email: 'd@x.io', phone: '111', linkedId: 3 },
    ];
    assert.deepEqual(repaired(table), { 1: 'primary', 2: 1, 3: 1, 4: 1 });
  });

  it('keeps customers merged without a shared identifier together (the service merged them on a request that added no row)', () => {
    // Request (a@x.io, 222) merged customer 2 into customer 1; both identifiers were known, so no row records it but the link.
    const table = [
      { id: 1, email: 'a@x.io', phone: '111' },
      { id: 2, email: 'b@x.io', phone: '222', linkedId: 1 },
      { id: 3, email: 'c@x.io', phone: '333', linkedId: 2 },
    ];
    assert.deepEqual(repaired(table), { 1: 'primary', 2: 1, 3: 1 });
  });

  it('keeps the secondaries of a deleted primary together, under their oldest', () => {
    const table = [
      { id: 1, email: 'a@x.io', deleted: true },
      { id: 2, email: 'b@x.io', linkedId: 1 },
      { id: 3, phone: '333', linkedId: 1 },
      { id: 4, phone: '444', linkedId: 1 },
      { id: 5, email: 'e@x.io' },
    ];
    assert.deepEqual(repaired(table), { 2: 'primary', 3: 2, 4: 2, 5: 'primary' });
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 2: 'promoted', 3: 'orphan', 4: 'orphan' });
  });

  it('fixes a linkPrecedence that contradicts the link', () => {
    const table: RowSpec[] = [
      { id: 1, email: 'a@x.io', precedence: 'secondary' },
      { id: 2, email: 'a@x.io', linkedId: 1, precedence: 'primary' },
    ];
    assert.deepEqual(reasons(planRepair(liveRows(table))), { 1: 'precedence', 2: 'precedence' });
  });

  it('leaves customers that share nothing apart', () => {
    assert.deepEqual(
      repaired([
        { id: 1, email: 'a@x.io', phone: '111' },
        { id: 2, email: 'b@x.io', phone: '222' },
        { id: 3, email: '111' },
      ]),
      { 1: 'primary', 2: 'primary', 3: 'primary' },
    );
  });

  it('changes nothing in a correct table', () => {
    const plan = planRepair(
      liveRows([
        { id: 1, email: 'a@x.io', phone: '111' },
        { id: 2, email: 'b@x.io', phone: '111', linkedId: 1 },
        { id: 3, phone: '333' },
        { id: 4, email: 'a@x.io', phone: '444', linkedId: 1 },
      ]),
    );
    assert.deepEqual([plan.changes, plan.values, plan.invalid], [[], [], []]);
    assert.deepEqual(plan.summary, {
      rows: 4,
      components: 2,
      changed: 0,
      byReason: { demoted: 0, promoted: 0, precedence: 0, orphan: 0, chain: 0, relinked: 0 },
      normalised: { rows: 0, email: 0, phoneNumber: 0 },
      invalid: { rows: 0, email: 0, phoneNumber: 0 },
    });
  });

  it('reports each change with the link before and after, and counts them by reason', () => {
    const plan = planRepair(
      liveRows([
        { id: 1, email: 'a@x.io' },
        { id: 2, email: 'a@x.io' },
        { id: 3, phone: '333', linkedId: 2 },
      ]),
    );
    assert.deepEqual(plan.changes, [
      { id: 2, from: { linkedId: null, linkPrecedence: 'primary' }, to: { linkedId: 1, linkPrecedence: 'secondary' }, reason: 'demoted' },
      { id: 3, from: { linkedId: 2, linkPrecedence: 'secondary' }, to: { linkedId: 1, linkPrecedence: 'secondary' }, reason: 'relinked' },
    ]);
    assert.deepEqual(plan.summary, {
      rows: 3,
      components: 1,
      changed: 2,
      byReason: { demoted: 1, promoted: 0, precedence: 0, orphan: 0, chain: 0, relinked: 1 },
      normalised: { rows: 0, email: 0, phoneNumber: 0 },
      invalid: { rows: 0, email: 0, phoneNumber: 0 },
    });
  });

  it('plans a 300,000-row chain and 300,000 rows sharing one phone without recursion (no stack overflow)', () => {
    const size = 300_000;
    const chain = liveRows(Array.from({ length: size }, (_, i) => ({ id: i + 1, email: `u${i}@x.io`, linkedId: i === 0 ? null : i })));
    assert.equal(planRepair(chain).summary.changed, size - 2);
    const shared = liveRows(Array.from({ length: size }, (_, i) => ({ id: i + 1, phone: '111', at: size - i })));
    const plan = planRepair(shared);
    assert.deepEqual([plan.summary.components, plan.summary.changed], [1, size - 1]);
  });

  describe('with a block list', () => {
    const placeholder = blocklistOf({ field: 'email', match: 'exact', value: 'test@test.com' });

    it('leaves apart two customers that share only a blocked email; without the rule they are one', () => {
      const table = [
        { id: 1, email: 'test@test.com', phone: '111' },
        { id: 2, email: 'test@test.com', phone: '222' },
      ];
      assert.deepEqual(repaired(table, placeholder), { 1: 'primary', 2: 'primary' });
      assert.deepEqual(repaired(table), { 1: 'primary', 2: 1 });
      assert.equal(planRepair(liveRows(table), placeholder).summary.components, 2);
    });

    it('joins customers that share an unblocked phone beside the blocked email', () => {
      const table = [
        { id: 1, email: 'test@test.com', phone: '111' },
        { id: 2, email: 'test@test.com', phone: '111' },
      ];
      assert.deepEqual(repaired(table, placeholder), { 1: 'primary', 2: 1 });
    });

    it('keeps a secondary linked to its customer although the value they share is blocked: links still count', () => {
      const table = [
        { id: 1, email: 'test@test.com', phone: '111' },
        { id: 2, email: 'test@test.com', phone: '222', linkedId: 1 },
      ];
      assert.deepEqual(repaired(table, placeholder), { 1: 'primary', 2: 1 });
    });

    it('blocks by domain and by pattern', () => {
      const table = [
        { id: 1, email: 'shop@example.com', phone: '111' },
        { id: 2, email: 'shop@example.com', phone: '222' },
        { id: 3, email: 'c@x.io', phone: '000000' },
        { id: 4, email: 'd@x.io', phone: '000000' },
      ];
      const blocklist = blocklistOf(
        { field: 'email', match: 'domain', value: 'example.com' },
        { field: 'phoneNumber', match: 'pattern', value: '^0{6,}$' },
      );
      assert.deepEqual(repaired(table, blocklist), { 1: 'primary', 2: 'primary', 3: 'primary', 4: 'primary' });
    });

    it('judges the values as they will be stored: a legacy spelling of a blocked email links nothing either', () => {
      const table = [
        { id: 1, email: ' TEST@Test.com', phone: '111' },
        { id: 2, email: 'test@test.com', phone: '222' },
      ];
      const plan = planRepair(liveRows(table), placeholder);
      assert.deepEqual(plan.changes, []);
      assert.deepEqual(
        plan.values.map((change) => [change.id, change.email]),
        [[1, 'test@test.com']],
      );
    });
  });

  describe('legacy values', () => {
    it('lower-cases and trims emails and strips phone separators, reporting each row by id and field', () => {
      const plan = planRepair(
        liveRows([
          { id: 1, email: 'Foo@X.com', phone: '111' },
          { id: 2, email: 'b@x.io', phone: '(555) 010-9999' },
          { id: 3, email: '  C@x.IO ', phone: '+1 555.010.7777' },
          { id: 4, email: 'd@x.io', phone: '444' },
        ]),
      );
      assert.deepEqual(plan.values, [
        { id: 1, fields: ['email'], email: 'foo@x.com', phoneNumber: '111' },
        { id: 2, fields: ['phoneNumber'], email: 'b@x.io', phoneNumber: '5550109999' },
        { id: 3, fields: ['email', 'phoneNumber'], email: 'c@x.io', phoneNumber: '+15550107777' },
      ]);
      assert.deepEqual(plan.summary.normalised, { rows: 3, email: 2, phoneNumber: 2 });
      assert.deepEqual([plan.changes, plan.invalid, plan.summary.changed], [[], [], 0]);
    });

    it('merges two customers whose values become equal once normalised, under the oldest row', () => {
      // Customer 1 (rows 1, 2) and customer 3 (rows 3, 4) share a person: Foo@X.com is foo@x.com, (555) 010-9999 is 5550109999.
      const table = [
        { id: 1, email: 'Foo@X.com', phone: '111', at: 20 },
        { id: 2, email: 'e@x.io', phone: '(555) 010-9999', linkedId: 1, at: 21 },
        { id: 3, email: 'foo@x.com', at: 10 },
        { id: 4, phone: '5550109999', linkedId: 3, at: 11 },
      ];
      assert.deepEqual(repaired(table), { 1: 3, 2: 3, 3: 'primary', 4: 3 });
      const plan = planRepair(liveRows(table));
      assert.deepEqual(reasons(plan), { 1: 'demoted', 2: 'relinked' });
      assert.deepEqual(
        plan.values.map((change) => [change.id, change.fields]),
        [
          [1, ['email']],
          [2, ['phoneNumber']],
        ],
      );
      assert.equal(plan.summary.components, 1);
    });

    it('keeps values with no normal form as they are and reports them; a row may have one of each', () => {
      const plan = planRepair(
        liveRows([
          { id: 1, email: 'foo.x.com' },
          { id: 2, phone: 'call me' },
          { id: 3, email: 'Foo@X.com', phone: '12' },
          { id: 4, email: 'a'.repeat(250) + '@b.io' },
        ]),
      );
      assert.deepEqual(plan.invalid, [
        { id: 1, fields: ['email'] },
        { id: 2, fields: ['phoneNumber'] },
        { id: 3, fields: ['phoneNumber'] },
        { id: 4, fields: ['email'] },
      ]);
      assert.deepEqual(plan.values, [{ id: 3, fields: ['email'], email: 'foo@x.com', phoneNumber: '12' }]);
      assert.deepEqual(plan.summary.invalid, { rows: 4, email: 2, phoneNumber: 2 });
    });

    it("an invalid value still joins rows that store exactly it, as check's I2 sees them", () => {
      assert.deepEqual(
        repaired([
          { id: 1, email: 'nobody' },
          { id: 2, email: 'nobody', phone: '222' },
          { id: 3, email: 'NOBODY' },
        ]),
        { 1: 'primary', 2: 1, 3: 'primary' },
      );
    });

    it('a blank value means absent, as in a request: it becomes null and joins no one', () => {
      const table = [
        { id: 1, email: '  ', phone: '111' },
        { id: 2, email: '  ', phone: '222' },
        { id: 3, email: 'c@x.io', phone: ' ' },
      ];
      assert.deepEqual(repaired(table), { 1: 'primary', 2: 'primary', 3: 'primary' });
      assert.deepEqual(planRepair(liveRows(table)).values, [
        { id: 1, fields: ['email'], email: null, phoneNumber: '111' },
        { id: 2, fields: ['email'], email: null, phoneNumber: '222' },
        { id: 3, fields: ['phoneNumber'], email: 'c@x.io', phoneNumber: null },
      ]);
    });
  });
});
