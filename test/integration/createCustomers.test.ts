/**
 * New customers written together (src/db/createBatch.ts, migrations/0012): requests of one turn
 * that each make a new customer share one statement, and each is answered as if the requests had
 * been made one at a time, in the order they arrived.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import type { Database, Queryable } from '../../src/db/database.js';
import { identifyStore } from '../../src/db/identifyStore.js';
import { CREATE_CUSTOMERS_SQL } from '../../src/db/createBatch.js';
import type { Identifiers } from '../../src/identity/contact.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { describeOnEachDatabase } from '../support/databases.js';

/** The database, recording every statement sent through it, in a transaction too. */
function recording(real: Database) {
  const sent: string[] = [];
  const recorded = (inner: Queryable): Queryable => ({
    query: (sql, params) => {
      sent.push(sql);
      return inner.query(sql, params);
    },
    exec: (sql) => inner.exec(sql),
  });
  const db: Database = {
    ...recorded(real),
    kind: real.kind,
    stats: () => real.stats(),
    exec: (sql) => real.exec(sql),
    transaction: (work) => real.transaction((tx) => work(recorded(tx))),
    get readCommitted() {
      return db;
    },
    close: () => real.close(),
  };
  return { db, sent };
}

const createPrimary = (request: Identifiers) => ({ kind: 'createPrimary' as const, insert: request });

describeOnEachDatabase('new customers written together', (scratch) => {
  beforeEach(() => scratch().reset());

  it('three new customers arriving together: one read statement, one write statement, three customers and their events', async () => {
    const { db, sent } = recording(scratch().db);
    const service = createIdentifyService(identifyStore(db));
    const requests = [
      { email: 'a@x.io', phoneNumber: '111' },
      { email: 'b@x.io', phoneNumber: '222' },
      { email: 'c@x.io', phoneNumber: '333' },
    ];
    const answers = await Promise.all(requests.map((request) => service.identify(request)));
    assert.deepEqual(
      answers.map(({ customer }) => [customer.emails, customer.phoneNumbers, customer.secondaryContactIds]),
      requests.map((request) => [[request.email], [request.phoneNumber], []]),
    );
    assert.equal(new Set(answers.map(({ customer }) => customer.primaryContactId)).size, 3);
    assert.equal(sent.filter((sql) => sql === CREATE_CUSTOMERS_SQL).length, 1);
    assert.equal(sent.length, 2);
    const events = await scratch().db.query<{ type: string; count: number }>(
      `SELECT "type", count(*)::int AS count FROM "ContactEvent" GROUP BY "type"`,
    );
    assert.deepEqual(events, [{ type: 'customer.created', count: 3 }]);
  });

  it('two arriving together with one new phone: the first makes the customer, the second joins it, answered one at a time', async () => {
    const service = createIdentifyService(identifyStore(scratch().db));
    const [first, second] = await Promise.all([
      service.identify({ email: 'a@x.io', phoneNumber: '111' }),
      service.identify({ email: 'b@x.io', phoneNumber: '111' }),
    ]);
    assert.deepEqual(first?.customer.emails, ['a@x.io']);
    assert.deepEqual(second?.customer.emails, ['a@x.io', 'b@x.io']);
    assert.equal(second?.customer.primaryContactId, first?.customer.primaryContactId);
    assert.equal(second?.customer.secondaryContactIds.length, 1);
  });

  it('a request whose value another request of its statement brought is answered with that customer, unwritten', async () => {
    const store = identifyStore(scratch().db);
    const context = { blocklistVersion: null, requestId: null };
    const [made, again] = await Promise.all([
      store.applyPlanIfCurrent(
        { email: 'a@x.io', phoneNumber: '111' },
        [],
        createPrimary({ email: 'a@x.io', phoneNumber: '111' }),
        context,
      ),
      store.applyPlanIfCurrent(
        { email: 'z@x.io', phoneNumber: '111' },
        [],
        createPrimary({ email: 'z@x.io', phoneNumber: '111' }),
        context,
      ),
    ]);
    assert.equal(made?.kind, 'applied');
    assert.equal(again?.kind, 'stale');
    if (made?.kind !== 'applied' || again?.kind !== 'stale') return;
    assert.deepEqual(again.rows, [made.inserted]);
    const [{ count } = { count: 0 }] = await scratch().db.query<{ count: number }>(`SELECT count(*)::int AS count FROM "Contact"`);
    assert.equal(count, 1);
  });

  it('a statement decided with an old block list writes nothing for any of its requests', async () => {
    const store = identifyStore(scratch().db);
    const [{ version } = { version: 0 }] = await scratch().db.query<{ version: number }>(
      `SELECT "blocklistVersion"::int AS version FROM "IdentityGovernance"`,
    );
    const stale = { blocklistVersion: version - 1, requestId: null };
    const attempts = await Promise.all(
      ['a@x.io', 'b@x.io'].map((email) =>
        store.applyPlanIfCurrent({ email, phoneNumber: null }, [], createPrimary({ email, phoneNumber: null }), stale),
      ),
    );
    assert.deepEqual(
      attempts.map((attempt) => attempt.kind),
      ['blocklistChanged', 'blocklistChanged'],
    );
    const [{ count } = { count: 0 }] = await scratch().db.query<{ count: number }>(`SELECT count(*)::int AS count FROM "Contact"`);
    assert.equal(count, 0);
  });

  it('requests decided with different block list versions share the statement, each checked against its own', async () => {
    const { db, sent } = recording(scratch().db);
    const store = identifyStore(db);
    const [{ version } = { version: 0 }] = await scratch().db.query<{ version: number }>(
      `SELECT "blocklistVersion"::int AS version FROM "IdentityGovernance"`,
    );
    sent.length = 0;
    const attempts = await Promise.all(
      [
        ['a@x.io', version],
        ['b@x.io', version],
        ['c@x.io', version - 1],
      ].map(([email, blocklistVersion]) =>
        store.applyPlanIfCurrent(
          { email: email as string, phoneNumber: null },
          [],
          createPrimary({ email: email as string, phoneNumber: null }),
          { blocklistVersion: blocklistVersion as number, requestId: null },
        ),
      ),
    );
    assert.deepEqual(
      attempts.map((attempt) => attempt.kind),
      ['applied', 'applied', 'blocklistChanged'],
    );
    assert.deepEqual(sent, [CREATE_CUSTOMERS_SQL]);
    const [{ count } = { count: 0 }] = await scratch().db.query<{ count: number }>(`SELECT count(*)::int AS count FROM "Contact"`);
    assert.equal(count, 2);
  });

  it('inside a transaction, attempts go one by one', async () => {
    const { db, sent } = recording(scratch().db);
    const store = identifyStore(db);
    await store.transaction(async (tx) => {
      await Promise.all(
        ['a@x.io', 'b@x.io'].map((email) =>
          tx.applyPlanIfCurrent({ email, phoneNumber: null }, [], createPrimary({ email, phoneNumber: null }), {
            blocklistVersion: null,
            requestId: null,
          }),
        ),
      );
    });
    assert.equal(sent.filter((sql) => sql === CREATE_CUSTOMERS_SQL).length, 0);
    assert.equal(sent.length, 2, 'one identity_apply_plan each');
  });
});
