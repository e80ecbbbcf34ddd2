/**
 * Tables a shop already had: soft-deleted primaries, legacy link chains and cycles. Deleted rows
 * are simply absent; a request that touches a customer whose primary was deleted puts its links in
 * place under the usual locks; rows whose links the service cannot decide on get 409 NEEDS_REPAIR
 * and nothing is written. In every case the answer equals the table afterwards.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkInvariants } from '../../src/db/invariants.js';
import { assertError, postIdentify, storedRows, useTestApp, type StoredRow } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

interface CustomerBody {
  customer: { id: number; primaryContactId: number; emails: string[]; phoneNumbers: string[]; secondaryContactIds: number[] };
}

describeOnEachDatabase('tables the service did not write alone', (scratch) => {
  const app = useTestApp(scratch);

  async function identify(body: object): Promise<CustomerBody['customer']> {
    const response = await postIdentify(app(), body);
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as CustomerBody).customer;
  }

  const softDelete = (id: number) => scratch().db.query(`UPDATE "Contact" SET "deletedAt" = now() WHERE "id" = $1`, [id]);
  const liveRows = async (): Promise<StoredRow[]> => {
    const deleted = new Set(
      (await scratch().db.query<{ id: number }>(`SELECT "id" FROM "Contact" WHERE "deletedAt" IS NOT NULL`)).map((row) => row.id),
    );
    return (await storedRows(scratch().db)).filter((row) => !deleted.has(row.id));
  };

  /** The answer says exactly what the table holds for that customer. */
  async function assertAnswerIsTable(customer: CustomerBody['customer']): Promise<void> {
    const rows = (await liveRows()).filter((row) => row.id === customer.primaryContactId || row.linkedId === customer.primaryContactId);
    const primary = rows.find((row) => row.id === customer.primaryContactId);
    assert.deepEqual(primary && [primary.linkPrecedence, primary.linkedId], ['primary', null]);
    assert.deepEqual(
      rows.filter((row) => row !== primary).map((row) => row.id),
      customer.secondaryContactIds,
    );
    assert.ok(rows.filter((row) => row !== primary).every((row) => row.linkPrecedence === 'secondary'));
  }

  /** 1 (a@x.io, 111) primary, 2 (b@x.io, 111) its secondary; then 1 is soft-deleted. */
  async function customerWithDeletedPrimary(): Promise<void> {
    await identify({ email: 'a@x.io', phoneNumber: '111' });
    await identify({ email: 'b@x.io', phoneNumber: '111' });
    await softDelete(1);
  }

  it('a soft-deleted primary: a request for its secondary answers the live rows, the secondary promoted in the table', async () => {
    await customerWithDeletedPrimary();
    const customer = await identify({ email: 'b@x.io' });
    assert.deepEqual(customer, { id: 2, primaryContactId: 2, emails: ['b@x.io'], phoneNumbers: ['111'], secondaryContactIds: [] });
    assert.deepEqual(
      (await liveRows()).map((row) => [row.id, row.linkPrecedence, row.linkedId]),
      [[2, 'primary', null]],
    );
    await assertAnswerIsTable(customer);
  });

  it('a soft-deleted primary: the oldest live row is promoted and the others re-pointed at it', async () => {
    await customerWithDeletedPrimary();
    await scratch().db.query(
      `INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence") VALUES ('c@x.io', '111', 1, 'secondary')`,
    );
    const customer = await identify({ phoneNumber: '111' });
    assert.deepEqual([customer.primaryContactId, customer.secondaryContactIds, customer.emails], [2, [3], ['b@x.io', 'c@x.io']]);
    assert.deepEqual(
      (await liveRows()).map((row) => [row.id, row.linkedId]),
      [
        [2, null],
        [3, 2],
      ],
    );
    await assertAnswerIsTable(customer);
  });

  it('a soft-deleted primary: a request joining its secondary to another customer writes the merge it answers', async () => {
    await customerWithDeletedPrimary();
    await identify({ email: 'c@x.io', phoneNumber: '222' }); // customer 3
    const customer = await identify({ email: 'b@x.io', phoneNumber: '222' });
    assert.deepEqual(customer, {
      id: 2,
      primaryContactId: 2,
      emails: ['b@x.io', 'c@x.io'],
      phoneNumbers: ['111', '222'],
      secondaryContactIds: [3],
    });
    assert.deepEqual(
      (await liveRows()).map((row) => [row.id, row.linkPrecedence, row.linkedId]),
      [
        [2, 'primary', null],
        [3, 'secondary', 2],
      ],
    );
    await assertAnswerIsTable(customer);
  });

  it('a soft-deleted primary: the read API answers its live rows as a customer, and a lookup with another customer names live primaries', async () => {
    await customerWithDeletedPrimary();
    await identify({ email: 'c@x.io', phoneNumber: '222' });
    const byId = await app().inject({ method: 'GET', url: '/customers/2' });
    assert.equal(byId.statusCode, 200, byId.body);
    assert.deepEqual((byId.json() as CustomerBody).customer.primaryContactId, 2);
    const both = await app().inject({ method: 'GET', url: '/customers/lookup?email=b@x.io&phoneNumber=222' });
    assertError(both, 409, 'DIFFERENT_CUSTOMERS');
    assert.deepEqual(both.json().error.primaryContactIds, [2, 3]);
    const deleted = await app().inject({ method: 'GET', url: '/customers/1' });
    assertError(deleted, 404, 'NOT_FOUND');
    assert.deepEqual(
      (await liveRows()).map((row) => row.linkedId),
      [1, null],
      'the read API never writes',
    );
  });

  it('demoting a primary re-points its deleted secondaries too: no link is left to a secondary', async () => {
    await identify({ email: 'a@x.io', phoneNumber: '111' }); // 1
    await identify({ email: 'b@x.io', phoneNumber: '222' }); // 2
    await identify({ email: 'c@x.io', phoneNumber: '222' }); // 3, secondary of 2
    await softDelete(3);
    await identify({ email: 'a@x.io', phoneNumber: '222' }); // 2 joins 1
    const links = (await storedRows(scratch().db)).map((row) => [row.id, row.linkedId]);
    assert.deepEqual(links, [
      [1, null],
      [2, 1],
      [3, 1],
    ]);
  });

  it('a link chain (3 -> 2 -> 1): 409 NEEDS_REPAIR with the ids, nothing written, whatever the request', async () => {
    await identify({ email: 'a@x.io', phoneNumber: '111' });
    await identify({ email: 'b@x.io', phoneNumber: '111' });
    await scratch().db.query(
      `INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence") VALUES ('c@x.io', '333', 2, 'secondary')`,
    );
    const before = await storedRows(scratch().db);
    for (const body of [{ email: 'c@x.io' }, { email: 'c@x.io', phoneNumber: '999' }, { phoneNumber: '333', email: 'new@x.io' }]) {
      const response = await postIdentify(app(), body);
      assertError(response, 409, 'NEEDS_REPAIR');
      assert.deepEqual(response.json().error.contactIds, [2, 3]);
      assert.doesNotMatch(response.body, /c@x\.io|333|999|new@x/);
    }
    assertError(await app().inject({ method: 'GET', url: '/customers/3' }), 409, 'NEEDS_REPAIR');
    assert.deepEqual(await storedRows(scratch().db), before);
  });

  it('a link cycle (1 -> 2 -> 1): 409 NEEDS_REPAIR, nothing written', async () => {
    await scratch().db.exec(`
      INSERT INTO "Contact" ("email", "phoneNumber", "linkPrecedence") VALUES ('a@x.io', '111', 'secondary'), ('b@x.io', '222', 'secondary');
      UPDATE "Contact" SET "linkedId" = 3 - "id";`);
    const before = await storedRows(scratch().db);
    assertError(await postIdentify(app(), { email: 'a@x.io', phoneNumber: '555' }), 409, 'NEEDS_REPAIR');
    assertError(await app().inject({ method: 'GET', url: '/customers/lookup?email=b@x.io' }), 409, 'NEEDS_REPAIR');
    assert.deepEqual(await storedRows(scratch().db), before);
  });

  it('a primary whose linkPrecedence is wrong is put right by the next request, which answers what the table then holds', async () => {
    await identify({ email: 'a@x.io', phoneNumber: '111' });
    await scratch().db.query(`UPDATE "Contact" SET "linkPrecedence" = 'secondary'`);
    const customer = await identify({ email: 'a@x.io' });
    await assertAnswerIsTable(customer);
    assert.deepEqual(
      (await checkInvariants(scratch().db)).filter((result) => result.count > 0),
      [],
    );
  });

  it('touching a customer whose primary was deleted leaves every invariant holding', async () => {
    await customerWithDeletedPrimary();
    await identify({ email: 'b@x.io' });
    assert.deepEqual(
      (await checkInvariants(scratch().db)).filter((result) => result.count > 0),
      [],
    );
  });
});
