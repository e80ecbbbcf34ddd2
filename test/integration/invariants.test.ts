/** Each invariant check finds exactly the rows that break it, and nothing in a healthy table. */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { checkInvariants, totalViolations, type InvariantName } from '../../src/db/invariants.js';
import { buildTestApp, postIdentify } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

describeOnEachDatabase('invariant checks', (scratch) => {
  beforeEach(() => scratch().reset());

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
});
