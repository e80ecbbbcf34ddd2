/**
 * `repair` on real databases: tables broken on purpose with raw SQL come out with exactly the
 * links the rules ask for and I1–I3 holding; a dry run writes nothing; only changed rows get a
 * new `updatedAt`; a table the service built is left alone; and on PostgreSQL the running
 * service's writes wait for the repair instead of deadlocking with it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, it } from 'node:test';
import { checkInvariants, type InvariantName } from '../../src/db/invariants.js';
import { identifyStore } from '../../src/db/identifyStore.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { LOCK_CONTACTS } from '../../src/db/repairQueries.js';
import { repair } from '../../src/maintenance/repair.js';
import { insertRows, links, updatedAts, type RowSpec } from '../support/brokenTables.js';
import { describeOnEachDatabase } from '../support/databases.js';

/** A bit of everything: a chain, a cycle, two primaries sharing a phone, a deleted primary. */
const BROKEN: RowSpec[] = [
  // chain 3 -> 2 -> 1
  { id: 1, email: 'a@x.io', phone: '111' },
  { id: 2, email: 'b@x.io', linkedId: 1 },
  { id: 3, phone: '333', linkedId: 2 },
  // cycle 4 -> 6 -> 5 -> 4
  { id: 4, email: 'd@x.io', linkedId: 6 },
  { id: 5, email: 'e@x.io', linkedId: 4 },
  { id: 6, email: 'f@x.io', linkedId: 5 },
  // primaries 7 and 8 share phone 777, and 8 is older; 9, 7's secondary, is older than 7
  { id: 7, email: 'g@x.io', phone: '777', at: 90 },
  { id: 8, email: 'h@x.io', phone: '777', at: 80 },
  { id: 9, email: 'i@x.io', linkedId: 7, at: 85 },
  // deleted primary 10 with live secondaries 11 and 12
  { id: 10, email: 'j@x.io', deleted: true },
  { id: 11, email: 'k@x.io', linkedId: 10 },
  { id: 12, phone: '1212', linkedId: 10 },
];

const REPAIRED = { 1: 'primary', 2: 1, 3: 1, 4: 'primary', 5: 4, 6: 4, 7: 8, 8: 'primary', 9: 8, 10: 'primary', 11: 'primary', 12: 11 };

