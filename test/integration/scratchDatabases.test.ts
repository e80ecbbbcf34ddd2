/**
 * Scratch PostgreSQL databases with another default isolation level (test/support/databases.ts):
 * every session on them starts at that level, and the schema is migrated all the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openScratchPostgres, postgresUrl, type IsolationLevel } from '../support/databases.js';

describe('scratch PostgreSQL databases with a default isolation level', { skip: postgresUrl === undefined && 'needs PostgreSQL (TEST_DATABASE_URL)' }, () => {
  const levels: (IsolationLevel | undefined)[] = [undefined, 'repeatable read', 'serializable'];
  for (const level of levels) {
    it(`${level ?? 'not given'}: sessions start at ${level ?? "the server's default"}, and the schema is there`, async () => {
      const scratch = await openScratchPostgres(postgresUrl as string, level === undefined ? {} : { defaultIsolation: level });
      try {
        const [server] = await scratch.db.query<{ level: string }>("SELECT current_setting('default_transaction_isolation') AS level");
        const [session] = await scratch.db.query<{ transaction_isolation: string }>('SHOW transaction_isolation');
        const [contacts] = await scratch.db.query<{ count: string }>('SELECT count(*) FROM "Contact"');
        const expected = level ?? 'read committed';
        assert.equal(server?.level, expected);
        assert.equal(session?.transaction_isolation, expected);
        assert.equal(contacts?.count, '0');
      } finally {
        await scratch.dispose();
      }
    });
  }

  it('refuses a level PostgreSQL does not have', async () => {
    await assert.rejects(openScratchPostgres(postgresUrl as string, { defaultIsolation: "serializable'; DROP" as IsolationLevel }), /unknown isolation level/);
  });
});
