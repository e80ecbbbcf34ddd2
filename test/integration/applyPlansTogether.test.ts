/**
 * identity_apply_plans written together (migrations/0014): the plans of one statement that share no
 * identifier and no customer are checked in one statement and written in one; a plan that shares
 * one with an earlier plan is checked after that plan's writes. Either way the table, the event
 * log and the answers are those of the same requests made one at a time, in their order.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import type { Database, Queryable } from '../../src/db/database.js';
import { identifyStore } from '../../src/db/identifyStore.js';
import { APPLY_PLANS_SQL } from '../../src/db/planBatch.js';
import type { Identifiers } from '../../src/identity/contact.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { describeOnEachDatabase } from '../support/databases.js';

/**
 * Four customers, one of each kind a plan can write to:
 * - 1 (a@x.io), alone;
 * - 2 (b@x.io) with its secondary 3 and a soft-deleted row 4;
 * - 5 (c@x.io), alone;
 * - 6 (d@x.io), a legacy customer whose secondary 7 is older than its primary.
 */
async function seedCustomers(db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt", "deletedAt")
     VALUES (1, 'a@x.io', '111', NULL, 'primary', '2025-01-01', '2025-01-01', NULL),
            (2, 'b@x.io', '222', NULL, 'primary', '2025-01-02', '2025-01-02', NULL),
            (3, 'b2@x.io', '222', 2, 'secondary', '2025-01-03', '2025-01-03', NULL),
            (4, 'gone@x.io', '222', 2, 'secondary', '2025-01-04', '2025-01-04', '2025-02-01'),
            (5, 'c@x.io', '333', NULL, 'primary', '2025-01-05', '2025-01-05', NULL),
            (6, 'd@x.io', '444', NULL, 'primary', '2025-01-07', '2025-01-07', NULL),
            (7, 'd2@x.io', '444', 6, 'secondary', '2025-01-06', '2025-01-06', NULL)`,
  );
  await db.query(`SELECT setval(pg_get_serial_sequence('"Contact"', 'id'), 7)`);
}

/** A merge (1 and 2), an extension (5), a new customer, and a promotion with a new row (7 over 6). */
const EVERY_KIND: Identifiers[] = [
  { email: 'a@x.io', phoneNumber: '222' },
  { email: 'c@x.io', phoneNumber: '999' },
  { email: 'new@x.io', phoneNumber: '555' },
  { email: 'd@x.io', phoneNumber: '888' },
];

/** The database, counting the write statements (identity_apply_plans) sent through it. */
function countingWrites(real: Database) {
  const counted = { writes: 0 };
  const db: Database = {
    ...real,
    query: (sql, params) => {
      if (sql === APPLY_PLANS_SQL) counted.writes += 1;
      return real.query(sql, params);
    },
    get readCommitted() {
      return db;
    },
  };
  return { db, counted };
}

/** Everything the requests left, timestamps aside: the rows, and the events in their order. */
async function tableAndLog(db: Queryable) {
  const rows = await db.query(
    `SELECT "id", "email", "phoneNumber", "linkedId", "linkPrecedence", "deletedAt" IS NOT NULL AS "deleted"
       FROM "Contact" ORDER BY "id"`,
  );
  const events = await db.query(
    `SELECT "id", "type", "customerIds", "contactIds", "email", "phoneNumber", "detail" FROM "ContactEvent" ORDER BY "id"`,
  );
  return { rows, events };
}

/** The distinct creation times of the rows after the seeded ones: one per statement that wrote them. */
async function writeTimes(db: Queryable): Promise<number> {
  const [{ times } = { times: 0 }] = await db.query<{ times: number }>(
    `SELECT count(DISTINCT "createdAt")::int AS times FROM "Contact" WHERE "id" > 7`,
  );
  return times;
}

/**
 * A plan as the service sends it, decided on the rows `ids` and `links` (int[] literals) and
 * written into `customer` (null: a new one). By default it inserts the request's row and merges
 * nothing; a merge names its customers (`locks`) and the rows it re-links (`relink`).
 */
interface Plan {
  email: string;
  phoneNumber: string;
  ids: string;
  links: string;
  customer: number | null;
  locks?: string;
  relink?: string;
  insert?: boolean;
}

interface AnswerRow {
  request: number;
  applied: boolean;
  id: number | null;
  email: string | null;
  phoneNumber: string | null;
  linkedId: number | null;
}

/** identity_apply_plans' answer to `plans`, sent in one statement as the service sends them. */
function applyPlans(db: Queryable, plans: Plan[]): Promise<AnswerRow[]> {
  return db.query<AnswerRow>(APPLY_PLANS_SQL, [
    plans.map((plan) => plan.email),
    plans.map((plan) => plan.phoneNumber),
    plans.map((plan) => plan.ids),
    plans.map((plan) => plan.links),
    plans.map((plan) => plan.locks ?? (plan.customer === null ? '{}' : `{${plan.customer}}`)),
    plans.map((plan) => plan.customer),
    plans.map(() => false),
    plans.map((plan) => plan.relink ?? '{}'),
    plans.map((plan) => plan.insert ?? true),
    plans.map(() => null),
    plans.map(() => null),
    true,
  ]);
}

describeOnEachDatabase('identity_apply_plans writes plans that share nothing together', (scratch) => {
  beforeEach(async () => {
    await scratch().reset();
    await seedCustomers(scratch().db);
  });

  it('a merge, an extension, a new customer and a promotion arriving together leave what one at a time leaves', async () => {
    const { db, counted } = countingWrites(scratch().db);
    const together = createIdentifyService(identifyStore(db));
    const answersTogether = await Promise.all(EVERY_KIND.map((request) => together.identify(request)));
    assert.equal(counted.writes, 1, 'the four plans share one statement');
    assert.equal(await writeTimes(scratch().db), 1, 'and are written by one statement in it');
    const leftTogether = await tableAndLog(scratch().db);

    await scratch().reset();
    await seedCustomers(scratch().db);
    const oneByOne = createIdentifyService(identifyStore(scratch().db));
    const answersOneByOne = [];
    for (const request of EVERY_KIND) answersOneByOne.push(await oneByOne.identify(request));

    assert.deepEqual(answersTogether, answersOneByOne);
    assert.deepEqual(leftTogether, await tableAndLog(scratch().db));
    assert.deepEqual(
      leftTogether.events.map((event) => (event as { type: string }).type),
      ['customer.merged', 'customer.updated', 'customer.created', 'customer.relinked', 'customer.updated'],
    );
  });

  it('a plan that shares a customer with an earlier plan of its statement is checked after that plan wrote: stale, with its row', async () => {
    // Two extensions of customer 5 decided on the same read: the second must see the first's row.
    const extension = (phoneNumber: string) => ({ email: 'c@x.io', phoneNumber, ids: '{5}', links: '{0}', customer: 5 });
    const rows = await applyPlans(scratch().db, [extension('901'), extension('902')]);
    assert.deepEqual(
      rows.map(({ request, applied, id, phoneNumber }) => [request, applied, id, phoneNumber]),
      [
        [1, true, 8, '901'],
        [2, false, 5, '333'],
        [2, false, 8, '901'],
      ],
    );
  });

  it('a plan that shares an identifier with an earlier plan of its statement is checked after that plan wrote', async () => {
    // Two new customers decided on no rows, both with phone 777: the first makes it, the second is stale.
    const newCustomer = (email: string) => ({ email, phoneNumber: '777', ids: '{}', links: '{}', customer: null });
    const rows = await applyPlans(scratch().db, [newCustomer('p@x.io'), newCustomer('q@x.io')]);
    assert.deepEqual(
      rows.map(({ request, applied, id, email }) => [request, applied, id, email]),
      [
        [1, true, 8, 'p@x.io'],
        [2, false, 8, 'p@x.io'],
      ],
    );
    const [{ written } = { written: -1 }] = await scratch().db.query<{ written: number }>(
      `SELECT count(*)::int AS written FROM "Contact" WHERE "id" > 7`,
    );
    assert.equal(written, 1, 'the second wrote nothing');
  });

  it('a merge decided before another writer joined its customers is answered stale: the same rows, linked otherwise', async () => {
    // {a@x.io, 333} was decided on customers 1 and 5 apart; another writer joins them first.
    await scratch().db.query(`UPDATE "Contact" SET "linkedId" = 1, "linkPrecedence" = 'secondary' WHERE "id" = 5`);
    const merge = { email: 'a@x.io', phoneNumber: '333', ids: '{1,5}', links: '{0,0}', customer: 1, locks: '{1,5}', relink: '{5}' };
    const rows = await applyPlans(scratch().db, [{ ...merge, insert: false }]);
    assert.deepEqual(
      rows.map(({ request, applied, id, linkedId }) => [request, applied, id, linkedId]),
      [
        [1, false, 1, null],
        [1, false, 5, 1],
      ],
    );
    const [{ events } = { events: -1 }] = await scratch().db.query<{ events: number }>(
      `SELECT count(*)::int AS events FROM "ContactEvent"`,
    );
    assert.equal(events, 0);
  });
});