describeOnEachDatabase('repair', (scratch) => {
  beforeEach(() => scratch().reset());

  async function brokenInvariants(): Promise<InvariantName[]> {
    return (await checkInvariants(scratch().db)).filter((result) => result.count > 0).map((result) => result.invariant);
  }

  it("flattens chains, breaks cycles, merges primaries under the oldest and regroups a deleted primary's secondaries", async () => {
    await insertRows(scratch().db, BROKEN);
    assert.deepEqual(await brokenInvariants(), ['I1', 'I2', 'I3']);

    const { plan, committed } = await repair(scratch().db);

    assert.equal(committed, true);
    assert.deepEqual(await links(scratch().db), REPAIRED);
    assert.deepEqual(await brokenInvariants(), []);
    assert.deepEqual(plan.summary, {
      rows: 11,
      components: 4,
      changed: 7,
      byReason: { demoted: 1, promoted: 2, precedence: 0, orphan: 1, chain: 2, relinked: 1 },
      normalised: { rows: 0, email: 0, phoneNumber: 0 },
      invalid: { rows: 0, email: 0, phoneNumber: 0 },
    });
  });

  it('reads and writes in batches smaller than the table with the same outcome', async () => {
    await insertRows(scratch().db, BROKEN);
    await repair(scratch().db, { batchSize: 2 });
    assert.deepEqual(await links(scratch().db), REPAIRED);
  });

  it('a dry run reports the same plan and writes nothing', async () => {
    await insertRows(scratch().db, BROKEN);
    const before = { links: await links(scratch().db), updatedAt: await updatedAts(scratch().db) };

    const dryRun = await repair(scratch().db, { dryRun: true });

    assert.equal(dryRun.committed, false);
    assert.equal(dryRun.plan.summary.changed, 7);
    assert.deepEqual({ links: await links(scratch().db), updatedAt: await updatedAts(scratch().db) }, before);
    assert.deepEqual((await repair(scratch().db)).plan, dryRun.plan);
  });

  it('gives a new updatedAt to the changed rows only', async () => {
    await insertRows(scratch().db, BROKEN);
    const before = await updatedAts(scratch().db);

    const { plan } = await repair(scratch().db);

    const after = await updatedAts(scratch().db);
    const changed = new Set(plan.changes.map((change) => change.id));
    for (const [id, updatedAt] of after) {
      if (changed.has(id)) assert.notEqual(updatedAt, before.get(id), `row ${id} changed`);
      else assert.equal(updatedAt, before.get(id), `row ${id} did not change`);
    }
  });

  it('reports redundant rows (I4) and keeps them: repair never deletes rows', async () => {
    // 3 is a customer of its own, with the email and phone of customer 1: once merged it brings nothing new.
    await insertRows(scratch().db, [
      { id: 1, email: 'a@x.io', phone: '111' },
      { id: 2, phone: '111', email: 'b@x.io', linkedId: 1 },
      { id: 3, email: 'a@x.io', phone: '111' },
    ]);

    const { invariants } = await repair(scratch().db);

    assert.deepEqual(await links(scratch().db), { 1: 'primary', 2: 1, 3: 1 });
    assert.deepEqual(invariants.find((result) => result.invariant === 'I4')?.examples, [3]);
  });

  it('leaves a table the service built untouched, merges without a new row included', async () => {
    const service = createIdentifyService(identifyStore(scratch().db));
    const orders: [email: string | null, phoneNumber: string][] = [
      ['a@x.io', '111'],
      ['b@x.io', '222'],
      ['c@x.io', '111'],
      ['a@x.io', '222'],
      [null, '333'],
      ['d@x.io', '333'],
      ['b@x.io', '333'],
    ];
    for (const [email, phoneNumber] of orders) await service.identify({ email, phoneNumber });
    const before = await updatedAts(scratch().db);

    const { plan } = await repair(scratch().db);

    assert.deepEqual(plan.changes, []);
    assert.deepEqual(await updatedAts(scratch().db), before);
  });

  it('on PostgreSQL, a service write arriving during the repair waits for it, then decides on the repaired table; lookups go on', async (t) => {
    if (scratch().db.kind !== 'postgres') return t.skip('PGlite is one session: nothing runs beside the repair');
    // 1 and 2 are two customers sharing 111: the repair makes 2 a secondary of 1.
    await insertRows(scratch().db, [
      { id: 1, email: 'a@x.io', phone: '111' },
      { id: 2, email: 'b@x.io', phone: '111' },
    ]);
    const service = createIdentifyService(identifyStore(scratch().db));

    let write: ReturnType<typeof service.identify> | undefined;
    await scratch().db.transaction(async (tx) => {
      await tx.query(LOCK_CONTACTS);
      assert.equal((await service.identify({ email: 'a@x.io', phoneNumber: null })).outcome, 'unchanged');
      write = service.identify({ email: 'b@x.io', phoneNumber: '999' });
      await untilWaitingForLock();
      // Past deadlock_timeout (1 s), so that a lock cycle, if there were one, would abort one side.
      await sleep(1_200);
      await tx.query(`UPDATE "Contact" SET "linkedId" = 1, "linkPrecedence" = 'secondary' WHERE "id" = 2`);
    });

    const { customer } = await (write as Exclude<typeof write, undefined>);
    assert.deepEqual(customer, {
      primaryContactId: 1,
      emails: ['a@x.io', 'b@x.io'],
      phoneNumbers: ['111', '999'],
      secondaryContactIds: [2, 3],
    });
    assert.deepEqual(await brokenInvariants(), []);
  });

  async function untilWaitingForLock(): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const [row] = await scratch().db.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (row?.waiting === 1) return;
      await sleep(10);
    }
    throw new Error('the service write never waited for the repair');
  }
});
