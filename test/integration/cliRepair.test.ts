/**
 * `repair` on real databases: tables broken on purpose with raw SQL come out with exactly the
 * links the rules ask for and I1–I3 holding; a dry run writes nothing; only changed rows get a
 * new `updatedAt`; a table the service built is left alone; blocked values connect nothing; and
 * on PostgreSQL the running service's writes, and a block, wait for the repair (or it for them)
 * instead of deadlocking with it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, it } from 'node:test';
import { checkInvariants, type InvariantName } from '../../src/db/invariants.js';
import { governanceStore } from '../../src/db/governanceStore.js';
import { identifyStore } from '../../src/db/identifyStore.js';
import { createGovernanceService } from '../../src/identity/governance.js';
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
  beforeEach(async () => {
    await scratch().reset();
    // Ids restart at 1: an earlier test's rules and merges would apply to this one's rows.
    await scratch().db.query('TRUNCATE "BlockedIdentifier", "ContactEvent" RESTART IDENTITY');
  });

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

  it('keeps apart customers that share only blocked values, joins those that share an unblocked one, and says so', async () => {
    await insertRows(scratch().db, [
      // 1 and 2 share a blocked email only; 3 shares it too, and a phone with 4; 5 and 6 an email at a
      // blocked domain; 7 is a legacy spelling of the blocked email.
      { id: 1, email: 'test@test.com', phone: '111' },
      { id: 2, email: 'test@test.com', phone: '222' },
      { id: 3, email: 'test@test.com', phone: '333' },
      { id: 4, email: 'b@x.io', phone: '333' },
      { id: 5, email: 'shop@example.com' },
      { id: 6, email: 'shop@example.com', phone: '666' },
      { id: 7, email: ' TEST@Test.com', phone: '777' },
    ]);
    await scratch().db.query(
      `INSERT INTO "BlockedIdentifier" ("field", "match", "value", "reason", "addedBy")
       VALUES ('email', 'exact', 'test@test.com', 'placeholder', 'test'), ('email', 'domain', 'example.com', 'reserved', 'test')`,
    );
    assert.deepEqual(await brokenInvariants(), ['I2', 'N1']);

    const { plan, blocklist } = await repair(scratch().db);

    assert.equal(blocklist.rules.length, 2);
    assert.deepEqual(await links(scratch().db), {
      1: 'primary',
      2: 'primary',
      3: 'primary',
      4: 3,
      5: 'primary',
      6: 'primary',
      7: 'primary',
    });
    assert.equal(plan.summary.components, 6);
    assert.deepEqual(await brokenInvariants(), []);
  });

  it('on PostgreSQL, a repair and a block racing for the same rows both finish (governance lock first, then the table)', async (t) => {
    if (scratch().db.kind !== 'postgres') return t.skip('PGlite is one session: nothing runs beside the repair');
    // 1 and 2 are one customer held together by a placeholder; 3 and 4, two primaries sharing an email.
    await insertRows(scratch().db, [
      { id: 1, email: 'test@test.com', phone: '111' },
      { id: 2, email: 'test@test.com', phone: '222', linkedId: 1 },
      { id: 3, email: 'a@x.io', phone: '333' },
      { id: 4, email: 'a@x.io', phone: '444' },
    ]);
    const governance = createGovernanceService(governanceStore(scratch().db));

    let block: ReturnType<typeof governance.block> | undefined;
    let repaired: ReturnType<typeof repair> | undefined;
    // The worst interleaving, made certain: the block holds the governance lock but has not yet
    // touched "Contact" (its INSERT of the rule waits at a gate) when the repair starts. A repair
    // that took the table first would now hold it while waiting for the block's lock, and the
    // block's UPDATE of the split rows would wait for the table: a deadlock, one of them aborted.
    await scratch().db.transaction(async (gate) => {
      await gate.query('LOCK TABLE "BlockedIdentifier" IN SHARE MODE');
      block = governance.block({ field: 'email', match: 'exact', value: 'test@test.com' }, 'placeholder', { addedBy: 'test' });
      await untilWaitingFor('relation');
      repaired = repair(scratch().db);
      await untilWaitingFor('advisory');
    });
    // Past deadlock_timeout (1 s): a lock cycle, if there were one, would have aborted one side by then.
    const [blocked, result] = await Promise.all([block, repaired]);

    assert.deepEqual(blocked?.splits, [{ ownerId: 1, into: [1, 2] }]);
    assert.equal(result?.committed, true);
    assert.deepEqual(await links(scratch().db), { 1: 'primary', 2: 'primary', 3: 'primary', 4: 3 });
    assert.deepEqual(await brokenInvariants(), []);
  });

  /** Until one session of this database waits for a lock of this kind (`relation`, `advisory`). */
  async function untilWaitingFor(event: string): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const [row] = await scratch().db.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = $1`,
        [event],
      );
      if (row?.waiting === 1) return;
      await sleep(10);
    }
    throw new Error(`no session ever waited for a lock on ${event}`);
  }

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
