/** Lookups made in one turn of the event loop share one statement; each gets its own rows. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Queryable } from '../../src/db/database.js';
import { batchedLookups, FIND_MANY_CUSTOMERS_SQL, MAX_LOOKUPS_PER_STATEMENT } from '../../src/db/lookupBatch.js';

const SINGLE = 'SELECT single';

interface Row {
  id: number;
}

/** A database that answers every email `eN` with rows N*10 and N*10+1, and records what it was sent. */
function fakeDatabase(fail = false) {
  const sent: { sql: string; params: readonly unknown[] }[] = [];
  const rowsOf = (email: unknown) => {
    const n = Number(String(email).slice(1));
    return [{ id: n * 10 }, { id: n * 10 + 1 }];
  };
  const db: Queryable = {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      sent.push({ sql, params });
      if (fail) throw new Error('connection lost');
      if (sql === SINGLE) return rowsOf(params[0]) as R[];
      const [emails] = params as [unknown[]];
      return emails.flatMap((email, index) => rowsOf(email).map((row) => ({ request: index + 1, ...row }))) as R[];
    },
    async exec() {},
  };
  return { db, sent };
}

const lookupOf = (n: number) => ({ email: `e${n}`, phoneNumber: null });

describe('batched lookups', () => {
  it('a lookup alone is sent as the one-lookup statement', async () => {
    const { db, sent } = fakeDatabase();
    const lookup = batchedLookups<Row>(db, SINGLE);
    assert.deepEqual(await lookup(lookupOf(3)), [{ id: 30 }, { id: 31 }]);
    assert.deepEqual(sent, [{ sql: SINGLE, params: ['e3', null] }]);
  });

  it('lookups made in one turn share one statement, and each gets its own rows in order', async () => {
    const { db, sent } = fakeDatabase();
    const lookup = batchedLookups<Row>(db, SINGLE);
    const answers = await Promise.all([lookup(lookupOf(1)), lookup(lookupOf(2)), lookup({ email: 'e3', phoneNumber: '555' })]);
    assert.deepEqual(answers, [
      [{ id: 10 }, { id: 11 }],
      [{ id: 20 }, { id: 21 }],
      [{ id: 30 }, { id: 31 }],
    ]);
    assert.deepEqual(sent, [
      {
        sql: FIND_MANY_CUSTOMERS_SQL,
        params: [
          ['e1', 'e2', 'e3'],
          [null, null, '555'],
        ],
      },
    ]);
  });

  it('lookups of later turns go in statements of their own', async () => {
    const { db, sent } = fakeDatabase();
    const lookup = batchedLookups<Row>(db, SINGLE);
    await lookup(lookupOf(1));
    await Promise.all([lookup(lookupOf(2)), lookup(lookupOf(3))]);
    assert.deepEqual(
      sent.map((statement) => statement.sql),
      [SINGLE, FIND_MANY_CUSTOMERS_SQL],
    );
  });

  it(`more than ${MAX_LOOKUPS_PER_STATEMENT} lookups in one turn are split into statements of at most that many`, async () => {
    const { db, sent } = fakeDatabase();
    const lookup = batchedLookups<Row>(db, SINGLE);
    const count = MAX_LOOKUPS_PER_STATEMENT * 2 + 1;
    const answers = await Promise.all(Array.from({ length: count }, (_, n) => lookup(lookupOf(n))));
    answers.forEach((rows, n) => assert.deepEqual(rows, [{ id: n * 10 }, { id: n * 10 + 1 }]));
    assert.deepEqual(
      sent.map((statement) => (statement.sql === SINGLE ? 1 : (statement.params[0] as unknown[]).length)),
      [MAX_LOOKUPS_PER_STATEMENT, MAX_LOOKUPS_PER_STATEMENT, 1],
    );
  });

  it('a statement that fails fails every lookup it carried, with its error', async () => {
    const { db } = fakeDatabase(true);
    const lookup = batchedLookups<Row>(db, SINGLE);
    const results = await Promise.allSettled([lookup(lookupOf(1)), lookup(lookupOf(2))]);
    assert.deepEqual(
      results.map((result) => (result.status === 'rejected' ? (result.reason as Error).message : 'answered')),
      ['connection lost', 'connection lost'],
    );
  });

  it('a lookup that finds nothing gets no rows, beside one that does', async () => {
    const { db } = fakeDatabase();
    const empty: Queryable = {
      ...db,
      query: async <R>(sql: string, params: readonly unknown[] = []) =>
        (await db.query<R & { request: number }>(sql, params)).filter((row) => row.request !== 1),
    };
    const lookup = batchedLookups<Row>(empty, SINGLE);
    assert.deepEqual(await Promise.all([lookup(lookupOf(1)), lookup(lookupOf(2))]), [[], [{ id: 20 }, { id: 21 }]]);
  });
});
