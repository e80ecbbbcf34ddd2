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
import { insertRows, type RowSpec } from '../support/brokenTables.js';
import { describeOnEachDatabase } from '../support/databases.js';

describeOnEachDatabase('legacy values', (scratch) => {
  beforeEach(() => scratch().reset());

  async function check(): Promise<{ status: number; text: string; json: { ok: boolean; violations: number; invariants: InvariantResult[] } }> {
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
    assert.match(text, /^N1 +FAIL +3 +a row's email or phone is not in the normal form .* \(2 emails, 2 phones; e\.g\. ids 2, 3, 4\)$/m);
    assert.match(text, /^N2 +ok +0 +/m);
    assert.match(text, /^3 violations;/m);
    assert.deepEqual(result(json.invariants, 'N1'), {
      invariant: 'N1', description: result(json.invariants, 'N1')?.description, count: 3, examples: [2, 3, 4], byField: { email: 2, phoneNumber: 2 },
    });
    assert.equal(json.violations, 3);
    for (const output of [text, JSON.stringify(json)]) assert.doesNotMatch(output, /foo|bar|555|@x\.com/i, 'no personal data in the output');
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
      [[2, [3, 4], { email: 1, phoneNumber: 1 }], [3, [1, 2, 3], { email: 1, phoneNumber: 2 }]],
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
});
