/** The use case's promises about database work: how many round trips, when a transaction. */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import type { Database } from '../../src/db/database.js';
import { identifyStore } from '../../src/db/identifyStore.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { describeOnEachDatabase } from '../support/databases.js';

/** Counts what the service asks of the database, passing everything through. */
function countingDatabase(real: Database, beforeQuery: (sql: string) => Promise<void> = async () => {}) {
  const calls = { queries: 0, transactions: 0 };
  const db: Database = {
    kind: real.kind,
    stats: () => real.stats(),
    query: async (sql, params) => {
      calls.queries++;
      await beforeQuery(sql);
      return real.query(sql, params);
    },
    exec: (sql) => real.exec(sql),
    transaction: (work) => {
      calls.transactions++;
      return real.transaction(work);
    },
    // The real one is the database itself on these sessions; counting it means counting `db`.
    get readCommitted() {
      return db;
    },
    close: () => real.close(),
  };
  return { db, calls };
}

describeOnEachDatabase('the identify use case', (scratch) => {
  beforeEach(() => scratch().reset());

  it('answers a returning customer that brings nothing new in one round trip, without a transaction', async () => {
    const { db, calls } = countingDatabase(scratch().db);
    const service = createIdentifyService(identifyStore(db));
    await service.identify({ email: 'a@x.io', phoneNumber: '111' });
    await service.identify({ email: 'b@x.io', phoneNumber: '111' });
    Object.assign(calls, { queries: 0, transactions: 0 });

    const result = await service.identify({ email: 'b@x.io', phoneNumber: '111' });
    assert.equal(result.outcome, 'unchanged');
    assert.deepEqual(calls, { queries: 1, transactions: 0 });
  });

  it('answers returning customers whose lookups arrive together from one statement, each with its own customer', async () => {
    const { db, calls } = countingDatabase(scratch().db);
    const service = createIdentifyService(identifyStore(db));
    await service.identify({ email: 'a@x.io', phoneNumber: '111' });
    await service.identify({ email: 'b@x.io', phoneNumber: '222' });
    await service.identify({ email: 'c@x.io', phoneNumber: '111' });
    Object.assign(calls, { queries: 0, transactions: 0 });

    const answers = await Promise.all([
      service.identify({ email: 'c@x.io', phoneNumber: null }),
      service.identify({ email: null, phoneNumber: '222' }),
      service.identify({ email: 'nobody@x.io', phoneNumber: null }),
    ]);
    assert.deepEqual(
      answers.map(({ outcome, customer }) => [outcome, customer.primaryContactId, customer.emails]),
      [
        ['unchanged', 1, ['a@x.io', 'c@x.io']],
        ['unchanged', 2, ['b@x.io']],
        ['created_primary', 4, ['nobody@x.io']],
      ],
    );
    // One read for the three, then the new customer's write.
    assert.deepEqual(calls, { queries: 2, transactions: 0 });
  });

  it('reports what each request did', async () => {
    const service = createIdentifyService(identifyStore(scratch().db));
    const outcome = async (email: string | null, phoneNumber: string | null) => (await service.identify({ email, phoneNumber })).outcome;
    assert.equal(await outcome('a@x.io', '111'), 'created_primary');
    assert.equal(await outcome('b@x.io', '111'), 'created_secondary');
    assert.equal(await outcome('c@x.io', '222'), 'created_primary');
    assert.equal(await outcome('a@x.io', '222'), 'merged');
    assert.equal(await outcome('c@x.io', '111'), 'unchanged');
  });

  it('stamps a merge with a fresh updatedAt on every re-linked row', async () => {
    const service = createIdentifyService(identifyStore(scratch().db));
    await service.identify({ email: 'a@x.io', phoneNumber: '111' });
    await service.identify({ email: 'b@x.io', phoneNumber: '222' });
    await service.identify({ email: 'c@x.io', phoneNumber: '222' });
    const before = await scratch().db.query<{ id: number; updatedAt: Date }>(`SELECT "id", "updatedAt" FROM "Contact" ORDER BY "id"`);
    await service.identify({ email: 'a@x.io', phoneNumber: '222' });
    const afterMerge = await scratch().db.query<{ id: number; updatedAt: Date; linkedId: number | null }>(
      `SELECT "id", "updatedAt", "linkedId" FROM "Contact" ORDER BY "id"`,
    );
    assert.deepEqual(
      afterMerge.map((row) => row.linkedId),
      [null, 1, 1],
    );
    assert.equal(afterMerge[0]?.updatedAt.getTime(), before[0]?.updatedAt.getTime());
    for (const index of [1, 2]) assert.ok(afterMerge[index]!.updatedAt > before[index]!.updatedAt);
  });

  it('writes a first order, a new identifier and a merge in two round trips each, without a transaction', async () => {
    const { db, calls } = countingDatabase(scratch().db);
    const service = createIdentifyService(identifyStore(db));
    for (const [request, outcome] of [
      [{ email: 'a@x.io', phoneNumber: '111' }, 'created_primary'],
      [{ email: 'b@x.io', phoneNumber: '111' }, 'created_secondary'],
      [{ email: 'c@x.io', phoneNumber: '222' }, 'created_primary'],
      [{ email: 'a@x.io', phoneNumber: '222' }, 'merged'],
    ] as const) {
      Object.assign(calls, { queries: 0, transactions: 0 });
      assert.equal((await service.identify(request)).outcome, outcome);
      assert.deepEqual(calls, { queries: 2, transactions: 0 }, JSON.stringify(request));
    }
  });

  it('does not apply a plan whose rows changed after they were read, and decides again on the rows as they are', async () => {
    const competitor = createIdentifyService(identifyStore(scratch().db));
    let raced = false;
    const { db, calls } = countingDatabase(scratch().db, async (sql) => {
      if (raced || !sql.includes('identity_apply_plan')) return;
      raced = true;
      await competitor.identify({ email: 'a@x.io', phoneNumber: '222' });
    });

    const result = await createIdentifyService(identifyStore(db)).identify({ email: 'a@x.io', phoneNumber: '111' });
    assert.equal(result.outcome, 'created_secondary');
    const [competitorsRow] = await scratch().db.query<{ id: number }>(`SELECT "id" FROM "Contact" WHERE "phoneNumber" = '222'`);
    assert.equal(result.customer.primaryContactId, competitorsRow?.id);
    assert.deepEqual(result.customer.phoneNumbers, ['222', '111']);
    assert.deepEqual(calls, { queries: 3, transactions: 0 });
  });

  it('after losing three races in a row decides under locks held until commit, and that decision holds', async () => {
    const competitor = createIdentifyService(identifyStore(scratch().db));
    let races = 0;
    const { db, calls } = countingDatabase(scratch().db, async (sql) => {
      if (!sql.includes('identity_apply_plan')) return;
      races++;
      await competitor.identify({ email: 'a@x.io', phoneNumber: `90${races}` });
    });

    const result = await createIdentifyService(identifyStore(db)).identify({ email: 'a@x.io', phoneNumber: '111' });
    assert.equal(result.outcome, 'created_secondary');
    assert.deepEqual(result.customer.phoneNumbers, ['901', '902', '903', '111']);
    assert.deepEqual(calls, { queries: 4, transactions: 1 });
    assert.equal(races, 3);
  });
});
