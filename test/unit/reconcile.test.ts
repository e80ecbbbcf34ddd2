import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPlan, decide, isNoop, toCustomer } from '../../src/identity/reconcile.js';
import { contact, request } from '../support/contacts.js';

describe('the reconciliation decision', () => {
  it('rule 2: unseen identifiers create a primary', () => {
    assert.deepEqual(decide(request('a@x.io', '111'), []), { kind: 'createPrimary', insert: request('a@x.io', '111') });
  });

  it('rule 4: a new email for a known phone adds one secondary to the customer', () => {
    const rows = [contact(1, 'a@x.io', '111')];
    assert.deepEqual(decide(request('b@x.io', '111'), rows), {
      kind: 'update',
      survivorId: 1,
      demotedPrimaryIds: [],
      insert: request('b@x.io', '111'),
    });
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
    assert.deepEqual(decide(request('a@x.io', '222'), rows), {
      kind: 'update',
      survivorId: 1,
      demotedPrimaryIds: [2],
      insert: null,
    });
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
    const after = applyPlan(rows, plan, null);
    assert.deepEqual(after.map((row) => [row.id, row.linkedId]), [[1, null], [2, 1], [3, 1]]);
  });

  it('rule 3: joining a customer with several rows demotes only its primary', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222'), contact(3, 'c@x.io', '222', 2)];
    const plan = decide(request('c@x.io', '111'), rows);
    assert.deepEqual(plan, { kind: 'update', survivorId: 1, demotedPrimaryIds: [2], insert: null });
  });

  it('rule 5: the answer lists the primary first, then distinct values in row order', () => {
    const rows = [
      contact(1, 'a@x.io', '111'),
      contact(2, 'b@x.io', '111', 1),
      contact(3, 'a@x.io', '222', 1),
      contact(4, null, '222', 1),
    ];
    assert.deepEqual(toCustomer(rows), {
      primaryContactId: 1,
      emails: ['a@x.io', 'b@x.io'],
      phoneNumbers: ['111', '222'],
      secondaryContactIds: [2, 3, 4],
    });
  });

  it('rule 5: a primary without an email still lists its secondaries\' emails', () => {
    const rows = [contact(1, null, '999'), contact(2, 'm@x.io', '999', 1)];
    assert.deepEqual(toCustomer(rows).emails, ['m@x.io']);
  });

  it('rule 5: after a merge the survivor\'s values come first even if a demoted row is listed first', () => {
    const survivor = { ...contact(5, 'old@x.io', '111'), createdAt: new Date(0) };
    const rows = [survivor, contact(2, 'new@x.io', '222', 5)];
    assert.deepEqual(toCustomer(rows).emails, ['old@x.io', 'new@x.io']);
  });

  it('applyPlan appends the inserted row and keeps untouched rows as they were', () => {
    const rows = [contact(1, 'a@x.io', '111')];
    const plan = decide(request('b@x.io', '111'), rows);
    const inserted = contact(2, 'b@x.io', '111', 1);
    const after = applyPlan(rows, plan, inserted);
    assert.equal(after[0], rows[0]);
    assert.equal(after[1], inserted);
  });
});
