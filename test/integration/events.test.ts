/**
 * The pull API (`GET /events`) and the webhook admin API through HTTP: paging, the payload
 * of every event type (checked against the OpenAPI schema), each 4xx with its code and without
 * the input in it, and the admin keys.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createServices } from '../../src/services.js';
import { assertError, buildInProcessApp, postIdentify, useTestApp } from '../support/app.js';
import { describeOnEachDatabase, openScratchPglite, type ScratchDatabase } from '../support/databases.js';
import { changeEventCheck, resetDelivery } from '../support/delivery.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const API_KEY = 'api-key-0123456789abcdef';
const invalid = changeEventCheck();

interface Page {
  events: { id: string; type: string; customerIds: number[]; contactIds: number[]; data: Record<string, unknown> }[];
  next: string | null;
  safeThrough: string;
}

describeOnEachDatabase('GET /events', (scratch) => {
  const app = useTestApp(scratch);
  beforeEach(() => resetDelivery(scratch().db));

  async function events(query = ''): Promise<Page> {
    const response = await app().inject({ method: 'GET', url: `/events${query}` });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as Page;
  }

  /** Pages until safeThrough covers every logged event (another database's transaction may hold it back a moment). */
  async function allEvents(limit = 1000): Promise<Page['events']> {
    const [{ last } = { last: '0' }] = await scratch().db.query<{ last: string }>(
      'SELECT COALESCE(max("id"), 0)::text AS "last" FROM "ContactEvent"',
    );
    for (let i = 0; i < 100 && BigInt((await events()).safeThrough) < BigInt(last); i++) await new Promise((r) => setTimeout(r, 20));
    const all: Page['events'] = [];
    let after = '0';
    for (;;) {
      const page = await events(`?after=${after}&limit=${limit}`);
      all.push(...page.events);
      if (page.next === null) return all;
      after = page.next;
    }
  }

  it('serves every event type in one shape, which the OpenAPI schema describes, with what a receiver needs and no blocked value', async () => {
    await postIdentify(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '919191' });
    await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '123456' });
    const blocked = await app().inject({
      method: 'POST',
      url: '/admin/blocked',
      payload: { field: 'phoneNumber', value: '123456', reason: 'shared' },
    });
    await app().inject({ method: 'DELETE', url: `/admin/blocked/${blocked.json().rule.id}` });
    const all = await allEvents();
    for (const event of all) assert.equal(invalid(event), null);
    const of = (type: string) => all.filter((event) => event.type === type);
    assert.deepEqual(of('customer.created')[0]?.data, { customerId: 1, contactId: 1 });
    assert.deepEqual(of('customer.updated')[0]?.data, { customerId: 1, contactId: 2, new: ['email'], email: 'mcfly@hillvalley.edu' });
    assert.deepEqual(of('customer.merged')[0]?.data, { survivorId: 1, absorbedIds: [3] });
    assert.deepEqual(of('identifier.blocked')[0]?.data, { ruleId: 1, field: 'phoneNumber', match: 'exact', reason: 'shared' });
    const split = of('customer.split')[0]?.data;
    assert.equal(split?.ownerId, 1);
    assert.equal(split?.cause, 'identifier.blocked');
    assert.deepEqual((split?.into as number[]).slice(0, 2), [1, 2], 'lorraine and mcfly no longer share anything');
    assert.equal(of('identifier.unblocked').length, 1);
    assert.equal(of('customer.merged')[1]?.data.survivorId, 1);
    assert.equal(of('customer.merged')[1]?.data.cause, 'identifier.unblocked');
    assert.doesNotMatch(JSON.stringify(of('identifier.blocked')), /123456/, 'a rule is named by id, never by value');
    assert.doesNotMatch(JSON.stringify(of('customer.merged')), /george/, "a merge's request identifiers are not sent");
    assert.match(all[0]?.id ?? '', /^[1-9][0-9]*$/);
  });

  it("sends a customer.updated's new values as the contact row holds them when sent: none once it is erased", async () => {
    await postIdentify(app(), { email: 'doc@hillvalley.edu', phoneNumber: '555' });
    await postIdentify(app(), { email: 'emmett@hillvalley.edu', phoneNumber: '555' });
    await scratch().db.query(`UPDATE "Contact" SET "email" = NULL, "phoneNumber" = NULL WHERE "id" = 2`);
    const updated = (await allEvents()).find((event) => event.type === 'customer.updated');
    assert.deepEqual(updated?.data, { customerId: 1, contactId: 2, new: ['email'] });
  });

  it('pages by id: next is the last id of a full page, null once caught up; after skips what was read', async () => {
    for (let n = 1; n <= 5; n++) await postIdentify(app(), { email: `c${n}@x.io` });
    await allEvents();
    const first = await events('?limit=2');
    assert.deepEqual(
      first.events.map((event) => event.id),
      ['1', '2'],
    );
    assert.equal(first.next, '2');
    assert.equal(first.safeThrough, '5');
    const second = await events(`?after=${first.next}&limit=2`);
    assert.deepEqual(
      second.events.map((event) => event.id),
      ['3', '4'],
    );
    const last = await events('?after=4&limit=2');
    assert.deepEqual(
      last.events.map((event) => event.id),
      ['5'],
    );
    assert.equal(last.next, null);
    const exact = await events('?after=3&limit=2');
    assert.equal(exact.next, null, 'a full page that reaches safeThrough is caught up');
    assert.deepEqual((await events('?after=5')).events, []);
    assert.deepEqual((await events('?after=9223372036854775807')).events, []);
    assert.equal((await events()).events.length, 5, 'limit defaults to 100');
  });

  it('answers 400 INVALID_PAGE to an after or limit out of range, never repeating it', async () => {
    for (const query of [
      '?limit=0',
      '?limit=1001',
      '?limit=x',
      '?after=-1',
      '?after=abc',
      '?after=9223372036854775808',
      '?after=12345678901234567890',
    ]) {
      const response = await app().inject({ method: 'GET', url: `/events${query}` });
      assertError(response, 400, 'INVALID_PAGE');
      assert.ok(!response.body.includes(query.split('=')[1] as string) || query.endsWith('=0'), `${query} echoed: ${response.body}`);
    }
  });
});

