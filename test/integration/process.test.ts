/** The service as a process: start-up, configuration errors, graceful shutdown. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { startService } from '../support/serviceProcess.js';

it('serves /identify on in-memory PGlite and exits 0 on SIGTERM after finishing in-flight requests', async () => {
  const service = await startService({ DATABASE_URL: 'memory://', LOG_LEVEL: 'info' });
  try {
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      fetch(`${service.baseUrl}/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `p${i}@x.io`, phoneNumber: '5550000' }),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const exit = service.stop('SIGTERM');
    const statuses = await Promise.all(inFlight.map((request) => request.then((r) => r.status, () => 'refused')));
    assert.equal(await exit, 0);
    // Accepted requests complete; none is cut off with a 5xx.
    assert.ok(statuses.every((status) => status === 200 || status === 'refused' || status === 503), String(statuses));
    assert.ok(statuses.includes(200));
    assert.match(service.output(), /shutting down/);
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
