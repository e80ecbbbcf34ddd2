import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identifiers, LinkedContact } from '../../src/identity/contact.js';
import { rowsAfter, decide as decideAny, isNoop, toCustomer, type Plan } from '../../src/identity/reconcile.js';
import { contact, request } from '../support/contacts.js';

/** The decision on rows whose links are sound: always a plan. */
function decide(query: Identifiers, rows: readonly LinkedContact[]): Plan {
  const decision = decideAny(query, rows);
  assert.notEqual(decision.kind, 'brokenLinks', JSON.stringify(decision));
  return decision as Plan;
}

/** An update plan, with the fields each case does not name at their usual values. */
function update(fields: Partial<Extract<Plan, { kind: 'update' }>> & { survivorId: number }): Plan {
  return { kind: 'update', lockIds: [fields.survivorId], promote: false, relinkIds: [], customersJoined: 1, insert: null, ...fields };
}

describe('the reconciliation decision', () => {
  it('rule 2: unseen identifiers create a primary', () => {
    assert.deepEqual(decide(request('a@x.io', '111'), []), { kind: 'createPrimary', insert: request('a@x.io', '111') });
  });

  it('rule 4: a new email for a known phone adds one secondary to the customer', () => {
    const rows = [contact(1, 'a@x.io', '111')];
    assert.deepEqual(decide(request('b@x.io', '111'), rows), update({ survivorId: 1, insert: request('b@x.io', '111') }));
  });

  it('rule 4: a new phone for a known email adds one secondary to the customer', () => {
    const plan = decide(request('a@x.io', '222'), [contact(1, 'a@x.io', '111')]);
    assert.deepEqual(plan.insert, request('a@x.io', '222'));
  });

  it('rule 4: identifiers the customer already has, even on different rows, add nothing', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222', 1)];
    const plan = decide(request('a@x.io', '222'), rows);
    assert.ok(isNoop(plan));
  });

  it('rule 4: a request with one known identifier and the other absent adds nothing', () => {
    const rows = [contact(1, 'a@x.io', '111')];
    assert.ok(isNoop(decide(request(null, '111'), rows)));
    assert.ok(isNoop(decide(request('a@x.io', null), rows)));
  });

  it('rule 3: joining two customers keeps the older primary and demotes the newer', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222')];
    assert.deepEqual(
      decide(request('a@x.io', '222'), rows),
      update({ survivorId: 1, lockIds: [1, 2], relinkIds: [2], customersJoined: 2 }),
    );
  });

  it('rule 3: the survivor is the oldest by createdAt, not the lowest id', () => {
    const older = { ...contact(7, 'a@x.io', '111'), createdAt: new Date(0) };
    const rows = [older, contact(3, 'b@x.io', '222')]; // row order: (createdAt, id)
    const plan = decide(request('b@x.io', '111'), rows);
    assert.equal(plan.kind === 'update' && plan.survivorId, 7);
  });

  it('rule 3: a join adds no row: both of its identifiers are already known', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222')];
    assert.equal(decide(request('b@x.io', '111'), rows).insert, null);
  });

  it('rule 3: demoting a primary re-points all its secondaries straight at the survivor (no chains)', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222'), contact(3, 'c@x.io', '222', 2)];
    const plan = decide(request('a@x.io', '222'), rows);
    const after = rowsAfter(rows, plan, null);
    assert.deepEqual(
      after.map((row) => [row.id, row.linkedId]),
      [
        [1, null],
        [2, 1],
        [3, 1],
      ],
    );
  });

  it('rule 3: joining a customer with several rows demotes its primary and re-points its secondaries', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222'), contact(3, 'c@x.io', '222', 2)];
    const plan = decide(request('c@x.io', '111'), rows);
    assert.deepEqual(plan, update({ survivorId: 1, lockIds: [1, 2], relinkIds: [2, 3], customersJoined: 2 }));
  });

  it('rule 5: the answer lists the primary first, then distinct values in row order', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '111', 1), contact(3, 'a@x.io', '222', 1), contact(4, null, '222', 1)];
    assert.deepEqual(toCustomer(rows), {
      primaryContactId: 1,
      emails: ['a@x.io', 'b@x.io'],
      phoneNumbers: ['111', '222'],
      secondaryContactIds: [2, 3, 4],
    });
  });

  it("rule 5: a primary without an email still lists its secondaries' emails", () => {
    const rows = [contact(1, null, '999'), contact(2, 'm@x.io', '999', 1)];
    assert.deepEqual(toCustomer(rows).emails, ['m@x.io']);
  });

  it("rule 5: after a merge the survivor's values come first even if a demoted row is listed first", () => {
    const survivor = { ...contact(5, 'old@x.io', '111'), createdAt: new Date(0) };
    const rows = [survivor, contact(2, 'new@x.io', '222', 5)];
    assert.deepEqual(toCustomer(rows).emails, ['old@x.io', 'new@x.io']);
  });

  it('rowsAfter appends the inserted row and keeps untouched rows as they were', () => {
    const rows = [contact(1, 'a@x.io', '111')];
    const plan = decide(request('b@x.io', '111'), rows);
    const inserted = contact(2, 'b@x.io', '111', 1);
    const after = rowsAfter(rows, plan, inserted);
    assert.equal(after[0], rows[0]);
    assert.equal(after[1], inserted);
  });
});

