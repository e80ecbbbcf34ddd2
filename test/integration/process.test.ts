/** The service as a process: start-up, configuration errors, graceful shutdown. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openScratchPostgres, postgresUrl } from '../support/databases.js';
import { startService } from '../support/serviceProcess.js';

it('serves /identify on in-memory PGlite and exits 0 on SIGTERM after finishing in-flight requests', async () => {
  const service = await startService({ DATABASE_URL: 'memory://', LOG_LEVEL: 'info' });
  try {
    // A first answer, so that the requests below find warm code and open keep-alive sockets
    // rather than racing the signal to accept() on a loaded machine.
    const warm = await fetch(`${service.baseUrl}/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'warm@x.io' }),
    });
    assert.equal(warm.status, 200);
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      fetch(`${service.baseUrl}/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `p${i}@x.io`, phoneNumber: '5550000' }),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const exit = service.stop('SIGTERM');
    const statuses = await Promise.all(
      inFlight.map((request) =>
        request.then(
          (r) => r.status,
          () => 'refused',
        ),
      ),
    );
    assert.equal(await exit, 0);
    // Accepted requests complete; none is cut off with a 5xx.
    assert.ok(
      statuses.every((status) => status === 200 || status === 'refused' || status === 503),
      String(statuses),
    );
    assert.ok(statuses.includes(200));
    assert.match(service.output(), /shutting down/);
  } finally {
    await service.stop('SIGKILL');
  }
});

it("counts /identify's batched statements in /metrics: requests served and seconds, for the read and the write", async () => {
  const service = await startService({ DATABASE_URL: 'memory://', LOG_LEVEL: 'warn' });
  try {
    // Twelve new customers at once: each request one read and one plan, in as few statements as arrived together.
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${service.baseUrl}/identify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: `batch${i}@x.io` }),
        }),
      ),
    );
    assert.deepEqual(
      answers.map((answer) => answer.status),
      Array(12).fill(200),
    );
    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    const value = (series: string) => {
      const match = new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics);
      assert.ok(match, `${series} is in /metrics`);
      return Number(match[1]);
    };
    for (const statement of ['read', 'write']) {
      assert.equal(value(`identity_db_batch_requests_sum{statement="${statement}"}`), 12, `${statement}: every request counted once`);
      const statements = value(`identity_db_batch_requests_count{statement="${statement}"}`);
      assert.ok(statements >= 1 && statements <= 12, `${statement}: ${statements} statements`);
      assert.equal(value(`identity_db_batch_seconds_count{statement="${statement}"}`), statements);
      assert.ok(value(`identity_db_batch_seconds_sum{statement="${statement}"}`) > 0);
    }
  } finally {
    await service.stop('SIGKILL');
  }
});

it('stops at start-up with one clear line when the configuration is invalid', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { ...process.env, PORT: 'not-a-port', DATABASE_URL: 'memory://' },
    encoding: 'utf8',
  });
  assert.equal(result.status, 1);
  assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.match(result.stderr, /invalid configuration: PORT must be integer/);
});

it(
  'with WEB_CONCURRENCY=2 on PostgreSQL runs two HTTP workers on one port, sums their metrics, and stops them all on SIGTERM',
  { skip: postgresUrl === undefined && 'needs PostgreSQL (TEST_DATABASE_URL)' },
  async () => {
    const scratch = await openScratchPostgres(postgresUrl as string);
    const service = await startService({ DATABASE_URL: scratch.url as string, WEB_CONCURRENCY: '2', LOG_LEVEL: 'info' });
    try {
      const workers = execFileSync('pgrep', ['-P', String(service.child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n');
      assert.equal(workers.length, 2);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          fetch(`${service.baseUrl}/identify`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: `w${i}@x.io`, phoneNumber: '5551234' }),
          }).then((response) => response.json() as Promise<{ customer: { secondaryContactIds: number[] } }>),
        ),
      );
      // Both workers wrote to one customer, linearly: its sizes are exactly 1..20.
      assert.deepEqual(
        answers.map((answer) => answer.customer.secondaryContactIds.length).sort((a, b) => a - b),
        [...Array(20).keys()],
      );
      // Whichever worker answers the scrape, /metrics counts the requests of both.
      const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
      assert.match(metrics, /identity_identify_outcomes_total\{outcome="created_primary"\} 1\n/);
      assert.match(metrics, /identity_identify_outcomes_total\{outcome="created_secondary"\} 19\n/);
      assert.equal(await service.stop('SIGTERM'), 0);
      assert.match(service.output(), /shutting down: workers finish in-flight requests/);
    } finally {
      await service.stop('SIGKILL');
      await scratch.dispose();
    }
  },
);

it("refuses to start, with one line and exit 1, when set to other matching rules than the table's", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'identity-rules-'));
  try {
    const plain = await startService({ DATABASE_URL: undefined, DATA_DIR: dataDir });
    const created = await fetch(`${plain.baseUrl}/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@x.io', phoneNumber: '098765 43210' }),
    });
    assert.equal(created.status, 200);
    assert.equal(await plain.stop('SIGTERM'), 0);

    const { DATABASE_URL: _unused, ...env } = process.env;
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: { ...env, DATA_DIR: dataDir, DEFAULT_PHONE_REGION: 'IN', PORT: '0' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(
      result.stderr,
      /^refusing to start: the table's emails and phones are in the normal form of DEFAULT_PHONE_REGION=\(unset\)/,
    );
    assert.match(result.stderr, /repair --renormalize/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
