/**
 * The read view of a customer, rule by rule: every row in row order, and for each secondary the
 * identifiers it shares with older rows (naming the oldest row with each), or `merged` when it
 * shares none — the primary of a customer that a request joined to this one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Contact } from '../../src/identity/contact.js';
import { describeCustomer } from '../../src/identity/customerDetails.js';

function row(id: number, email: string | null, phoneNumber: string | null, linkedId: number | null = null): Contact {
  const at = new Date(Date.UTC(2023, 3, id));
  return { id, email, phoneNumber, linkedId, linkPrecedence: linkedId === null ? 'primary' : 'secondary', createdAt: at, updatedAt: at };
}

describe('customer details', () => {
  it('a lone primary: the /identify answer, its row, no links', () => {
    const primary = row(1, 'doc@hillvalley.edu', '555');
    assert.deepEqual(describeCustomer([primary]), {
      primaryContactId: 1,
      emails: ['doc@hillvalley.edu'],
      phoneNumbers: ['555'],
      secondaryContactIds: [],
      contacts: [primary],
      links: [],
    });
  });

  it('a secondary that brought a new email links through the phone it shares with the primary', () => {
    const { links } = describeCustomer([row(1, 'lorraine@hillvalley.edu', '123456'), row(23, 'mcfly@hillvalley.edu', '123456', 1)]);
    assert.deepEqual(links, [
      { contactId: 23, linkedId: 1, reason: 'shared', shared: [{ field: 'phoneNumber', value: '123456', contactId: 1 }] },
    ]);
  });

  it('names the oldest row with the shared value, not the newest', () => {
    const { links } = describeCustomer([row(1, 'a@x.io', null), row(2, 'a@x.io', '222', 1), row(3, 'a@x.io', '333', 1)]);
    assert.deepEqual(
      links.map((link) => link.shared),
      [[{ field: 'email', value: 'a@x.io', contactId: 1 }], [{ field: 'email', value: 'a@x.io', contactId: 1 }]],
    );
  });

  it('lists both identifiers when a secondary shares its email with one row and its phone with another', () => {
    const { links } = describeCustomer([row(1, 'a@x.io', '111'), row(2, 'b@x.io', '111', 1), row(3, 'b@x.io', '111', 1)]);
    assert.deepEqual(links[1]?.shared, [
      { field: 'email', value: 'b@x.io', contactId: 2 },
      { field: 'phoneNumber', value: '111', contactId: 1 },
    ]);
  });

  it('a demoted primary shares nothing with older rows: merged; its own secondaries link through it', () => {
    // Customer 1 (a@x.io, 111) and customer 2 (b@x.io, 222, with secondary 3) were joined by a
    // request {a@x.io, 222}, which added no row: 2 and 3 were re-linked to 1.
    const { links, secondaryContactIds } = describeCustomer([
      row(1, 'a@x.io', '111'),
      row(2, 'b@x.io', '222', 1),
      row(3, 'c@x.io', '222', 1),
    ]);
    assert.deepEqual(secondaryContactIds, [2, 3]);
    assert.deepEqual(links, [
      { contactId: 2, linkedId: 1, reason: 'merged', shared: [] },
      { contactId: 3, linkedId: 1, reason: 'shared', shared: [{ field: 'phoneNumber', value: '222', contactId: 2 }] },
    ]);
  });

  it('keeps every row, in the order given (row order)', () => {
    const rows = [row(1, 'a@x.io', null), row(5, null, '555', 1), row(3, 'a@x.io', '333', 1)];
    assert.deepEqual(
      describeCustomer(rows).contacts.map((contact) => contact.id),
      [1, 5, 3],
    );
  });
});