describe('the decision on tables the service did not write alone', () => {
  const deleted = (id: number) => id; // a row id that is soft-deleted, so never among the rows read

  it('the live rows of a customer whose primary was deleted are a customer, their oldest row its primary', () => {
    const rows = [contact(2, 'b@x.io', '111', deleted(1)), contact(3, 'c@x.io', '111', deleted(1))];
    const plan = decide(request('b@x.io', null), rows);
    assert.deepEqual(plan, update({ survivorId: 2, lockIds: [1], promote: true, relinkIds: [3] }));
    assert.equal(isNoop(plan), false, 'a request that touches such rows puts their links in place');
    assert.deepEqual(toCustomer(rowsAfter(rows, plan, null)), {
      primaryContactId: 2,
      emails: ['b@x.io', 'c@x.io'],
      phoneNumbers: ['111'],
      secondaryContactIds: [3],
    });
  });

  it('one live row left of a customer whose primary was deleted is promoted alone', () => {
    const plan = decide(request('b@x.io', null), [contact(2, 'b@x.io', '111', deleted(1))]);
    assert.deepEqual(plan, update({ survivorId: 2, lockIds: [1], promote: true }));
  });

  it('a request joining a customer whose primary was deleted to another merges them under the oldest live row', () => {
    const rows = [contact(2, 'b@x.io', '111', deleted(1)), contact(3, 'c@x.io', '222')];
    const plan = decide(request('b@x.io', '222'), rows);
    assert.deepEqual(plan, update({ survivorId: 2, lockIds: [1, 3], promote: true, relinkIds: [3], customersJoined: 2 }));
    assert.deepEqual(
      rowsAfter(rows, plan, null).map((row) => [row.id, row.linkedId, row.linkPrecedence]),
      [
        [2, null, 'primary'],
        [3, 2, 'secondary'],
      ],
    );
  });

  it('a primary whose linkPrecedence says secondary is put right by the next request that touches it', () => {
    const rows = [{ ...contact(1, 'a@x.io', '111'), linkPrecedence: 'secondary' as const }];
    assert.deepEqual(decide(request('a@x.io', null), rows), update({ survivorId: 1, promote: true }));
  });

  it('a secondary whose linkPrecedence says primary is put right too', () => {
    const rows = [contact(1, 'a@x.io', '111'), { ...contact(2, 'b@x.io', '111', 1), linkPrecedence: 'primary' as const }];
    assert.deepEqual(decide(request('a@x.io', null), rows), update({ survivorId: 1, relinkIds: [2] }));
  });

  it('a customer whose primary is not its oldest row gets its oldest row as primary', () => {
    const older = { ...contact(9, 'old@x.io', '111', 1), createdAt: new Date(0) };
    const rows = [older, contact(1, 'a@x.io', '111')];
    assert.deepEqual(decide(request('a@x.io', null), rows), update({ survivorId: 9, lockIds: [1], promote: true, relinkIds: [1] }));
  });

  it('rows linked to a secondary (a chain 3 -> 2 -> 1) are not decided on: nothing to write, the ids to repair', () => {
    const rows = [contact(2, 'b@x.io', '222', 1), contact(3, 'c@x.io', '333', 2)];
    assert.deepEqual(decideAny(request('c@x.io', null), rows), { kind: 'brokenLinks', contactIds: [2, 3] });
  });

  it('rows linked in a cycle (1 -> 2 -> 1) are not decided on either', () => {
    const rows = [contact(1, 'a@x.io', '111', 2), contact(2, 'b@x.io', '111', 1)];
    assert.deepEqual(decideAny(request('a@x.io', null), rows), { kind: 'brokenLinks', contactIds: [1, 2] });
  });

  it('a row linked to itself is a cycle', () => {
    const self = contact(4, 'd@x.io', '444', 4);
    assert.deepEqual(decideAny(request('d@x.io', null), [self, self]), { kind: 'brokenLinks', contactIds: [4] });
  });
});
