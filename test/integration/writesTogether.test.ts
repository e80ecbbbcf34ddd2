/**
 * Writes arriving together (src/db/planBatch.ts, migrations/0013): the plans of requests that
 * arrive together share one statement, new customers, extensions and merges alike, and each is answered as
 * if the requests had been made one at a time, in the order they arrived.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Database, Queryable } from '../../src/db/database.js';
import { APPLY_PLAN_SQL, identifyStore } from '../../src/db/identifyStore.js';
import { APPLY_PLANS_SQL } from '../../src/db/planBatch.js';
import type { Identifiers } from '../../src/identity/contact.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { describeOnEachDatabase, openScratchPostgres, postgresUrl, type ScratchDatabase } from '../support/databases.js';

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

describeOnEachDatabase('writes arriving together', (scratch) => {
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
    assert.equal(sent.filter((sql) => sql === APPLY_PLANS_SQL).length, 1);
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
    assert.deepEqual(sent, [APPLY_PLANS_SQL]);
    const [{ count } = { count: 0 }] = await scratch().db.query<{ count: number }>(`SELECT count(*)::int AS count FROM "Contact"`);
    assert.equal(count, 2);
  });

  it('three extensions of three customers arriving together: one read statement, one write statement, one new row and event each', async () => {
    const { db, sent } = recording(scratch().db);
    const service = createIdentifyService(identifyStore(db));
    for (const [email, phoneNumber] of [
      ['a@x.io', '111'],
      ['b@x.io', '222'],
      ['c@x.io', '333'],
    ] as const)
      await service.identify({ email, phoneNumber });
    sent.length = 0;
    const answers = await Promise.all(
      ['a@x.io', 'b@x.io', 'c@x.io'].map((email, index) => service.identify({ email, phoneNumber: `90${index}` })),
    );
    assert.deepEqual(
      answers.map(({ customer }) => [customer.primaryContactId, customer.phoneNumbers, customer.secondaryContactIds]),
      [
        [1, ['111', '900'], [4]],
        [2, ['222', '901'], [5]],
        [3, ['333', '902'], [6]],
      ],
    );
    assert.equal(sent.length, 2);
    assert.equal(sent[1], APPLY_PLANS_SQL);
    const updated = await scratch().db.query<{ customerIds: number[] }>(
      `SELECT "customerIds" FROM "ContactEvent" WHERE "type" = 'customer.updated' ORDER BY "id"`,
    );
    assert.deepEqual(
      updated.map((event) => event.customerIds),
      [[1], [2], [3]],
    );
  });

  it('two extensions of one customer arriving together: the first is written, the second decided again on it, answered one at a time', async () => {
    const service = createIdentifyService(identifyStore(scratch().db));
    await service.identify({ email: 'a@x.io', phoneNumber: '111' });
    const [first, second] = await Promise.all([
      service.identify({ email: 'a@x.io', phoneNumber: '222' }),
      service.identify({ email: 'a@x.io', phoneNumber: '333' }),
    ]);
    assert.deepEqual(first?.customer.phoneNumbers, ['111', '222']);
    assert.deepEqual(second?.customer.phoneNumbers, ['111', '222', '333']);
    assert.deepEqual(second?.customer.secondaryContactIds, [2, 3]);
  });

  it('a merge and an extension of one of its customers arriving together: the merge is written, the extension joins the merged customer', async () => {
    const service = createIdentifyService(identifyStore(scratch().db));
    await service.identify({ email: 'a@x.io', phoneNumber: '111' });
    await service.identify({ email: 'b@x.io', phoneNumber: '222' });
    const [merge, extension] = await Promise.all([
      service.identify({ email: 'a@x.io', phoneNumber: '222' }),
      service.identify({ email: 'b@x.io', phoneNumber: '333' }),
    ]);
    assert.deepEqual(merge?.customer, {
      primaryContactId: 1,
      emails: ['a@x.io', 'b@x.io'],
      phoneNumbers: ['111', '222'],
      secondaryContactIds: [2],
    });
    assert.deepEqual(extension?.customer, {
      primaryContactId: 1,
      emails: ['a@x.io', 'b@x.io'],
      phoneNumbers: ['111', '222', '333'],
      secondaryContactIds: [2, 3],
    });
    const types = await scratch().db.query<{ type: string }>(`SELECT "type" FROM "ContactEvent" ORDER BY "id"`);
    assert.deepEqual(
      types.map((event) => event.type),
      ['customer.created', 'customer.created', 'customer.merged', 'customer.updated'],
    );
  });

  it('a batch that fails writes nothing, and each of its plans is then sent alone: one failure stays its own', async () => {
    const real = scratch().db;
    const sent: string[] = [];
    const failingBatches: Database = {
      ...real,
      query: (sql, params) => {
        sent.push(sql);
        return sql === APPLY_PLANS_SQL ? Promise.reject(new Error('the batch failed')) : real.query(sql, params);
      },
      get readCommitted() {
        return failingBatches;
      },
    };
    const service = createIdentifyService(identifyStore(failingBatches));
    const answers = await Promise.all(['a@x.io', 'b@x.io'].map((email) => service.identify({ email, phoneNumber: null })));
    assert.deepEqual(
      answers.map(({ customer }) => customer.emails),
      [['a@x.io'], ['b@x.io']],
    );
    assert.equal(sent.filter((sql) => sql === APPLY_PLANS_SQL).length, 1);
    assert.equal(sent.filter((sql) => sql === APPLY_PLAN_SQL).length, 2);
  });

  it("the previous version's batch of new customers (identity_create_customers) still writes, for its processes during a rolling upgrade", async () => {
    // What the version before migrations/0013 sends (its src/db/createBatch.ts), word for word.
    const previousVersionSql = 'SELECT * FROM identity_create_customers($1::text[], $2::text[], $3::bigint[], $4::text[], $5::boolean)';
    const rows = await scratch().db.query<{ request: number; applied: boolean; email: string }>(previousVersionSql, [
      ['a@x.io', 'b@x.io'],
      [null, null],
      [null, null],
      [null, null],
      true,
    ]);
    assert.deepEqual(
      rows.map(({ request, applied, email }) => [request, applied, email]),
      [
        [1, true, 'a@x.io'],
        [2, true, 'b@x.io'],
      ],
    );
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
    assert.equal(sent.filter((sql) => sql === APPLY_PLANS_SQL).length, 0);
    assert.equal(sent.length, 2, 'one identity_apply_plan each');
  });
});

describe('writes while another transaction holds a lock [PostgreSQL]', { skip: postgresUrl ? false : 'needs PostgreSQL' }, () => {
  let scratch: ScratchDatabase;
  before(async () => {
    scratch = await openScratchPostgres(postgresUrl as string);
  });
  after(() => scratch?.dispose());
  beforeEach(() => scratch.reset());

  it("another customer's new row is written while an extension waits for a primary another transaction holds", async () => {
    const service = createIdentifyService(identifyStore(scratch.db));
    const { customer } = await service.identify({ email: 'held@x.io', phoneNumber: '711' });
    const holder = new pg.Client({ connectionString: scratch.url as string });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "Contact" WHERE "id" = $1 FOR UPDATE`, [customer.primaryContactId]);
      const stuck = service.identify({ email: 'held@x.io', phoneNumber: '722' });
      await sleep(50);
      // Behind the stuck statement for good, it would still wait when the holder gives up, 5 s on.
      const other = service.identify({ email: 'other@x.io', phoneNumber: '733' });
      const first = await Promise.race([other.then(() => 'written'), sleep(5_000).then(() => 'still waiting')]);
      assert.equal(first, 'written');
      assert.deepEqual((await other).customer.emails, ['other@x.io']);
      await holder.query('ROLLBACK');
      assert.deepEqual((await stuck).customer.phoneNumbers, ['711', '722']);
    } finally {
      await holder.end();
    }
  });

  it("a plan decided before another customer joined is answered stale at once, while another transaction holds that customer's primary", async () => {
    const service = createIdentifyService(identifyStore(scratch.db));
    await service.identify({ email: 'a@x.io', phoneNumber: '111' });
    await service.identify({ email: 'b@x.io', phoneNumber: '222' });
    const holder = new pg.Client({ connectionString: scratch.url as string });
    const batch = new pg.Client({ connectionString: scratch.url as string });
    await holder.connect();
    await batch.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "Contact" WHERE "id" = 2 FOR UPDATE`);
      // Waiting for row 2 would fail this test after 3 s, instead of waiting until the holder commits.
      await batch.query(`SET lock_timeout = '3s'`);
      // Request 2 brings b@x.io's phone to a@x.io's customer, decided on customer 1 alone: it joins customer 2 now.
      const { rows } = await batch.query<{ request: number; applied: boolean; id: number | null }>(APPLY_PLANS_SQL, [
        ['c@x.io', 'a@x.io'],
        ['333', '222'],
        ['{}', '{1}'],
        ['{}', '{0}'],
        ['{}', '{1}'],
        [null, 1],
        [false, false],
        ['{}', '{}'],
        [true, true],
        [null, null],
        [null, null],
        false,
      ]);
      assert.deepEqual(
        rows.map(({ request, applied, id }) => [request, applied, id]),
        [
          [1, true, 3],
          [2, false, 1],
          [2, false, 2],
        ],
      );
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
      await batch.end();
    }
  });
});