describeOnEachDatabase('the webhook admin API', (scratch) => {
  const app = useTestApp(scratch);
  beforeEach(() => resetDelivery(scratch().db));
  const add = (url: unknown) => app().inject({ method: 'POST', url: '/admin/webhooks', payload: { url } });

  it('adds an endpoint with a secret shown once, lists it without the secret, and removes it', async () => {
    const added = await add('https://crm.example.com/hooks/identity');
    assert.equal(added.statusCode, 201, added.body);
    const { webhook, secret } = added.json();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
    assert.deepEqual(
      { ...webhook, createdAt: typeof webhook.createdAt },
      {
        id: 1,
        url: 'https://crm.example.com/hooks/identity',
        source: 'admin',
        createdAt: 'string',
        cursor: '0',
        retrying: null,
        failingSince: null,
        deadLetters: 0,
      },
    );
    const listed = await app().inject({ method: 'GET', url: '/admin/webhooks' });
    assert.equal(listed.json().webhooks.length, 1);
    assert.doesNotMatch(listed.body, /whsec_/);
    const removed = await app().inject({ method: 'DELETE', url: '/admin/webhooks/1' });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.deepEqual((await app().inject({ method: 'GET', url: '/admin/webhooks' })).json().webhooks, []);
  });

  it('refuses a URL that is not absolute http(s), holds credentials or is too long with 400 INVALID_WEBHOOK, never repeating it', async () => {
    for (const url of [
      'ftp://files.example.com/x',
      'not a url',
      'https://user:pw@example.com/x',
      `https://example.com/${'a'.repeat(2000)}`,
      42,
      '',
    ]) {
      const response = await add(url);
      assertError(response, 400, 'INVALID_WEBHOOK');
      if (typeof url === 'string' && url.length > 3) assert.ok(!response.body.includes(url), `echoed: ${response.body}`);
    }
    assertError(
      await app().inject({ method: 'POST', url: '/admin/webhooks', payload: { url: 'https://a.example.com', extra: 1 } }),
      400,
      'INVALID_WEBHOOK',
    );
  });

  it('answers 409 WEBHOOK_EXISTS to a URL that has an endpoint, and 409 CONFIGURED_WEBHOOK to removing one of WEBHOOK_URLS', async () => {
    assert.equal((await add('https://a.example.com/hook')).statusCode, 201);
    assertError(await add('https://a.example.com/hook'), 409, 'WEBHOOK_EXISTS');
    await scratch().db.query(
      `INSERT INTO "WebhookEndpoint" ("url", "secret", "source", "cursor") VALUES ('https://b.example.com', 'configured-secret-0123', 'config', 0)`,
    );
    const [{ id }] = (await app().inject({ method: 'GET', url: '/admin/webhooks' }))
      .json()
      .webhooks.filter((w: { source: string }) => w.source === 'config');
    assertError(await app().inject({ method: 'DELETE', url: `/admin/webhooks/${id}` }), 409, 'CONFIGURED_WEBHOOK');
  });

  it('answers 404 to an unknown endpoint or dead letter, and 400 to ids that are not ids', async () => {
    assertError(await app().inject({ method: 'DELETE', url: '/admin/webhooks/7' }), 404, 'NOT_FOUND');
    assertError(await app().inject({ method: 'GET', url: '/admin/webhooks/7/dead-letters' }), 404, 'NOT_FOUND');
    assert.equal((await add('https://a.example.com/hook')).statusCode, 201);
    assertError(await app().inject({ method: 'POST', url: '/admin/webhooks/1/dead-letters/5/redeliver' }), 404, 'NOT_FOUND');
    assertError(await app().inject({ method: 'DELETE', url: '/admin/webhooks/0' }), 400, 'INVALID_WEBHOOK_ID');
    assertError(await app().inject({ method: 'DELETE', url: '/admin/webhooks/abc' }), 400, 'INVALID_WEBHOOK_ID');
    assertError(await app().inject({ method: 'GET', url: '/admin/webhooks/x/dead-letters' }), 400, 'INVALID_WEBHOOK_ID');
    assertError(await app().inject({ method: 'GET', url: '/admin/webhooks/1/dead-letters?limit=0' }), 400, 'INVALID_PAGE');
    assertError(await app().inject({ method: 'POST', url: '/admin/webhooks/1/dead-letters/x/redeliver' }), 400, 'INVALID_EVENT_ID');
    assertError(
      await app().inject({ method: 'POST', url: '/admin/webhooks/1/dead-letters/9223372036854775808/redeliver' }),
      400,
      'INVALID_EVENT_ID',
    );
  });
});

