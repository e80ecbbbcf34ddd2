/**
 * The PgBouncer helper (test/support/pgbouncer.ts) against the test PostgreSQL: any database name
 * reaches the upstream server, transactions work, and in transaction pooling mode a session's
 * `SET` stays on the server connection rather than with the client.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { postgresUrl, withAdmin } from '../support/databases.js';
import { pgbouncerAvailable, pgbouncerSkipReason, pgbouncerVersion, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';

const skip = postgresUrl === undefined ? 'needs PostgreSQL (TEST_DATABASE_URL)' : pgbouncerSkipReason();
const version = pgbouncerAvailable() ? pgbouncerVersion() : 'PgBouncer missing';

describe('PgBouncer in transaction pooling mode', { skip }, () => {
  const database = `identity_test_${randomBytes(6).toString('hex')}`;
  let bouncer: PgBouncer | undefined;
  const clients: pg.Client[] = [];

  async function client(): Promise<pg.Client> {
    const opened = new pg.Client({ connectionString: bouncer?.urlFor(database) });
    await opened.connect();
    clients.push(opened);
    return opened;
  }

  before(async () => {
    await withAdmin(postgresUrl as string, (admin) => admin.query(`CREATE DATABASE ${database}`));
    // One server connection, so that which client gets it next is known.
    bouncer = await startPgBouncer({ upstreamUrl: postgresUrl as string, poolMode: 'transaction', poolSize: 1 });
  });

  after(async () => {
    await Promise.all(clients.map((opened) => opened.end().catch(() => undefined)));
    await bouncer?.stop();
    await withAdmin(postgresUrl as string, (admin) => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  it(`passes the database asked for through to the upstream server (${version})`, async () => {
    const viaBouncer = await client();
    const { rows } = await viaBouncer.query<{ database: string; port: number }>(
      'SELECT current_database() AS database, inet_server_port() AS port',
    );
    assert.equal(rows[0]?.database, database);
    assert.equal(rows[0]?.port, Number(new URL(postgresUrl as string).port || 5432));
    assert.notEqual(bouncer?.port, rows[0]?.port);
  });

  it('runs a transaction on one server connection, and its work commits as one', async () => {
    const a = await client();
    await a.query('CREATE TABLE IF NOT EXISTS bounced (n int)');
    await a.query('BEGIN');
    const first = await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await a.query("SET LOCAL statement_timeout = '4321ms'");
    await a.query('INSERT INTO bounced VALUES (1), (2)');
    const setting = await a.query<{ statement_timeout: string }>('SHOW statement_timeout');
    const second = await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await a.query('COMMIT');
    assert.equal(setting.rows[0]?.statement_timeout, '4321ms');
    assert.equal(second.rows[0]?.pid, first.rows[0]?.pid);

    const b = await client();
    const { rows } = await b.query<{ count: string }>('SELECT count(*) FROM bounced');
    assert.equal(rows[0]?.count, '2');
    const later = await b.query<{ statement_timeout: string }>('SHOW statement_timeout');
    assert.notEqual(later.rows[0]?.statement_timeout, '4321ms', 'SET LOCAL ended with its transaction');
  });

  it('keeps a session SET on the server connection, where another client sees it, not with the client', async () => {
    const a = await client();
    const b = await client();
    await a.query("SET identity_test.marker = 'set by a'");
    const seen = await b.query<{ marker: string | null }>("SELECT current_setting('identity_test.marker', true) AS marker");
    assert.equal(seen.rows[0]?.marker, 'set by a');
    await b.query('RESET identity_test.marker');
    const own = await a.query<{ marker: string | null }>("SELECT current_setting('identity_test.marker', true) AS marker");
    assert.notEqual(own.rows[0]?.marker, 'set by a', "a's own SET is gone once b reset the shared server connection");
  });
});
