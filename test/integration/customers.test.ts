/**
 * The read API against real databases: GET /customers/lookup and GET /customers/{id} find the
 * customer /identify built — by email, phone, both, or any contact id — with its rows and why each
 * secondary belongs; 404 for nobody, 400 for bad input, 409 for identifiers of two customers; and
 * nothing they are asked ever writes.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { assertError, postIdentify, storedRows, useTestApp } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

interface DetailsBody {
  customer: {
    id: number;
    primaryContactId: number;
    emails: string[];
    phoneNumbers: string[];
    secondaryContactIds: number[];
    contacts: {
      id: number;
      email: string | null;
      phoneNumber: string | null;
      linkPrecedence: string;
      linkedId: number | null;
      createdAt: string;
      updatedAt: string;
    }[];
    links: { contactId: number; linkedId: number; reason: string; shared: { field: string; value: string; contactId: number }[] }[];
    page: { offset: number; limit: number; total: number; nextOffset: number | null };
  };
}

function get(app: FastifyInstance, url: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url });
}

function lookup(app: FastifyInstance, query: Record<string, string>): Promise<LightMyRequestResponse> {
  return get(app, `/customers/lookup?${new URLSearchParams(query)}`);
}

function found(response: LightMyRequestResponse): DetailsBody['customer'] {
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as DetailsBody).customer;
}

describeOnEachDatabase('read API', (scratch) => {
  const app = useTestApp(scratch);

  async function identify(email: string | null, phoneNumber: string | null): Promise<void> {
    assert.equal((await postIdentify(app(), { email, phoneNumber })).statusCode, 200);
  }

  /** The spec's example customer: primary 1 (lorraine, 123456) and secondary 2 (mcfly, 123456). */
  async function seedLorraine(): Promise<void> {
    await identify('lorraine@hillvalley.edu', '123456');
    await identify('mcfly@hillvalley.edu', '123456');
  }

  it('finds a customer by email: the /identify answer plus every row and why each secondary belongs', async () => {
    await seedLorraine();
    const customer = found(await lookup(app(), { email: 'mcfly@hillvalley.edu' }));
    const { contacts, links, page, ...summary } = customer;
    assert.deepEqual(page, { offset: 0, limit: 1000, total: 2, nextOffset: null });
    assert.deepEqual(summary, {
      id: 1,
      primaryContactId: 1,
      emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu'],
      phoneNumbers: ['123456'],
      secondaryContactIds: [2],
    });
    assert.deepEqual(
      contacts.map(({ createdAt, updatedAt, ...row }) => row),
      [
        { id: 1, email: 'lorraine@hillvalley.edu', phoneNumber: '123456', linkPrecedence: 'primary', linkedId: null },
        { id: 2, email: 'mcfly@hillvalley.edu', phoneNumber: '123456', linkPrecedence: 'secondary', linkedId: 1 },
      ],
    );
    for (const contact of contacts) {
      assert.match(contact.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Date.parse(contact.updatedAt) >= Date.parse(contact.createdAt));
    }
    assert.deepEqual(links, [
      { contactId: 2, linkedId: 1, reason: 'shared', shared: [{ field: 'phoneNumber', value: '123456', contactId: 1 }] },
    ]);
  });

  it('finds the same customer by phone, by both, and by normalised spellings of them', async () => {
    await seedLorraine();
    const expected = found(await lookup(app(), { email: 'lorraine@hillvalley.edu' }));
    const queries: Record<string, string>[] = [
      { phoneNumber: '123456' },
      { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
      { email: '  McFly@HillValley.edu ' },
      { phoneNumber: '12-34 56' },
    ];
    for (const query of queries) {
      assert.deepEqual(found(await lookup(app(), query)), expected, JSON.stringify(query));
    }
  });

  it('ignores an identifier nobody has when the other one is found', async () => {
    await seedLorraine();
    assert.equal(found(await lookup(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '999999' })).primaryContactId, 1);
  });

  it('answers 404 NOT_FOUND when nobody has the identifiers', async () => {
    await seedLorraine();
    assertError(await lookup(app(), { email: 'biff@hillvalley.edu' }), 404, 'NOT_FOUND');
    assertError(await lookup(app(), { email: 'biff@hillvalley.edu', phoneNumber: '999999' }), 404, 'NOT_FOUND');
  });

  it("answers 400 with the field's code for bad identifiers, as /identify does", async () => {
    const cases: [string, string][] = [
      ['', 'MISSING_IDENTIFIER'],
      ['email=&phoneNumber=', 'MISSING_IDENTIFIER'],
      ['email=nobody', 'INVALID_EMAIL'],
      ['email=a@x.io&email=b@x.io', 'INVALID_EMAIL'],
      ['phoneNumber=12ab', 'INVALID_PHONE_NUMBER'],
      ['phoneNumber=12', 'INVALID_PHONE_NUMBER'],
    ];
    for (const [query, code] of cases) assertError(await get(app(), `/customers/lookup?${query}`), 400, code);
  });

  it('answers 409 DIFFERENT_CUSTOMERS with both primaries when the email and the phone belong to two customers, and merges nothing', async () => {
    await identify('george@hillvalley.edu', '919191');
    await identify('biffsucks@hillvalley.edu', '717171');
    const before = await storedRows(scratch().db);

    const response = await lookup(app(), { email: 'biffsucks@hillvalley.edu', phoneNumber: '919191' });

    assertError(response, 409, 'DIFFERENT_CUSTOMERS');
    assert.deepEqual((response.json() as { error: { primaryContactIds: number[] } }).error.primaryContactIds, [1, 2]);
    assert.deepEqual(await storedRows(scratch().db), before);
  });

  it('after a merge, finds one customer by either side; the demoted primary is linked as merged, its secondaries through it', async () => {
    await identify('george@hillvalley.edu', '919191');
    await identify('biffsucks@hillvalley.edu', '717171');
    await identify('biff@hillvalley.edu', '717171');
    await identify('george@hillvalley.edu', '717171');

    const customer = found(await lookup(app(), { email: 'biff@hillvalley.edu' }));

    assert.deepEqual(found(await lookup(app(), { phoneNumber: '919191' })), customer);
    assert.deepEqual([customer.primaryContactId, customer.secondaryContactIds], [1, [2, 3]]);
    assert.deepEqual(customer.links, [
      { contactId: 2, linkedId: 1, reason: 'merged', shared: [] },
      { contactId: 3, linkedId: 1, reason: 'shared', shared: [{ field: 'phoneNumber', value: '717171', contactId: 2 }] },
    ]);
  });

  it('GET /customers/{id}: any contact of the customer gives the same answer, for the primary', async () => {
    await seedLorraine();
    await identify('doc@hillvalley.edu', '555');
    const byEmail = found(await lookup(app(), { email: 'lorraine@hillvalley.edu' }));
    assert.deepEqual(found(await get(app(), '/customers/1')), byEmail);
    assert.deepEqual(found(await get(app(), '/customers/2')), byEmail);
    assert.equal(found(await get(app(), '/customers/3')).primaryContactId, 3);
  });

  it('GET /customers/{id}: 404 for an id no live contact has, deleted rows included', async () => {
    await seedLorraine();
    assertError(await get(app(), '/customers/3'), 404, 'NOT_FOUND');
    await scratch().db.query(`UPDATE "Contact" SET "deletedAt" = now() WHERE "id" = 2`);
    assertError(await get(app(), '/customers/2'), 404, 'NOT_FOUND');
    assert.deepEqual(found(await get(app(), '/customers/1')).secondaryContactIds, []);
  });

  it('GET /customers/{id}: 400 INVALID_CONTACT_ID for anything but a positive 32-bit integer', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '1e3', '2147483648', '99999999999999999999', '%20']) {
      assertError(await get(app(), `/customers/${id}`), 400, 'INVALID_CONTACT_ID');
    }
  });

  it('never writes: the table is the same after every kind of lookup', async () => {
    await seedLorraine();
    const before = await scratch().db.query('SELECT * FROM "Contact" ORDER BY "id"');
    await lookup(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '999999' });
    await lookup(app(), { email: 'new@x.io', phoneNumber: '123456' });
    await lookup(app(), { email: 'new@x.io' });
    await get(app(), '/customers/2');
    assert.deepEqual(await scratch().db.query('SELECT * FROM "Contact" ORDER BY "id"'), before);
  });
});
