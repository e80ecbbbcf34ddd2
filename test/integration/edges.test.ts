/**
 * The edges of the HTTP API: errors that Fastify or Node answer themselves leave in the one
 * error shape and echo nothing; personal data is never cacheable; a big customer's answer is
 * compressed and paged.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';
import { after, before, it } from 'node:test';
import { postIdentify, useTestApp } from '../support/app.js';
import { describeOnEachDatabase, openScratchPglite, type ScratchDatabase } from '../support/databases.js';
import { listenOnRandomPort, type LiveApp } from '../support/liveApp.js';

/** Sends `raw` bytes on a fresh socket and returns everything the server answers before closing. */
async function rawExchange(baseUrl: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk));
  socket.write(raw);
  await Promise.race([once(socket, 'close'), new Promise((resolve) => setTimeout(resolve, 3000))]);
  socket.destroy();
  return answer;
}

function errorOf(answer: string): { status: number; code: string; message: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
  return { status, ...body.error };
}

describeOnEachDatabase('answers at the edges', (scratch) => {
  const app = useTestApp(scratch);

  it('a URL that does not decode gets 400 BAD_URL in the error shape, without the URL', async () => {
    const response = await app().inject({ method: 'GET', url: '/customers/%zz' });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { error: { code: 'BAD_URL', message: 'The URL is not valid: check its percent-encoding.' } });
  });

  it('an unknown route gets 404 without repeating the path or its query string', async () => {
    const response = await app().inject({ method: 'GET', url: '/nope?email=secret@x.io' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error.code, 'NOT_FOUND');
    assert.doesNotMatch(response.body, /secret|nope/);
  });

  it('answers carrying personal data say Cache-Control: no-store; health does not need to', async () => {
    const identify = await postIdentify(app(), { email: 'a@x.io' });
    assert.equal(identify.headers['cache-control'], 'no-store');
    const lookup = await app().inject({ method: 'GET', url: '/customers/lookup?email=a@x.io' });
    assert.equal(lookup.headers['cache-control'], 'no-store');
    const missing = await app().inject({ method: 'GET', url: '/customers/lookup?email=b@x.io' });
    assert.equal(missing.headers['cache-control'], 'no-store');
  });

  it('a customer of thousands of contacts comes compressed to a client that accepts gzip, and in pages of at most 1,000', async () => {
    await scratch().db.query(
      `INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt")
       SELECT 'big@x.io', (1000000 + k)::text, CASE WHEN k = 0 THEN NULL ELSE 1 END,
              CASE WHEN k = 0 THEN 'primary' ELSE 'secondary' END, timestamptz '2026-01-01' + k * interval '1 second'
         FROM generate_series(0, 2499) AS k`,
    );
    const first = await app().inject({ method: 'GET', url: '/customers/lookup?email=big@x.io', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['content-encoding'], 'gzip');
    const customer = JSON.parse(gunzipSync(first.rawPayload).toString()).customer;
    assert.equal(customer.secondaryContactIds.length, 2499, 'the summary stays whole');
    assert.equal(customer.contacts.length, 1000);
    assert.deepEqual(customer.page, { offset: 0, limit: 1000, total: 2500, nextOffset: 1000 });

    const last = (await app().inject({ method: 'GET', url: '/customers/1?contactsOffset=2000&contactsLimit=1000' })).json().customer;
    assert.deepEqual(last.page, { offset: 2000, limit: 1000, total: 2500, nextOffset: null });
    assert.deepEqual([last.contacts.length, last.contacts[0].id, last.links.length], [500, 2001, 500]);

    const small = await postIdentify(app(), { email: 'small@x.io' });
    assert.equal(small.headers['content-encoding'], undefined, 'small answers are not worth compressing');
  });

  it('an email with a lone UTF-16 surrogate is refused, so repeating it cannot add a row each time', async () => {
    const payload = '{"email":"ls\\ud800@ft.test"}';
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await app().inject({ method: 'POST', url: '/identify', headers: { 'content-type': 'application/json' }, payload });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error.code, 'INVALID_EMAIL');
    }
    assert.deepEqual(await scratch().db.query('SELECT 1 FROM "Contact"'), []);
  });

  it('a NUL byte in an email is 400, in /identify and in the read API, never a 500', async () => {
    const identify = await postIdentify(app(), { email: 'nul\u0000@x.io' });
    assert.equal(identify.statusCode, 400);
    assert.equal(identify.json().error.code, 'INVALID_EMAIL');
    const lookup = await app().inject({ method: 'GET', url: '/customers/lookup?email=nul%00@x.io' });
    assert.equal(lookup.statusCode, 400);
    assert.equal(lookup.json().error.code, 'INVALID_EMAIL');
  });

  it('a decomposed and a precomposed é are one customer (NFC)', async () => {
    const first = (await postIdentify(app(), { email: 'jose\u0301@x.io' })).json().customer;
    const second = (await postIdentify(app(), { email: 'jos\u00e9@x.io' })).json().customer;
    assert.equal(second.primaryContactId, first.primaryContactId);
    assert.deepEqual(second.secondaryContactIds, []);
  });

  it('a page size outside 1..1000 is 400 INVALID_PAGE', async () => {
    for (const query of ['contactsLimit=0', 'contactsLimit=1001', 'contactsLimit=ten', 'contactsOffset=-1']) {
      const response = await app().inject({ method: 'GET', url: `/customers/1?${query}` });
      assert.equal(response.statusCode, 400, query);
      assert.equal(response.json().error.code, 'INVALID_PAGE', query);
    }
  });
});

describe_raw();

/** Errors Node's HTTP parser answers itself, on a real socket. */
function describe_raw(): void {
  let scratch: ScratchDatabase;
  let live: LiveApp;
  before(async () => {
    scratch = await openScratchPglite();
    live = await listenOnRandomPort({ db: scratch.db });
  });
  after(async () => {
    await live?.app.close();
    await scratch?.dispose();
  });

  it('headers over the size limit get 431 HEADERS_TOO_LARGE in the error shape', async () => {
    const answer = await rawExchange(live.baseUrl, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.deepEqual(errorOf(answer), { status: 431, code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large.' });
  });

  it('a body longer than its Content-Length (and any other malformed request) gets 400 in the error shape, echoing nothing', async () => {
    const body = '{"email":"leak@x.io"}';
    const answer = await rawExchange(
      live.baseUrl,
      `POST /identify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n${body}`,
    );
    const statuses = [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => Number(match[1]));
    // The bytes past Content-Length are parsed as a next request, which is not HTTP: 400, socket closed.
    assert.ok(statuses.length > 0 && statuses.every((status) => status === 400), answer);
    for (const part of answer.split(/(?=HTTP\/1\.1 )/))
      assert.match(part.slice(part.indexOf('\r\n\r\n') + 4), /^\{"error":\{"code":"[A-Z_]+","message":"[^"]+"\}\}$/);
    assert.doesNotMatch(answer, /leak/);
  });
}
