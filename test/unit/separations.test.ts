/** Separations: which request a separation narrows, and to what (the pure step of /identify). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LinkedContact } from '../../src/identity/contact.js';
import { separate, Separations, type Separation } from '../../src/identity/separations.js';
import { contact, request, rowsOfInvolvedCustomers } from '../support/contacts.js';

const row = (id: number, email: string | null, phone: string | null, linkedId: number | null = null): LinkedContact => {
  const { createdAt: _c, updatedAt: _u, ...linked } = contact(id, email, phone, linkedId);
  return linked;
};

const separation = (id: number, a: number, b: number): Separation => ({
  id,
  contactIds: [a, b],
  mergeEventId: null,
  addedBy: 'test',
  createdAt: new Date(0),
});

// Marty (1, 3) and George (2, 4), separated by an unmerge between 1 and 2.
const TABLE = [
  row(1, 'marty@x.io', '111'),
  row(2, 'george@x.io', '222'),
  row(3, 'marty@x.io', '333', 1),
  row(4, 'george2@x.io', '222', 2),
  row(5, 'doc@x.io', '555'),
];
const SEPARATED = new Separations([separation(1, 1, 2)]);
const rowsFor = (email: string | null, phone: string | null) => rowsOfInvolvedCustomers(TABLE, request(email, phone));

describe('separate', () => {
  it("When a request's email is one side's and its phone the other's, Then it is answered with the email's customer and the phone is not linked", () => {
    const narrowed = separate(request('marty@x.io', '222'), rowsFor('marty@x.io', '222'), SEPARATED);
    assert.deepEqual(narrowed && { ...narrowed, separation: narrowed.separation.id }, {
      request: request('marty@x.io', null),
      rows: [row(1, 'marty@x.io', '111'), row(3, 'marty@x.io', '333', 1)],
      ignored: 'phoneNumber',
      separation: 1,
      otherOwnerId: 2,
      answeredOwnerId: 1,
    });
  });

  it('binds the whole customers, whichever of their rows the identifiers are on (the other way round too)', () => {
    const narrowed = separate(request('george2@x.io', '333'), rowsFor('george2@x.io', '333'), SEPARATED);
    assert.deepEqual(narrowed?.request, request('george2@x.io', null));
    assert.deepEqual(
      narrowed?.rows.map((r) => r.id),
      [2, 4],
    );
    assert.equal(narrowed?.otherOwnerId, 1);
  });

  it('leaves alone a request of one side only, one with a single identifier, and one that joins a customer nobody separated', () => {
    assert.equal(separate(request('marty@x.io', '111'), rowsFor('marty@x.io', '111'), SEPARATED), null);
    assert.equal(separate(request(null, '222'), rowsFor(null, '222'), SEPARATED), null);
    assert.equal(separate(request('marty@x.io', null), rowsFor('marty@x.io', null), SEPARATED), null);
    assert.equal(separate(request('marty@x.io', '555'), rowsFor('marty@x.io', '555'), SEPARATED), null);
    // A new phone, or a new email: only one customer is found.
    assert.equal(separate(request('marty@x.io', '999'), rowsFor('marty@x.io', '999'), SEPARATED), null);
    assert.equal(separate(request('new@x.io', '222'), rowsFor('new@x.io', '222'), SEPARATED), null);
  });

  it('does nothing without separations, or once the two sides are one customer again', () => {
    assert.equal(separate(request('marty@x.io', '222'), rowsFor('marty@x.io', '222'), Separations.none), null);
    const joined = [row(1, 'marty@x.io', '111'), row(2, 'george@x.io', '222', 1)];
    assert.equal(separate(request('marty@x.io', '222'), joined, SEPARATED), null);
  });

  it('still binds a side that grew by a later merge (the separation is of contacts, not of primaries)', () => {
    // Row 0, older, absorbed Marty's rows by a later merge.
    const grown = [row(0, 'old@x.io', '000'), row(1, 'marty@x.io', '111', 0), row(2, 'george@x.io', '222'), row(3, 'marty@x.io', '333', 0)];
    const narrowed = separate(request('old@x.io', '222'), grown, SEPARATED);
    assert.deepEqual(
      narrowed?.rows.map((r) => r.id),
      [0, 1, 3],
    );
  });

  it('leaves rows whose links are broken to the decision, which refuses them', () => {
    const broken = [row(1, 'marty@x.io', '111'), row(2, 'george@x.io', '222', 3), row(3, 'x@x.io', '9', 1)];
    assert.equal(separate(request('marty@x.io', '222'), broken, SEPARATED), null);
  });

  it('finds the separation with the lowest id when several bind the two customers', () => {
    const several = new Separations([separation(5, 3, 4), separation(2, 1, 2)]);
    assert.equal(separate(request('marty@x.io', '222'), rowsFor('marty@x.io', '222'), several)?.separation.id, 2);
  });
});

/**
 * Property, against a formulation with no links: customers are labels on rows, each owning its own
 * values (I2), and a separation binds the labels of its two contacts. A request whose email's
 * label and phone's label differ and are bound is narrowed to the email's customer; any other is
 * left alone.
 */
describe('separate, by property', () => {
  const world = fc
    .record({
      labels: fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 10 }),
      pairs: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }),
      email: fc.option(fc.nat({ max: 12 })),
      phone: fc.option(fc.nat({ max: 12 })),
    })
    .map(({ labels, pairs, email, phone }) => {
      // Row i of label k holds e<i> and p<i>: values are never shared across labels.
      const firstOf = new Map<number, number>();
      const rows = labels.map((label, index) => {
        const id = index + 1;
        if (!firstOf.has(label)) firstOf.set(label, id);
        return row(id, `e${id}@x.io`, `p${id}`, firstOf.get(label) === id ? null : (firstOf.get(label) as number));
      });
      const separations = pairs
        .map(([a, b], index) => separation(index + 1, (a % rows.length) + 1, (b % rows.length) + 1))
        .filter((s) => s.contactIds[0] !== s.contactIds[1]);
      const ask = request(email === null ? null : `e${email}@x.io`, phone === null ? null : `p${phone}`);
      return { rows, labels, separations, ask };
    });

  it('narrows exactly the requests whose two customers a separation binds, to the email’s customer', () => {
    fc.assert(
      fc.property(world, ({ rows, labels, separations, ask }) => {
        const labelOf = (id: number) => labels[id - 1] as number;
        const holder = (field: 'email' | 'phoneNumber') => rows.find((r) => ask[field] !== null && r[field] === ask[field]);
        const [byEmail, byPhone] = [holder('email'), holder('phoneNumber')];
        const bound =
          byEmail !== undefined &&
          byPhone !== undefined &&
          labelOf(byEmail.id) !== labelOf(byPhone.id) &&
          separations.some(({ contactIds: [a, b] }) => {
            const pair = [labelOf(a), labelOf(b)];
            return pair.includes(labelOf(byEmail.id)) && pair.includes(labelOf(byPhone.id)) && pair[0] !== pair[1];
          });
        const narrowed = separate(ask, rowsOfInvolvedCustomers(rows, ask), new Separations(separations));
        if (!bound) {
          assert.equal(narrowed, null);
          return;
        }
        assert.ok(narrowed);
        assert.deepEqual(narrowed.request, request(ask.email, null));
        assert.deepEqual(
          narrowed.rows.map((r) => r.id),
          rows.filter((r) => labelOf(r.id) === labelOf(byEmail.id)).map((r) => r.id),
        );
        assert.equal(narrowed.ignored, 'phoneNumber');
      }),
      { numRuns: 2000 },
    );
  });
});
