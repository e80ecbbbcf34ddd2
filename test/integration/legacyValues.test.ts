/**
 * Legacy values in an adopted table: `Foo@X.com`, `(555) 010-9999` as stored, which requests —
 * normalised — never match. `check` reports them (N1) apart from values with no normal form at
 * all (N2), by ids and counts only; `repair` normalises the first, leaves the second as they are,
 * and regroups, so customers that the normal form connects become one.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { checkInvariants, type InvariantResult } from '../../src/db/invariants.js';
import { runCheck } from '../../src/maintenance/checkCommand.js';
import { repair } from '../../src/maintenance/repair.js';
import { buildTestApp, postIdentify, storedRows } from '../support/app.js';
import { insertRows, links, updatedAts, type RowSpec } from '../support/brokenTables.js';
import { describeOnEachDatabase } from '../support/databases.js';

describeOnEachDatabase('legacy values', (scratch) => {
  beforeEach(() => scratch().reset());

  async function check(): Promise<{
    status: number;
    text: string;
    json: { ok: boolean; violations: number; invariants: InvariantResult[] };
  }> {
    let text = '';
    let json = '';
    const status = await runCheck(scratch().db, {}, { write: (chunk: string) => ((text += chunk), true) });
    await runCheck(scratch().db, { json: true }, { write: (chunk: string) => ((json += chunk), true) });
    return { status, text, json: JSON.parse(json) };
  }

  function result(results: readonly InvariantResult[], name: string): InvariantResult | undefined {
    return results.find((entry) => entry.invariant === name);
  }

  it('check reports `Foo@X.com` and `(555) 010-9999` with counts and ids, and no values', async () => {
    await insertRows(scratch().db, [
      { id: 1, email: 'a@x.io', phone: '111' },
      { id: 2, email: 'Foo@X.com' },
      { id: 3, phone: '(555) 010-9999' },
      { id: 4, email: ' bar@y.io ', phone: '555.010.8888' },
      { id: 5, email: 'Deleted@X.com', deleted: true },
    ]);

    const { status, text, json } = await check();

    assert.equal(status, 1);
    assert.match(text, /^N1 +FAIL +3 +a row's email or phone is not in normal form, .* \(2 emails, 2 phones; e\.g\. ids 2, 3, 4\)$/m);
    assert.match(text, /^N2 +ok +0 +/m);
    assert.match(text, /^3 violations;/m);
    assert.deepEqual(result(json.invariants, 'N1'), {
      invariant: 'N1',
      description: result(json.invariants, 'N1')?.description,
      count: 3,
      examples: [2, 3, 4],
      byField: { email: 2, phoneNumber: 2 },
    });
    assert.equal(json.violations, 3);
    for (const output of [text, JSON.stringify(json)])
      assert.doesNotMatch(output, /foo|bar|555|@x\.com/i, 'no personal data in the output');
  });

  it('check reports an invalid email (no @) and an unnormalisable phone separately from fixable ones', async () => {
    await insertRows(scratch().db, [
      { id: 1, email: 'foo.x.com' },
      { id: 2, phone: 'call me' },
      { id: 3, email: 'Foo@X.com', phone: '12' },
      { id: 4, email: 'ok@x.io', phone: '+1 555 0100' },
    ]);

    const { text, json } = await check();

    assert.deepEqual(
      [result(json.invariants, 'N1'), result(json.invariants, 'N2')].map((entry) => [entry?.count, entry?.examples, entry?.byField]),
      [
        [2, [3, 4], { email: 1, phoneNumber: 1 }],
        [3, [1, 2, 3], { email: 1, phoneNumber: 2 }],
      ],
    );
    assert.match(text, /^N2 +FAIL +3 +a row's email or phone is invalid: .* \(1 email, 2 phones; e\.g\. ids 1, 2, 3\)$/m);
  });

  it('check scans the table a page at a time and shows the five lowest ids', async () => {
    const rows: RowSpec[] = Array.from({ length: 23 }, (_, i) => ({ id: i + 1, email: i % 2 === 0 ? `User${i}@X.io` : `user${i}@x.io` }));
    await insertRows(scratch().db, rows);
    for (const pageSize of [1, 5, 12, 10_000]) {
      const n1 = result(await checkInvariants(scratch().db, { pageSize }), 'N1');
      assert.deepEqual([n1?.count, n1?.examples], [12, [1, 3, 5, 7, 9]], `pages of ${pageSize}`);
    }
  });

  /** Each row's stored (email, phoneNumber), by id. */
  async function values(): Promise<Record<number, [string | null, string | null]>> {
    return Object.fromEntries((await storedRows(scratch().db)).map((row) => [row.id, [row.email, row.phoneNumber]]));
  }

  async function broken(): Promise<string[]> {
    return (await checkInvariants(scratch().db)).filter((entry) => entry.count > 0).map((entry) => entry.invariant);
  }

  it('repair lower-cases and trims emails and strips phone separators; only those rows get a new updatedAt', async () => {
    await insertRows(scratch().db, [
      { id: 1, email: 'Foo@X.com' },
      { id: 2, phone: '(555) 010-9999' },
      { id: 3, email: '  bar@Y.io ', phone: '+44 20.7946-0000' },
      { id: 4, email: 'ok@x.io', phone: '444' },
    ]);
    const before = await updatedAts(scratch().db);

    const { plan, committed } = await repair(scratch().db, { batchSize: 2 });

    assert.equal(committed, true);
    assert.deepEqual(await values(), {
      1: ['foo@x.com', null],
      2: [null, '5550109999'],
      3: ['bar@y.io', '+442079460000'],
      4: ['ok@x.io', '444'],
    });
    assert.deepEqual(plan.summary.normalised, { rows: 3, email: 2, phoneNumber: 2 });
    assert.deepEqual(plan.changes, []);
    const after = await updatedAts(scratch().db);
    for (const id of [1, 2, 3]) assert.notEqual(after.get(id), before.get(id), `row ${id} changed`);
    assert.equal(after.get(4), before.get(4));
    assert.deepEqual(await broken(), []);
  });

  it('repair merges two customers whose values become equal once normalised, under the oldest row', async () => {
    // Customer 1 (rows 1, 2) is a legacy import; customer 3 (rows 3, 4) the same person, created by requests since.
    await insertRows(scratch().db, [
      { id: 1, email: 'Foo@X.com', phone: '111', at: 10 },
      { id: 2, phone: '(555) 010-9999', linkedId: 1, at: 11 },
      { id: 3, email: 'foo@x.com', at: 50 },
      { id: 4, email: 'new@x.io', phone: '5550109999', linkedId: 3, at: 51 },
    ]);
    assert.deepEqual(await broken(), ['N1']);

    const { plan } = await repair(scratch().db);

    assert.deepEqual(await links(scratch().db), { 1: 'primary', 2: 1, 3: 1, 4: 1 });
    assert.deepEqual(await values(), {
      1: ['foo@x.com', '111'],
      2: [null, '5550109999'],
      3: ['foo@x.com', null],
      4: ['new@x.io', '5550109999'],
    });
    assert.deepEqual(
      plan.changes.map((change) => [change.id, change.reason]),
      [
        [3, 'demoted'],
        [4, 'relinked'],
      ],
    );
    assert.deepEqual(await broken(), ['I4']);
  });

  it('a request for foo@x.com after the repair finds the legacy row instead of making a second customer', async () => {
    await insertRows(scratch().db, [
      { id: 1, email: 'Foo@X.com', phone: '(555) 010-9999' },
      { id: 2, email: 'Other@X.io', phone: '555 010 9999', linkedId: 1 },
    ]);
    await repair(scratch().db);
    const app = await buildTestApp(scratch().db);
    try {
      for (const body of [{ email: 'foo@x.com' }, { phoneNumber: '5550109999' }, { email: ' FOO@x.com ', phoneNumber: '555-010-9999' }]) {
        const response = await postIdentify(app, body);
        assert.equal(response.statusCode, 200, response.body);
        const { primaryContactId, emails, phoneNumbers, secondaryContactIds } = response.json().customer;
        assert.deepEqual(
          { primaryContactId, emails, phoneNumbers, secondaryContactIds },
          {
            primaryContactId: 1,
            emails: ['foo@x.com', 'other@x.io'],
            phoneNumbers: ['5550109999'],
            secondaryContactIds: [2],
          },
        );
      }
    } finally {
      await app.close();
    }
    assert.equal((await storedRows(scratch().db)).length, 2, 'no new row');
  });

  it('repair leaves invalid values as they are and reports them, normalising the rest of the row', async () => {
    await insertRows(scratch().db, [
      { id: 1, email: 'foo.x.com', phone: '111' },
      { id: 2, email: 'A@X.io', phone: 'call me' },
      { id: 3, email: 'foo.x.com', phone: '333' },
    ]);
    const before = await updatedAts(scratch().db);

    const { plan, invariants, committed } = await repair(scratch().db);

    assert.equal(committed, true);
    assert.deepEqual(plan.invalid, [
      { id: 1, fields: ['email'] },
      { id: 2, fields: ['phoneNumber'] },
      { id: 3, fields: ['email'] },
    ]);
    assert.deepEqual(plan.summary.invalid, { rows: 3, email: 2, phoneNumber: 1 });
    assert.deepEqual(await values(), { 1: ['foo.x.com', '111'], 2: ['a@x.io', 'call me'], 3: ['foo.x.com', '333'] });
    // 1 and 3 store the same (invalid) email: one customer, as I2 sees it.
    assert.deepEqual(await links(scratch().db), { 1: 'primary', 2: 'primary', 3: 1 });
    assert.equal((await updatedAts(scratch().db)).get(1), before.get(1));
    const n2 = invariants.find((entry) => entry.invariant === 'N2');
    assert.deepEqual([n2?.count, n2?.examples, n2?.byField], [3, [1, 2, 3], { email: 2, phoneNumber: 1 }]);
    assert.deepEqual(await broken(), ['N2']);
  });

  it('a dry run reports the value changes and writes nothing', async () => {
    await insertRows(scratch().db, [
      { id: 1, email: 'Foo@X.com', at: 5 },
      { id: 2, email: 'foo@x.com', phone: '(555) 010-9999', at: 1 },
      { id: 3, email: 'nope' },
    ]);
    const before = { values: await values(), links: await links(scratch().db), updatedAt: await updatedAts(scratch().db) };

    const dryRun = await repair(scratch().db, { dryRun: true });

    assert.equal(dryRun.committed, false);
    assert.deepEqual(
      dryRun.plan.values.map((change) => [change.id, change.fields]),
      [
        [1, ['email']],
        [2, ['phoneNumber']],
      ],
    );
    assert.deepEqual(
      dryRun.plan.changes.map((change) => change.id),
      [1],
    );
    assert.deepEqual({ values: await values(), links: await links(scratch().db), updatedAt: await updatedAts(scratch().db) }, before);
    assert.deepEqual((await repair(scratch().db)).plan, dryRun.plan);
    assert.deepEqual(await links(scratch().db), { 1: 2, 2: 'primary', 3: 'primary' });
  });
});
