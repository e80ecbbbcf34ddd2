/** The HTTP contract: every bad input is a 4xx with the error shape and writes nothing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase, type Database } from '../../src/db/database.js';
import { assertError, buildTestApp, postIdentify, storedRows, useTestApp } from '../support/app.js';
import { describeOnEachDatabase, openScratchPglite } from '../support/databases.js';

describeOnEachDatabase('POST /identify input handling', (scratch) => {
  const testApp = useTestApp(scratch);

  const badBodies: [string, unknown, string][] = [
    ['both identifiers absent', {}, 'MISSING_IDENTIFIER'],
    ['both identifiers null', { email: null, phoneNumber: null }, 'MISSING_IDENTIFIER'],
    ['both identifiers blank', { email: '  ', phoneNumber: '' }, 'MISSING_IDENTIFIER'],
    ['a number email', { email: 42 }, 'INVALID_EMAIL'],
    ['a boolean email', { email: true }, 'INVALID_EMAIL'],
    ['an array email', { email: ['a@x.io'] }, 'INVALID_EMAIL'],
    ['an object email', { email: { a: 1 } }, 'INVALID_EMAIL'],
    ['an email without @', { email: 'nobody' }, 'INVALID_EMAIL'],
    ['an email over 254 characters', { email: `${'a'.repeat(250)}@x.io` }, 'INVALID_EMAIL'],
    ['a boolean phone', { phoneNumber: false }, 'INVALID_PHONE_NUMBER'],
    ['an array phone', { phoneNumber: ['123'] }, 'INVALID_PHONE_NUMBER'],
    ['an object phone', { phoneNumber: { n: 123 } }, 'INVALID_PHONE_NUMBER'],
    ['a non-integer number phone', { phoneNumber: 123.5 }, 'INVALID_PHONE_NUMBER'],
    ['a phone with letters', { phoneNumber: '555-CALL-NOW' }, 'INVALID_PHONE_NUMBER'],
    ['a phone with fewer than 3 digits', { phoneNumber: '12' }, 'INVALID_PHONE_NUMBER'],
    ['a phone with more than 20 digits', { phoneNumber: '1'.repeat(21) }, 'INVALID_PHONE_NUMBER'],
    ['a valid email with an invalid phone', { email: 'ok@x.io', phoneNumber: 'abc' }, 'INVALID_PHONE_NUMBER'],
    ['a JSON array body', [{ email: 'a@x.io' }], 'INVALID_BODY'],
    ['a JSON string body', 'a@x.io', 'INVALID_BODY'],
    ['a JSON number body', 42, 'INVALID_BODY'],
  ];
  for (const [name, body, code] of badBodies) {
    it(`rejects ${name} with 400 ${code} and writes nothing`, async () => {
      const response = await testApp().inject({
        method: 'POST',
        url: '/identify',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      assertError(response, 400, code);
      assert.deepEqual(await storedRows(scratch().db), []);
    });
  }

  it('rejects a JSON null body with 400', async () => {
    const response = await testApp().inject({
      method: 'POST',
      url: '/identify',
      headers: { 'content-type': 'application/json' },
      payload: 'null',
    });
    assert.equal(response.statusCode, 400);
    assert.ok((response.json() as { error: { code: string } }).error.code);
  });

  it('rejects malformed JSON with 400 INVALID_JSON', async () => {
    const response = await testApp().inject({
      method: 'POST',
      url: '/identify',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    assertError(response, 400, 'INVALID_JSON');
  });

  it('rejects an empty JSON body with 400 INVALID_JSON', async () => {
    const response = await testApp().inject({
      method: 'POST',
      url: '/identify',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    assertError(response, 400, 'INVALID_JSON');
  });

  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
    it(`rejects a ${contentType} body with 415`, async () => {
      const response = await testApp().inject({
        method: 'POST',
        url: '/identify',
        headers: { 'content-type': contentType },
        payload: 'email=a@x.io',
      });
      assertError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  }

  it('rejects a body over 16 KB with 413 and writes nothing', async () => {
    const response = await postIdentify(testApp(), { email: 'big@x.io', padding: 'x'.repeat(17 * 1024) });
    assertError(response, 413, 'PAYLOAD_TOO_LARGE');
    assert.deepEqual(await storedRows(scratch().db), []);
  });

  it('ignores unknown keys', async () => {
    const response = await postIdentify(testApp(), { email: 'a@x.io', loyaltyTier: 'gold' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json().customer.emails, ['a@x.io']);
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    assertError(await testApp().inject({ method: 'GET', url: '/nope' }), 404, 'NOT_FOUND');
    assertError(await testApp().inject({ method: 'GET', url: '/identify' }), 404, 'NOT_FOUND');
  });

  it('echoes a request id, or makes one', async () => {
    const given = await testApp().inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(given.headers['x-request-id'], 'abc-123');
    const made = await testApp().inject({ method: 'GET', url: '/health' });
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('GET /health and GET /ready answer 200 with a reachable database', async () => {
    assert.deepEqual((await testApp().inject({ method: 'GET', url: '/health' })).json(), { status: 'ok' });
    assert.deepEqual((await testApp().inject({ method: 'GET', url: '/ready' })).json(), { status: 'ready' });
  });
});

describe('RESPONSE_FORMAT=bitespeed', () => {
  it("answers in the original task's shape, key spelling included", async () => {
    const scratch = await openScratchPglite();
    const app = await buildTestApp(scratch.db, 'bitespeed');
    try {
      await postIdentify(app, { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' });
      const response = await postIdentify(app, { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' });
      assert.deepEqual(response.json(), {
        contact: {
          primaryContatctId: 1,
          emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu'],
          phoneNumbers: ['123456'],
          secondaryContactIds: [2],
        },
      });
    } finally {
      await app.close();
      await scratch.dispose();
    }
  });
});

describe('a database that goes away', () => {
  /** Wraps a real database so the test can cut its connection like a network failure would. */
  function flakyDatabase(real: Database) {
    const state = { down: false };
    const refuse = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    const db: Database = {
      kind: real.kind,
      stats: () => real.stats(),
      query: (sql, params) => (state.down ? refuse() : real.query(sql, params)),
      exec: (sql) => (state.down ? refuse() : real.exec(sql)),
      transaction: (work) => (state.down ? refuse() : real.transaction(work)),
      get readCommitted() {
        return db;
      },
      close: () => real.close(),
    };
    return { db, state };
  }

  it('gives 503 in the error shape while down, and recovers by itself when it is back', async () => {
    const scratch = await openScratchPglite();
    const { db, state } = flakyDatabase(scratch.db);
    const app = await buildTestApp(db);
    try {
      state.down = true;
      assertError(await postIdentify(app, { email: 'a@x.io' }), 503, 'DATABASE_UNAVAILABLE');
      assertError(await app.inject({ method: 'GET', url: '/ready' }), 503, 'DATABASE_UNAVAILABLE');
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      state.down = false;
      assert.equal((await postIdentify(app, { email: 'a@x.io' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    } finally {
      await app.close();
      await scratch.dispose();
    }
  });

  it('maps a real refused PostgreSQL connection to 503, never 500', async () => {
    const db = await openDatabase({ kind: 'postgres', connectionString: 'postgresql://postgres@127.0.0.1:1/none', poolSize: 1 });
    const app = await buildTestApp(db);
    try {
      assertError(await postIdentify(app, { email: 'a@x.io' }), 503, 'DATABASE_UNAVAILABLE');
      assertError(await app.inject({ method: 'GET', url: '/ready' }), 503, 'DATABASE_UNAVAILABLE');
    } finally {
      await app.close();
      await db.close();
    }
  });
});
