/**
 * Each invariant check finds exactly the rows that break it, and nothing in a healthy table;
 * restated for the block list: a blocked value links nothing (I2 ignores it) and is never stored
 * after its rule (I5).
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { checkInvariants, totalViolations, type InvariantName } from '../../src/db/invariants.js';
import type { BlockMatch } from '../../src/identity/blocklist.js';
import type { IdentifierField } from '../../src/identity/normalise.js';
import { createServices } from '../../src/services.js';
import { buildTestApp, postIdentify } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

describeOnEachDatabase('invariant checks', (scratch) => {
  beforeEach(async () => {
    await scratch().reset();
    // The event log too: ids restart at 1, and an earlier test's merges would join this one's rows.
    await scratch().db.query('TRUNCATE "BlockedIdentifier", "ContactEvent" RESTART IDENTITY');
  });

  /** Adds a block rule created `seconds` after 2026-01-01, as `table`'s rows are. */
  async function rule(field: IdentifierField, match: BlockMatch, value: string, seconds: number) {
    await scratch().db.query(
      `INSERT INTO "BlockedIdentifier" ("field", "match", "value", "reason", "addedBy", "createdAt")
       VALUES ($1, $2, $3, 'test', 'test', timestamptz '2026-01-01' + make_interval(secs => $4))`,
      [field, match, value, seconds],
    );
  }

  /** Inserts rows as (email, phone, linkedId, createdAt offset in seconds, deleted). */
  async function table(rows: [string | null, string | null, number | null, number, boolean?][]) {
    for (const [email, phoneNumber, linkedId, seconds, deleted] of rows) {
      await scratch().db.query(
        `INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt", "deletedAt")
         VALUES ($1, $2, $3, $4, timestamptz '2026-01-01' + make_interval(secs => $5), now(), CASE WHEN $6 THEN now() END)`,
        [email, phoneNumber, linkedId, linkedId === null ? 'primary' : 'secondary', seconds, deleted === true],
      );
    }
  }

  async function violations(): Promise<Partial<Record<InvariantName, number[]>>> {
    const found: Partial<Record<InvariantName, number[]>> = {};
    for (const result of await checkInvariants(scratch().db)) if (result.count > 0) found[result.invariant] = result.examples;
    return found;
  }

  it('a healthy table built by the service breaks nothing', async () => {
    const app = await buildTestApp(scratch().db);
    try {
      for (const body of [
        { email: 'a@x.io', phoneNumber: '111' },
        { email: 'b@x.io', phoneNumber: '222' },
        { email: 'c@x.io', phoneNumber: '111' },
        { email: 'b@x.io', phoneNumber: '111' },
        { phoneNumber: '333' },
        { email: 'a@x.io', phoneNumber: '333' },
      ])
        assert.equal((await postIdentify(app, body)).statusCode, 200);
    } finally {
      await app.close();
    }
    const results = await checkInvariants(scratch().db);
    assert.equal(totalViolations(results), 0, JSON.stringify(results));
  });

  it('I1: a chain (a secondary pointing at a secondary)', async () => {
    await table([
      ['a@x.io', '111', null, 0],
      ['b@x.io', '111', 1, 1],
      ['c@x.io', '333', 2, 2],
    ]);
    assert.deepEqual(await violations(), { I1: [3] });
  });

  it('I1: a secondary pointing at a deleted primary', async () => {
    await table([
      ['a@x.io', '111', null, 0, true],
      ['b@x.io', '222', 1, 1],
    ]);
    assert.deepEqual(await violations(), { I1: [2] });
  });

  it('I2: two customers sharing an email', async () => {
    await table([
      ['a@x.io', '111', null, 0],
      ['a@x.io', '222', null, 1],
    ]);
    assert.deepEqual(await violations(), { I2: [1, 2] });
  });

  it("I3: a primary that is not its customer's oldest row", async () => {
    await table([
      ['a@x.io', '111', null, 10],
      ['b@x.io', '111', 1, 0],
    ]);
    assert.deepEqual(await violations(), { I3: [1] });
  });

  it('I4: a secondary that brings nothing new', async () => {
    await table([
      ['a@x.io', '111', null, 0],
      ['b@x.io', '222', 1, 1],
      ['a@x.io', '222', 1, 2],
      [null, '111', 1, 3],
    ]);
    assert.deepEqual(await violations(), { I4: [3, 4] });
  });

  it('I4 reads a customer in row order (createdAt, id), not by id: an imported older row is the first', async () => {
    // Row 3 was imported with an older createdAt than row 2: in row order it brings b@x.io first.
    await table([
      ['a@x.io', '111', null, 0],
      ['b@x.io', '111', 1, 20],
      ['b@x.io', '222', 1, 10],
    ]);
    assert.deepEqual(await violations(), { I4: [2] });
  });

  it('I2 ignores a blocked email: two customers sharing it break nothing', async () => {
    await table([
      ['test@test.com', '111', null, 0],
      ['test@test.com', '222', null, 1],
    ]);
    await rule('email', 'exact', 'test@test.com', 100);
    assert.deepEqual(await violations(), {});
  });

  it('I2: the same two customers without the rule share an email', async () => {
    await table([
      ['test@test.com', '111', null, 0],
      ['test@test.com', '222', null, 1],
    ]);
    await rule('email', 'exact', 'other@test.com', 100);
    assert.deepEqual(await violations(), { I2: [1, 2] });
  });

  it('I2 ignores emails at a blocked domain', async () => {
    await table([
      ['shop@example.com', '111', null, 0],
      ['shop@example.com', '222', null, 1],
      ['shop@example.org', '333', null, 2],
      ['shop@example.org', '444', null, 3],
    ]);
    await rule('email', 'domain', 'example.com', 100);
    assert.deepEqual(await violations(), { I2: [3, 4] });
  });

  it('I2 ignores phones a pattern blocks, and a phone pattern blocks no email', async () => {
    await table([
      ['a@x.io', '0000000', null, 0],
      ['b@x.io', '0000000', null, 1],
      ['c@x.io', '+1234567890', null, 2],
      ['c@x.io', '+1234567899', null, 3],
    ]);
    await rule('phoneNumber', 'pattern', '^0+$', 100);
    await rule('phoneNumber', 'pattern', '^c@', 100);
    assert.deepEqual(await violations(), { I2: [3, 4] });
  });

  it('I2 still reports an unblocked value two customers share beside a blocked one', async () => {
    await table([
      ['test@test.com', '111', null, 0],
      ['test@test.com', '111', null, 1],
    ]);
    await rule('email', 'exact', 'test@test.com', 100);
    assert.deepEqual(await violations(), { I2: [1, 2] });
  });

  it('I4 counts a value blocked after its row was written: that row brought it while it linked', async () => {
    await table([
      ['a@x.io', '111', null, 0],
      ['test@test.com', '111', 1, 1],
    ]);
    await rule('email', 'exact', 'test@test.com', 100);
    assert.deepEqual(await violations(), {});
  });

  it('I5: a row that holds a value blocked before it was created', async () => {
    await rule('email', 'exact', 'test@test.com', 5);
    await table([
      ['test@test.com', '111', null, 0],
      ['test@test.com', '222', null, 10],
      ['test@test.com', '333', null, 20, true],
    ]);
    assert.deepEqual(await violations(), { I5: [2] });
  });

  it('I5 with a domain rule and a phone pattern, each against its own creation time', async () => {
    await rule('email', 'domain', 'example.com', 5);
    await rule('phoneNumber', 'pattern', '^0{6,}$', 15);
    await table([
      ['a@example.com', '111', null, 0],
      ['b@example.com', '222', null, 10],
      ['c@x.io', '000000', null, 11],
      ['d@x.io', '000000', null, 20],
      ['e@example.org', '1000000', null, 21],
    ]);
    assert.deepEqual(await violations(), { I5: [2, 4] });
  });

  it('I5 judges each pattern of a field by its own creation time, not the oldest', async () => {
    await rule('phoneNumber', 'pattern', '^9+$', 0);
    await rule('phoneNumber', 'pattern', '^(12)+$', 20);
    await table([
      ['a@x.io', '121212', null, 10],
      ['b@x.io', '999', null, 11],
      ['c@x.io', '1212', null, 30],
    ]);
    assert.deepEqual(await violations(), { I5: [2, 3] });
  });

  it('a table the service built, then a block that splits a customer and more requests, breaks nothing', async () => {
    const { identifyService, governance } = createServices(scratch().db);
    const orders: [string | null, string | null][] = [
      ['test@test.com', '111'],
      ['test@test.com', '222'],
      ['b@x.io', '222'],
      ['a@x.io', '111'],
    ];
    for (const [email, phoneNumber] of orders) await identifyService.identify({ email, phoneNumber });
    const { splits } = await governance!.block({ field: 'email', match: 'exact', value: 'test@test.com' }, 'placeholder', {
      addedBy: 'test',
    });
    assert.deepEqual(splits, [{ ownerId: 1, into: [1, 2] }]);
    for (const [email, phoneNumber] of [...orders, ['test@test.com', '333']] as const)
      await identifyService.identify({ email, phoneNumber });
    const results = await checkInvariants(scratch().db);
    assert.equal(totalViolations(results), 0, JSON.stringify(results));
  });

  it('a table the migrations have not reached (adopted, no block list yet) is checked as before: nothing is blocked', async () => {
    await table([
      ['test@test.com', '111', null, 0],
      ['test@test.com', '222', null, 1],
    ]);
    class RolledBack extends Error {}
    await scratch()
      .db.transaction(async (tx) => {
        await tx.query('DROP TABLE "BlockedIdentifier", "IdentityGovernance", "ContactEvent" CASCADE');
        const found = (await checkInvariants(tx)).filter((result) => result.count > 0);
        assert.deepEqual(
          found.map((result) => [result.invariant, result.examples]),
          [['I2', [1, 2]]],
        );
        throw new RolledBack();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RolledBack)) throw error;
      });
  });
});