describe('the change-event routes need an admin key', () => {
  let scratch: ScratchDatabase;
  before(async () => {
    scratch = await openScratchPglite();
  });
  after(() => scratch.dispose());

  const ROUTES: [string, string][] = [
    ['GET', '/events'],
    ['GET', '/admin/webhooks'],
    ['POST', '/admin/webhooks'],
    ['DELETE', '/admin/webhooks/1'],
    ['GET', '/admin/webhooks/1/dead-letters'],
    ['POST', '/admin/webhooks/1/dead-letters/1/redeliver'],
  ];
  const appWith = (http: object): Promise<FastifyInstance> =>
    buildInProcessApp({ db: scratch.db, ...createServices(scratch.db), responseFormat: 'customer', logLevel: 'silent', http });
  const call = (app: FastifyInstance, [method, url]: [string, string], headers: Record<string, string> = {}) =>
    app.inject({ method: method as 'GET', url, headers, ...(method === 'POST' ? { payload: { url: 'https://a.example.com' } } : {}) });

  it('answers 401 UNAUTHORIZED without an admin key, or with an API key, and serves with one', async () => {
    const app = await appWith({ adminApiKeys: [ADMIN_KEY], apiKeys: [API_KEY] });
    try {
      for (const route of ROUTES) {
        assertError(await call(app, route), 401, 'UNAUTHORIZED');
        assertError(await call(app, route, { authorization: `Bearer ${API_KEY}` }), 401, 'UNAUTHORIZED');
      }
      const served = await call(app, ROUTES[0] as [string, string], { authorization: `Bearer ${ADMIN_KEY}` });
      assert.equal(served.statusCode, 200, served.body);
      assert.equal(served.headers['cache-control'], 'no-store');
      assert.equal((await call(app, ROUTES[1] as [string, string], { 'x-api-key': ADMIN_KEY })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('answers 403 ADMIN_DISABLED without ADMIN_API_KEYS unless ADMIN_API_OPEN', async () => {
    const app = await appWith({});
    try {
      for (const route of ROUTES) assertError(await call(app, route), 403, 'ADMIN_DISABLED');
    } finally {
      await app.close();
    }
  });
});
