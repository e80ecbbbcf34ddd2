/**
 * Isolation is the service's own choice, not the server's: on databases whose default is
 * REPEATABLE READ or SERIALIZABLE, the service's sessions and transactions still run READ
 * COMMITTED, concurrent start-ups migrate once, and the locking function refuses to run under
 * anything else rather than decide on a stale snapshot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { openScratchPostgres, postgresUrl, type IsolationLevel, type ScratchDatabase } from '../support/databases.js';

const DEFAULTS: IsolationLevel[] = ['read committed', 'repeatable read', 'serializable'];

for (const defaultIsolation of DEFAULTS) {
  describe(
    `a database whose default isolation is ${defaultIsolation} [PostgreSQL]`,
    { skip: postgresUrl ? false : 'needs PostgreSQL' },
    () => {
      let scratch: ScratchDatabase;
      before(async () => {
        scratch = await openScratchPostgres(postgresUrl as string, { defaultIsolation, migrate: false });
      });
      after(() => scratch?.dispose());

      it('a plain session there really has that default (the premise of this suite)', async () => {
        const client = new pg.Client({ connectionString: scratch.url as string });
        await client.connect();
        try {
          assert.equal((await client.query('SHOW transaction_isolation')).rows[0].transaction_isolation, defaultIsolation);
        } finally {
          await client.end();
        }
      });

      it('four processes starting at once apply each migration exactly once', async () => {
        const starters: Database[] = await Promise.all(
          Array.from({ length: 4 }, () => openDatabase({ kind: 'postgres', connectionString: scratch.url as string, poolSize: 2 })),
        );
        try {
          const results = await Promise.all(starters.map((db) => migrate(db)));
          const applied = results.flatMap((result) => result.applied);
          assert.equal(new Set(applied).size, applied.length, 'no file applied twice');
          const recorded = await scratch.db.query<{ name: string }>('SELECT name FROM identity_migrations ORDER BY name');
          assert.deepEqual(
            applied.sort(),
            recorded.map((row) => row.name),
          );
        } finally {
          await Promise.all(starters.map((db) => db.close()));
        }
      });

      it("the service's sessions use generic plans for prepared statements (a giant customer cannot make every lookup re-plan)", async () => {
        const [setting] = await scratch.db.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
        assert.equal(setting?.plan_cache_mode, 'force_generic_plan');
      });

      it("the service's statements and transactions run READ COMMITTED", async () => {
        const [statement] = await scratch.db.query<{ transaction_isolation: string }>('SHOW transaction_isolation');
        assert.equal(statement?.transaction_isolation, 'read committed');
        const [inTransaction] = await scratch.db.transaction((tx) =>
          tx.query<{ transaction_isolation: string }>('SHOW transaction_isolation'),
        );
        assert.equal(inTransaction?.transaction_isolation, 'read committed');
      });
    },
  );
}

describe('the write functions under another isolation [PostgreSQL]', { skip: postgresUrl ? false : 'needs PostgreSQL' }, () => {
  let scratch: ScratchDatabase;
  before(async () => {
    scratch = await openScratchPostgres(postgresUrl as string);
  });
  after(() => scratch?.dispose());

  const refusedUnderRepeatableRead = async (statement: string) => {
    const client = new pg.Client({ connectionString: scratch.url as string });
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await assert.rejects(
        client.query(statement),
        (error: { code?: string; message: string }) => error.code === 'IS001' && /READ COMMITTED/.test(error.message),
      );
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    assert.deepEqual(await scratch.db.query('SELECT 1 FROM "Contact"'), []);
  };

  it('identity_apply_plan refuses with SQLSTATE IS001 and writes nothing, instead of deciding on a stale snapshot', () =>
    refusedUnderRepeatableRead(
      `SELECT * FROM identity_apply_plan('a@x.io', NULL, '{}', '{}', '{}', NULL, false, '{}', true, NULL, NULL, false)`,
    ));

  it('identity_apply_plans (writes arriving together) refuses the same way', () =>
    refusedUnderRepeatableRead(
      `SELECT * FROM identity_apply_plans(ARRAY['a@x.io', 'b@x.io'], ARRAY[NULL, NULL]::text[], ARRAY['{}', '{}'], ARRAY['{}', '{}'],
                                          ARRAY['{}', '{}'], ARRAY[NULL, NULL]::int[], '{f,f}', ARRAY['{}', '{}'], '{t,t}', NULL,
                                          ARRAY[NULL, NULL]::text[], false)`,
    ));
});
