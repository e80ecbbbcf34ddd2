/** The customer-size cap in the decision: which requests it stops, and which identifier it names. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../src/identity/reconcile.js';
import { contact, request } from '../support/contacts.js';

const cap = (maxCustomerContacts: number) => ({ maxCustomerContacts });
const threeRows = [contact(1, 'junk@x.io', '111'), contact(2, 'junk@x.io', '222', 1), contact(3, 'junk@x.io', '333', 1)];

describe('the customer-size cap', () => {
  it('a new row that would take a customer past the cap names the identifier that reaches it', () => {
    assert.deepEqual(decide(request('junk@x.io', '444'), threeRows, cap(3)), { kind: 'quarantine', field: 'email' });
  });

  it('a customer may reach the cap exactly', () => {
    assert.equal(decide(request('junk@x.io', '444'), threeRows, cap(4)).kind, 'update');
  });

  it('a request that adds nothing is answered whatever the size (nothing grows)', () => {
    assert.equal(decide(request('junk@x.io', '222'), threeRows, cap(1)).kind, 'update');
    assert.equal(decide(request('junk@x.io', null), threeRows, cap(1)).kind, 'update');
  });

  it('a merge past the cap names the identifier of the larger customer', () => {
    const rows = [...threeRows, contact(4, 'me@x.io', '999')];
    assert.deepEqual(decide(request('me@x.io', '111'), rows, cap(3)), { kind: 'quarantine', field: 'phoneNumber' });
    assert.deepEqual(decide(request('junk@x.io', '999'), rows, cap(3)), { kind: 'quarantine', field: 'email' });
  });

  it('names the phone when both customers are as large', () => {
    const rows = [contact(1, 'a@x.io', '1'), contact(2, 'b@x.io', '2')];
    assert.deepEqual(decide(request('a@x.io', '2'), rows, cap(1)), { kind: 'quarantine', field: 'phoneNumber' });
  });

  it('0 turns the cap off', () => {
    assert.equal(decide(request('junk@x.io', '444'), threeRows, cap(0)).kind, 'update');
  });
});
