/** The use case's promises about database work: how many round trips, when a transaction. */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import type { Database } from '../../src/db/database.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { describeOnEachDatabase } from '../support/databases.js';

/** Counts what the service asks of the database, passing everything through. */
function countingDatabase(real: Database) {
  const calls = { queries: 0, transactions: 0 };
  const db: Database = {
    kind: real.kind,
    query: (sql, params) => {
      calls.queries++;
      return real.query(sql, params);
    },
    exec: (sql) => real.exec(sql),
    transaction: (work) => {
      calls.transactions++;
      return real.transaction(work);
    },
    close: () => real.close(),
  };
  return { db, calls };
}

describeOnEachDatabase('the identify use case', (scratch) => {
  beforeEach(() => scratch().reset());

  it('answers a returning customer that brings nothing new in one round trip, without a transaction', async () => {
    const { db, calls } = countingDatabase(scratch().db);
    const service = createIdentifyService(db);
    await service.identify({ email: 'a@x.io', phoneNumber: '111' });
    await service.identify({ email: 'b@x.io', phoneNumber: '111' });
    Object.assign(calls, { queries: 0, transactions: 0 });

    const result = await service.identify({ email: 'b@x.io', phoneNumber: '111' });
    assert.equal(result.outcome, 'unchanged');
    assert.deepEqual(calls, { queries: 1, transactions: 0 });
  });

  it('reports what each request did', async () => {
    const service = createIdentifyService(scratch().db);
    const outcome = async (email: string | null, phoneNumber: string | null) => (await service.identify({ email, phoneNumber })).outcome;
    assert.equal(await outcome('a@x.io', '111'), 'created_primary');
    assert.equal(await outcome('b@x.io', '111'), 'created_secondary');
    assert.equal(await outcome('c@x.io', '222'), 'created_primary');
    assert.equal(await outcome('a@x.io', '222'), 'merged');
    assert.equal(await outcome('c@x.io', '111'), 'unchanged');
  });

  it('stamps a merge with a fresh updatedAt on every re-linked row', async () => {
    const service = createIdentifyService(scratch().db);
    await service.identify({ email: 'a@x.io', phoneNumber: '111' });
    await service.identify({ email: 'b@x.io', phoneNumber: '222' });
    await service.identify({ email: 'c@x.io', phoneNumber: '222' });
    const before = await scratch().db.query<{ id: number; updatedAt: Date }>(`SELECT "id", "updatedAt" FROM "Contact" ORDER BY "id"`);
    await service.identify({ email: 'a@x.io', phoneNumber: '222' });
    const afterMerge = await scratch().db.query<{ id: number; updatedAt: Date; linkedId: number | null }>(
      `SELECT "id", "updatedAt", "linkedId" FROM "Contact" ORDER BY "id"`,
    );
    assert.deepEqual(afterMerge.map((row) => row.linkedId), [null, 1, 1]);
    assert.equal(afterMerge[0]?.updatedAt.getTime(), before[0]?.updatedAt.getTime());
    for (const index of [1, 2]) assert.ok(afterMerge[index]!.updatedAt > before[index]!.updatedAt);
  });
});
