/**
 * The suspects report of `suspectsQuery.ts` (what the admin API and the CLI run) answers exactly as
 * the plain definition it replaced (test/support/suspectsReference.ts): on customers with
 * secondaries, a deleted primary whose rows live on, values a block split between customers, ties
 * ranked by value, and a limit per field.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { suspects } from '../../src/db/suspectsQuery.js';
import { insertRows } from '../support/brokenTables.js';
import { describeOnEachDatabase } from '../support/databases.js';
import { referenceSuspects } from '../support/suspectsReference.js';

describeOnEachDatabase('suspects', (scratch) => {
  beforeEach(async () => {
    await scratch().reset();
    await scratch().db.query('TRUNCATE "BlockedIdentifier", "ContactEvent" RESTART IDENTITY');
  });

  it('ranks values by live rows per field, with their customers, the largest one and whether they are blocked, as the plain definition does', async () => {
    await insertRows(scratch().db, [
      // A placeholder held by three customers (it is blocked), one of them of three rows.
      { id: 1, email: 'test@test.com', phone: '111' },
      { id: 2, email: 'a@x.io', phone: '111', linkedId: 1 },
      { id: 3, email: 'a@x.io', phone: '333', linkedId: 1 },
      { id: 4, email: 'test@test.com', phone: '444' },
      { id: 5, email: 'test@test.com' },
      // A deleted primary whose live secondaries share a phone: a customer owned by a deleted row.
      { id: 6, email: 'gone@x.io', phone: '666', deleted: true },
      { id: 7, email: 'b@x.io', phone: '777', linkedId: 6 },
      { id: 8, email: 'c@x.io', phone: '777', linkedId: 6 },
      { id: 9, phone: '777', linkedId: 6, deleted: true },
    ]);
    await scratch().db.query(
      `INSERT INTO "BlockedIdentifier" ("field", "match", "value", "reason", "addedBy") VALUES ('email', 'exact', 'test@test.com', 'r', 't')`,
    );

    const expected = await referenceSuspects(scratch().db, 3);
    assert.deepEqual(await suspects(scratch().db, 3), expected);
    assert.deepEqual(expected, [
      { field: 'email', value: 'test@test.com', contacts: 3, customers: 3, largestCustomer: 3, blocked: true },
      { field: 'email', value: 'a@x.io', contacts: 2, customers: 1, largestCustomer: 3, blocked: false },
      { field: 'email', value: 'b@x.io', contacts: 1, customers: 1, largestCustomer: 2, blocked: false },
      { field: 'phoneNumber', value: '111', contacts: 2, customers: 1, largestCustomer: 3, blocked: false },
      { field: 'phoneNumber', value: '777', contacts: 2, customers: 1, largestCustomer: 2, blocked: false },
      { field: 'phoneNumber', value: '333', contacts: 1, customers: 1, largestCustomer: 3, blocked: false },
    ]);
    assert.deepEqual(await suspects(scratch().db, 1000), await referenceSuspects(scratch().db, 1000));
  });

  it('is empty on an empty table', async () => {
    assert.deepEqual(await suspects(scratch().db, 20), []);
  });
});
