/** The regroup (block, unblock, quarantine), one named case per rule, on tiny tables. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Blocklist, type BlockRule } from '../../src/identity/blocklist.js';
import type { LinkedContact } from '../../src/identity/contact.js';
import { BrokenLinksError } from '../../src/identity/customerGroups.js';
import type { MergeRecord } from '../../src/identity/linkGraph.js';
import { regroup } from '../../src/identity/regroup.js';
import { contact } from '../support/contacts.js';

const row = (id: number, email: string | null, phone: string | null, linkedId: number | null = null): LinkedContact => {
  const { createdAt: _c, updatedAt: _u, ...linked } = contact(id, email, phone, linkedId);
  return linked;
};

function blocking(...values: [field: 'email' | 'phoneNumber', value: string][]): Blocklist {
  return new Blocklist(
    2,
    values.map(
      ([field, value], index) =>
        ({ id: index + 1, field, match: 'exact', value, reason: 't', addedBy: 't', createdAt: new Date() }) as BlockRule,
    ),
  );
}
const nothing = Blocklist.empty(1);
const merge = (eventId: number, email: string, phoneNumber: string): MergeRecord => ({ eventId, email, phoneNumber });

describe('regroup', () => {
  it('splits a customer held together only by the blocked value, each piece under its oldest row', () => {
    const rows = [row(1, 'a@x.io', '111'), row(2, 'b@x.io', '111', 1), row(3, 'b@x.io', '222', 1)];
    const result = regroup({ rows, merges: [], before: nothing, after: blocking(['phoneNumber', '111']) });
    assert.deepEqual(result.customers, [[1], [2, 3]]);
    assert.deepEqual(result.writes, [
      { id: 2, linkedId: null },
      { id: 3, linkedId: 2 },
    ]);
    assert.deepEqual(result.splits, [{ ownerId: 1, into: [1, 2] }]);
    assert.deepEqual(result.merges, []);
  });

  it('writes nothing when the blocked value held nothing together', () => {
    const rows = [row(1, 'a@x.io', '111'), row(2, 'a@x.io', '222', 1)];
    const result = regroup({ rows, merges: [], before: nothing, after: blocking(['phoneNumber', '222']) });
    assert.deepEqual(result, { writes: [], customers: [[1, 2]], splits: [], merges: [] });
  });

  it('keeps a logged merge made through values that stay unblocked', () => {
    const rows = [row(1, 'a@x.io', null), row(2, null, '111', 1), row(3, 'a@x.io', '555', 1)];
    const result = regroup({ rows, merges: [merge(7, 'a@x.io', '111')], before: nothing, after: blocking(['phoneNumber', '555']) });
    assert.deepEqual(result.customers, [[1, 2, 3]]);
  });

  it('undoes a logged merge made through the blocked value', () => {
    const rows = [row(1, 'a@x.io', null), row(2, null, '111', 1)];
    const result = regroup({ rows, merges: [merge(7, 'a@x.io', '111')], before: nothing, after: blocking(['phoneNumber', '111']) });
    assert.deepEqual(result.customers, [[1], [2]]);
  });

  it('keeps together what no value or logged merge explains (a table older than the log), joined at its oldest rows', () => {
    // 1 and 2 were merged before the log existed; 3 joined 2 through 222, which is now blocked.
    const rows = [row(1, 'a@x.io', null), row(2, null, '111', 1), row(3, 'c@x.io', '111', 1)];
    const result = regroup({ rows, merges: [], before: nothing, after: blocking(['phoneNumber', '111']) });
    assert.deepEqual(result.customers, [[1, 2], [3]]);
  });

  it('joins customers that share an unblocked value again, under the oldest row', () => {
    const rows = [row(1, 'a@x.io', '111'), row(2, 'b@x.io', '111'), row(3, 'b@x.io', '222', 2)];
    const result = regroup({ rows, merges: [], before: blocking(['phoneNumber', '111']), after: nothing });
    assert.deepEqual(result.customers, [[1, 2, 3]]);
    assert.deepEqual(result.writes, [
      { id: 2, linkedId: 1 },
      { id: 3, linkedId: 1 },
    ]);
    assert.deepEqual(result.merges, [{ survivorId: 1, absorbedOwnerIds: [2] }]);
  });

  it('promotes the oldest live row of a customer whose primary was deleted', () => {
    // Rows 2 and 3 belong to deleted row 1; blocking 111 separates them.
    const rows = [row(2, 'b@x.io', '111', 1), row(3, 'c@x.io', '111', 1)];
    const result = regroup({ rows, merges: [], before: nothing, after: blocking(['phoneNumber', '111']) });
    assert.deepEqual(result.writes, [
      { id: 2, linkedId: null },
      { id: 3, linkedId: null },
    ]);
    assert.deepEqual(result.splits, [{ ownerId: 1, into: [2, 3] }]);
  });

  it('refuses rows whose links are broken (a chain): repair first', () => {
    const rows = [row(1, 'a@x.io', null), row(2, 'a@x.io', null, 1), row(3, 'a@x.io', null, 2)];
    assert.throws(() => regroup({ rows, merges: [], before: nothing, after: nothing }), BrokenLinksError);
  });
});
