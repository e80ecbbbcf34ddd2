/** Logs are JSON with request ids, and carry no email or phone number at info level. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { identifyStore } from '../../src/db/identifyStore.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { buildInProcessApp } from '../support/app.js';
import { openScratchPglite } from '../support/databases.js';

it('logs every request as one JSON line with its id, status and outcome, and never an email or phone at info level', async () => {
  const lines: string[] = [];
  const scratch = await openScratchPglite();
  const app = await buildInProcessApp({
    db: scratch.db,
    identifyService: createIdentifyService(identifyStore(scratch.db)),
    responseFormat: 'customer',
    logLevel: 'info',
    logStream: { write: (line) => void lines.push(line) },
  });
  try {
    await app.inject({
      method: 'POST',
      url: '/identify',
      headers: { 'x-request-id': 'req-42' },
      payload: { email: 'Secret.Person@x.io', phoneNumber: '+1 555 0100' },
    });
    await app.inject({ method: 'POST', url: '/identify', payload: { email: 'bad-email-secret', phoneNumber: 'secret-phone' } });
    await app.inject({ method: 'POST', url: '/identify', payload: { email: 'other.secret@x.io', phoneNumber: 5550100 } });
    // The read API carries identifiers in the query string, which the log line must leave out.
    await app.inject({ method: 'GET', url: '/customers/lookup?email=Secret.Person@x.io&phoneNumber=5550100' });
  } finally {
    await app.close();
    await scratch.dispose();
  }
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const completed = entries.filter((entry) => entry.msg === 'request completed');
  assert.equal(completed.length, 4);
  assert.deepEqual(
    completed.map(({ reqId, method, route, statusCode, outcome }) => ({ reqId, method, route, statusCode, outcome })),
    [
      { reqId: 'req-42', method: 'POST', route: '/identify', statusCode: 200, outcome: 'created_primary' },
      { reqId: completed[1]?.reqId, method: 'POST', route: '/identify', statusCode: 400, outcome: undefined },
      { reqId: completed[2]?.reqId, method: 'POST', route: '/identify', statusCode: 200, outcome: 'created_primary' },
      { reqId: completed[3]?.reqId, method: 'GET', route: '/customers/lookup', statusCode: 409, outcome: undefined },
    ],
  );
  assert.ok(completed.every((entry) => typeof entry.responseTimeMs === 'number'));
  const text = lines.join('\n').toLowerCase();
  for (const secret of ['secret.person', '555 0100', '+15550100', '5550100', 'bad-email-secret', 'secret-phone', 'other.secret']) {
    assert.ok(!text.includes(secret), `logs contain ${secret}`);
  }
});
