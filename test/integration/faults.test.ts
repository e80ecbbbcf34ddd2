/**
 * Faults a service process must survive: its PostgreSQL connections killed under contended
 * writes (pg_terminate_backend, what a failover or an operator does), a PostgreSQL that restarts,
 * a pool that stays busy. It answers 503 while the database is gone, never crashes, and recovers
 * by itself; a busy pool is told apart from a database that is down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { checkInvariants } from '../../src/db/invariants.js';
import { openScratchPostgres, postgresUrl, type ScratchDatabase } from '../support/databases.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../support/embeddedPostgres.js';
import { startService, type ServiceProcess } from '../support/serviceProcess.js';

async function post(baseUrl: string, body: object): Promise<{ status: number; code?: string }> {
  try {
    const response = await fetch(`${baseUrl}/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as { error?: { code: string } };
    return { status: response.status, ...(json.error ? { code: json.error.code } : {}) };
  } catch {
    return { status: 0, code: 'NO_ANSWER' };
  }
}

/** Inside a suite: one service process with `poolSize` connections on a scratch database of the test server. */
function useServiceOnScratch(poolSize: number): () => { scratch: ScratchDatabase; service: ServiceProcess } {
  let scratch: ScratchDatabase | undefined;
  let service: ServiceProcess | undefined;
  before(async () => {
    scratch = await openScratchPostgres(postgresUrl as string);
    // Admission may make a request wait as long as it takes: what these tests judge is the answer to a
    // lost connection, and on a slow machine 30 writers of one customer can wait longer than the
    // default 2 s in line (503 OVERLOADED, a different answer about a different thing).
    service = await startService({ DATABASE_URL: scratch.url as string, DB_POOL_SIZE: String(poolSize), OVERLOAD_MAX_WAIT_MS: '0' });
  });
  after(async () => {
    await service?.stop();
    await scratch?.dispose();
  });
  return () => {
    if (!scratch || !service) throw new Error('the service is not started yet');
    return { scratch, service };
  };
}

describe('a service process whose database connections are killed [PostgreSQL]', { skip: postgresUrl ? false : 'needs PostgreSQL' }, () => {
  const started = useServiceOnScratch(10);

  it('under hot-customer writes, answers 200 or 503 DATABASE_UNAVAILABLE, stays up, and recovers by itself', async () => {
    const { scratch, service } = started();
    const killer = new pg.Client({ connectionString: scratch.url as string });
    await killer.connect();
    const answers: { status: number; code?: string }[] = [];
    let writing = true;
    // 30 clients adding emails to one customer: most writes race, and many run in transactions.
    const writers = Array.from({ length: 30 }, async (_, writer) => {
      for (let i = 0; writing; i++) answers.push(await post(service.baseUrl, { email: `w${writer}-${i}@x.io`, phoneNumber: '5550100' }));
    });
    try {
      for (let round = 0; round < 10; round++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await killer.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
      }
    } finally {
      writing = false;
      await Promise.all(writers);
      await killer.end();
    }

    assert.equal(service.child.exitCode, null, `the process died:\n${service.output()}`);
    const unexpected = answers.filter(
      (answer) => answer.status !== 200 && !(answer.status === 503 && answer.code === 'DATABASE_UNAVAILABLE'),
    );
    assert.deepEqual(unexpected.slice(0, 5), [], `${unexpected.length} unexpected answers of ${answers.length}`);
    assert.ok(
      answers.some((answer) => answer.status === 503),
      'the kills hit requests in flight',
    );

    // Recovered: the next requests succeed without a restart (a second later the outage is over).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (let i = 0; i < 5; i++)
      assert.equal((await post(service.baseUrl, { email: `after${i}@x.io`, phoneNumber: '5550100' })).status, 200);
    assert.deepEqual(
      (await checkInvariants(scratch.db)).filter((result) => result.count > 0),
      [],
    );
    // One log line when the outage began and one when it ended, not one per failed request.
    const outageLines = service
      .output()
      .split('\n')
      .filter((line) => line.includes('database outage'));
    const failed = answers.filter((answer) => answer.status === 503).length;
    assert.ok(
      outageLines.length <= 4 && outageLines.at(-1)?.includes('outage ended'),
      `${outageLines.length} outage lines for ${failed} 503s`,
    );
  });
});

describe('a pool that stays busy [PostgreSQL]', { skip: postgresUrl ? false : 'needs PostgreSQL' }, () => {
  const started = useServiceOnScratch(1);

  it('answers 503 DATABASE_BUSY, not DATABASE_UNAVAILABLE, when every connection is held while PostgreSQL answers fine', async () => {
    const { scratch, service } = started();
    const locker = new pg.Client({ connectionString: scratch.url as string });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE "Contact" IN ACCESS EXCLUSIVE MODE');
    try {
      const stuck = post(service.baseUrl, { email: 'first@x.io' }); // holds the only connection, waiting for the table
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await post(service.baseUrl, { email: 'second@x.io' });
      assert.deepEqual(second, { status: 503, code: 'DATABASE_BUSY' });
      await locker.query('ROLLBACK');
      assert.equal((await stuck).status, 200);
    } finally {
      await locker.end();
    }
  });
});

describe('a service process whose PostgreSQL restarts (a server this test started itself)', () => {
  let server: EmbeddedPostgres;
  let scratch: ScratchDatabase;
  let service: ServiceProcess;
  before(async () => {
    server = await startEmbeddedPostgres();
    scratch = await openScratchPostgres(server.url);
    service = await startService({ DATABASE_URL: scratch.url as string, DB_POOL_SIZE: '10' });
  });
  after(async () => {
    await service?.stop();
    await scratch?.db.close().catch(() => {});
    await server?.stop();
  });

  it('answers 503 DATABASE_UNAVAILABLE while it is down, survives, and serves again once it is back', async () => {
    let writing = true;
    const answers: { status: number; code?: string }[] = [];
    const writers = Array.from({ length: 20 }, async (_, writer) => {
      for (let i = 0; writing; i++) {
        answers.push(await post(service.baseUrl, { email: `r${writer}-${i}@x.io`, phoneNumber: '5550200' }));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await server.restart(1500);
      // Back: within a few seconds every request succeeds again, with no restart of the service.
      const deadline = Date.now() + 15_000;
      while ((await post(service.baseUrl, { email: 'probe@x.io' })).status !== 200) {
        assert.ok(Date.now() < deadline, 'the service did not recover within 15 s of PostgreSQL coming back');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      writing = false;
      await Promise.all(writers);
    }
    assert.equal(service.child.exitCode, null, `the process died:\n${service.output()}`);
    const unexpected = answers.filter(
      (answer) => answer.status !== 200 && !(answer.status === 503 && answer.code === 'DATABASE_UNAVAILABLE'),
    );
    assert.deepEqual(unexpected.slice(0, 5), [], `${unexpected.length} unexpected answers of ${answers.length}`);
    assert.ok(
      answers.some((answer) => answer.code === 'DATABASE_UNAVAILABLE'),
      'requests were refused while it was down',
    );
    for (let i = 0; i < 5; i++) assert.equal((await post(service.baseUrl, { email: `back${i}@x.io`, phoneNumber: '5550200' })).status, 200);
    const ready = await fetch(`${service.baseUrl}/ready`);
    assert.equal(ready.status, 200);
  });
});
