/**
 * Scratch PostgreSQL databases with another default isolation level (test/support/databases.ts):
 * a new session on them starts at that level, and the schema is migrated all the same. The
 * sessions are opened here with `pg` directly, not through the service's pool, which may choose
 * its own isolation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openScratchPostgres, postgresUrl, type IsolationLevel } from '../support/databases.js';

describe(
  'scratch PostgreSQL databases with a default isolation level',
  { skip: postgresUrl === undefined && 'needs PostgreSQL (TEST_DATABASE_URL)' },
  () => {
    const levels: (IsolationLevel | undefined)[] = [undefined, 'repeatable read', 'serializable'];
    for (const level of levels) {
      it(`${level ?? 'not given'}: a new session starts at ${level ?? "the server's default"}, and the schema is there`, async () => {
        const scratch = await openScratchPostgres(postgresUrl as string, level === undefined ? {} : { defaultIsolation: level });
        const session = new pg.Client({ connectionString: scratch.url as string });
        try {
          await session.connect();
          const { rows } = await session.query<{ transaction_isolation: string }>('SHOW transaction_isolation');
          assert.equal(rows[0]?.transaction_isolation, level ?? 'read committed');
          const [contacts] = await scratch.db.query<{ count: string }>('SELECT count(*) FROM "Contact"');
          assert.equal(contacts?.count, '0');
        } finally {
          await session.end().catch(() => undefined);
          await scratch.dispose();
        }
      });
    }

    it('refuses a level PostgreSQL does not have', async () => {
      await assert.rejects(
        openScratchPostgres(postgresUrl as string, { defaultIsolation: "serializable'; DROP" as IsolationLevel }),
        /unknown isolation level/,
      );
    });
  },
);
