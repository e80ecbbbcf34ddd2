/**
 * Identity governance through HTTP, one named case per rule: blocked identifiers (422, ignored,
 * never stored), splitting on block, merging on unblock, kinds of rules, the admin API's access
 * rules, the customer-size cap's quarantine, the suspects report, and the events each change logs.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createServices, DEFAULT_GOVERNANCE } from '../../src/services.js';
import { assertError, buildInProcessApp, postIdentify, storedRows, useAdminAccessApps, useTestApp } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const API_KEY = 'api-key-0123456789abcdef';

function block(app: FastifyInstance, rule: object, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/admin/blocked', headers, payload: { reason: 'test', ...rule } });
}

async function ruleId(app: FastifyInstance, value: string): Promise<number> {
  const { rules } = (await app.inject({ method: 'GET', url: '/admin/blocked' })).json() as { rules: { id: number; value: string }[] };
  const rule = rules.find((r) => r.value === value);
  assert.ok(rule, `a rule for ${value}`);
  return rule.id;
}

async function customerOf(app: FastifyInstance, id: number) {
  const response = await app.inject({ method: 'GET', url: `/customers/${id}` });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().customer as { primaryContactId: number; secondaryContactIds: number[] };
}

async function eventTypes(db: { query<T>(sql: string): Promise<T[]> }): Promise<string[]> {
  return (await db.query<{ type: string }>('SELECT "type" FROM "ContactEvent" ORDER BY "id"')).map((event) => event.type);
}

describeOnEachDatabase('blocked identifiers', (scratch) => {
  const app = useTestApp(scratch);

  it('answers 422 BLOCKED_IDENTIFIER naming the field, not the value, when the only identifier is blocked; writes nothing', async () => {
    assert.equal((await block(app(), { field: 'email', value: 'test@test.com' })).statusCode, 201);
    const response = await postIdentify(app(), { email: 'Test@Test.com' });
    assertError(response, 422, 'BLOCKED_IDENTIFIER');
    assert.match(response.json().error.message, /email is blocked/);
    assert.doesNotMatch(response.body, /test@test\.com/i);
    assert.deepEqual(await storedRows(scratch().db), []);
  });

  it('names both fields when both are blocked', async () => {
    await block(app(), { field: 'email', value: 'test@test.com' });
    await block(app(), { field: 'phoneNumber', value: '0000000000' });
    const response = await postIdentify(app(), { email: 'test@test.com', phoneNumber: '0000000000' });
    assertError(response, 422, 'BLOCKED_IDENTIFIER');
    assert.match(response.json().error.message, /email and phoneNumber are blocked/);
  });

  it('goes on with the usable identifier, says which was ignored, and never stores the blocked one', async () => {
    await block(app(), { field: 'phoneNumber', value: '0000000000' });
    const response = await postIdentify(app(), { email: 'doc@hillvalley.edu', phoneNumber: '000-000-0000' });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), {
      customer: { id: 1, primaryContactId: 1, emails: ['doc@hillvalley.edu'], phoneNumbers: [], secondaryContactIds: [] },
      ignored: ['phoneNumber'],
    });
    assert.deepEqual(
      (await storedRows(scratch().db)).map((row) => row.phoneNumber),
      [null],
    );
  });

  it('says nothing about ignored fields when none was (the answer stays the seed answer)', async () => {
    const response = await postIdentify(app(), { email: 'doc@hillvalley.edu' });
    assert.equal('ignored' in response.json(), false);
  });

  it('a blocked value matches nothing: a checkout with it and a known phone does not reach the customer holding it', async () => {
    await postIdentify(app(), { email: 'test@test.com', phoneNumber: '111' });
    await block(app(), { field: 'email', value: 'test@test.com' });
    const response = await postIdentify(app(), { email: 'test@test.com', phoneNumber: '222' });
    assert.equal(response.json().customer.primaryContactId, 2, 'a new customer, not #1');
    assert.deepEqual(response.json().ignored, ['email']);
  });

  it('blocks every email of a domain', async () => {
    await block(app(), { field: 'email', match: 'domain', value: 'Example.com' });
    assertError(await postIdentify(app(), { email: 'someone@example.com' }), 422, 'BLOCKED_IDENTIFIER');
    assert.equal((await postIdentify(app(), { email: 'someone@example.community' })).statusCode, 200);
  });

  it('blocks by pattern, and refuses a pattern outside the supported syntax without echoing it', async () => {
    assert.equal((await block(app(), { field: 'phoneNumber', match: 'pattern', value: '^9{6,}$' })).statusCode, 201);
    assertError(await postIdentify(app(), { phoneNumber: '9999999' }), 422, 'BLOCKED_IDENTIFIER');
    assert.equal((await postIdentify(app(), { phoneNumber: '99999' })).statusCode, 200);
    const refused = await block(app(), { field: 'email', match: 'pattern', value: '(?<=a)b' });
    assertError(refused, 400, 'INVALID_RULE');
    assert.doesNotMatch(refused.body, /\(\?<=a\)b/);
  });

  it('blocking the same value twice changes nothing the second time (200, created false)', async () => {
    assert.equal((await block(app(), { field: 'email', value: 'test@test.com' })).statusCode, 201);
    const again = await block(app(), { field: 'email', value: 'TEST@test.com' });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().created, false);
  });

  it('refuses a rule without a reason, or with an invalid exact value, as INVALID_RULE', async () => {
    assertError(
      await app().inject({ method: 'POST', url: '/admin/blocked', payload: { field: 'email', value: 'a@b.c' } }),
      400,
      'INVALID_RULE',
    );
    assertError(await block(app(), { field: 'email', value: 'not an email' }), 400, 'INVALID_RULE');
    assertError(await block(app(), { field: 'phoneNumber', match: 'domain', value: 'example.com' }), 400, 'INVALID_RULE');
  });

  it('the read API treats a blocked identifier as absent too', async () => {
    await postIdentify(app(), { email: 'test@test.com' });
    await block(app(), { field: 'email', value: 'test@test.com' });
    assertError(await app().inject({ method: 'GET', url: '/customers/lookup?email=test@test.com' }), 422, 'BLOCKED_IDENTIFIER');
  });
});

describeOnEachDatabase('blocking a stored value splits what it held together; unblocking joins it again', (scratch) => {
  const app = useTestApp(scratch);

  it('splits a customer held together only by the blocked value, each piece under its oldest row', async () => {
    await postIdentify(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '777' });
    const response = await block(app(), { field: 'phoneNumber', value: '123456' });
    assert.equal(response.statusCode, 201, response.body);
    assert.deepEqual(response.json().splits, [{ ownerId: 1, into: [1, 2] }]);
    assert.deepEqual((await customerOf(app(), 1)).secondaryContactIds, []);
    assert.equal((await customerOf(app(), 3)).primaryContactId, 2);
    assert.deepEqual(
      (await storedRows(scratch().db)).map(({ id, linkedId, linkPrecedence }) => [id, linkedId, linkPrecedence]),
      [
        [1, null, 'primary'],
        [2, null, 'primary'],
        [3, 2, 'secondary'],
      ],
    );
    // Rows keep their values: it is their history.
    assert.deepEqual(
      (await storedRows(scratch().db)).map((row) => row.phoneNumber),
      ['123456', '123456', '777'],
    );
  });

  it("a piece split off keeps its rows' own history, the split included, and the log accounts for all of it", async () => {
    await postIdentify(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' });
    await block(app(), { field: 'phoneNumber', value: '123456' });
    const { history } = (await app().inject({ method: 'GET', url: '/customers/2/history' })).json() as {
      history: { recorded: unknown; events: { type: string; contactIds: number[] }[] };
    };
    assert.equal(history.recorded, true);
    assert.deepEqual(
      history.events.map((event) => [event.type, event.contactIds]),
      [
        ['customer.updated', [2]],
        ['identifier.blocked', []],
        ['customer.split', []],
      ],
    );
  });

  it('keeps a merge that the blocked value did not make, and undoes one it did', async () => {
    await postIdentify(app(), { email: 'a@x.io' }); // 1
    await postIdentify(app(), { phoneNumber: '111' }); // 2
    await postIdentify(app(), { email: 'a@x.io', phoneNumber: '111' }); // merges 2 into 1, no row
    await postIdentify(app(), { email: 'a@x.io', phoneNumber: '555' }); // 3
    assert.deepEqual((await block(app(), { field: 'phoneNumber', value: '555' })).json().splits, []);
    assert.deepEqual((await customerOf(app(), 2)).primaryContactId, 1, 'the merge made by a@x.io/111 holds');
    assert.deepEqual((await block(app(), { field: 'phoneNumber', value: '111' })).json().splits, [{ ownerId: 1, into: [1, 2] }]);
    assert.equal((await customerOf(app(), 2)).primaryContactId, 2);
  });

  it('unblocking joins the customers that share the value again, in one operation, under the oldest row', async () => {
    await postIdentify(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' });
    await block(app(), { field: 'phoneNumber', value: '123456' });
    const id = await ruleId(app(), '123456');
    const response = await app().inject({ method: 'DELETE', url: `/admin/blocked/${id}` });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json().merges, [{ survivorId: 1, absorbedOwnerIds: [2] }]);
    assert.deepEqual((await customerOf(app(), 2)).secondaryContactIds, [2]);
    assertError(await app().inject({ method: 'DELETE', url: `/admin/blocked/${id}` }), 404, 'NOT_FOUND');
  });

  it('logs each change in the event log, in the same transaction, values of rules never', async () => {
    await postIdentify(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '717171' });
    await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '123456' });
    await block(app(), { field: 'phoneNumber', value: '123456' });
    await app().inject({ method: 'DELETE', url: `/admin/blocked/${await ruleId(app(), '123456')}` });
    assert.deepEqual(await eventTypes(scratch().db), [
      'customer.created',
      'customer.updated',
      'customer.created',
      'customer.merged',
      'identifier.blocked',
      'customer.split',
      'identifier.unblocked',
      'customer.merged',
    ]);
    const [blocked] = await scratch().db.query<{ detail: object; email: string | null; phoneNumber: string | null }>(
      `SELECT "detail", "email", "phoneNumber" FROM "ContactEvent" WHERE "type" = 'identifier.blocked'`,
    );
    assert.doesNotMatch(JSON.stringify(blocked), /123456/);
  });
});

describeOnEachDatabase('the admin API', (scratch) => {
  const apps = useAdminAccessApps(scratch, { apiKeys: [API_KEY], adminApiKeys: [ADMIN_KEY] });

  it('refuses to run without ADMIN_API_KEYS unless opened explicitly (403 ADMIN_DISABLED)', async () => {
    assertError(await apps.closed().inject({ method: 'GET', url: '/admin/blocked' }), 403, 'ADMIN_DISABLED');
  });

  it('needs an admin key: none is 401, an API key is 401, an admin key works and is recorded as who added the rule', async () => {
    const app = apps.keyed();
    assertError(await block(app, { field: 'email', value: 'test@test.com' }), 401, 'UNAUTHORIZED');
    assertError(await block(app, { field: 'email', value: 'test@test.com' }, { authorization: `Bearer ${API_KEY}` }), 401, 'UNAUTHORIZED');
    const created = await block(app, { field: 'email', value: 'test@test.com' }, { authorization: `Bearer ${ADMIN_KEY}` });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().rule.addedBy, 'admin:key1');
    assert.equal(created.headers['cache-control'], 'no-store');
  });

  it('the admin key does not open the API', async () => {
    const response = await postIdentify(apps.keyed(), { email: 'a@x.io' });
    assertError(response, 401, 'UNAUTHORIZED');
  });
});

describeOnEachDatabase('the customer-size cap', (scratch) => {
  let app: FastifyInstance | undefined;
  before(async () => {
    const services = createServices(scratch().db, { ...DEFAULT_GOVERNANCE, maxCustomerContacts: 3 });
    app = await buildInProcessApp({
      db: scratch().db,
      ...services,
      responseFormat: 'customer',
      logLevel: 'silent',
      http: { adminApiOpen: true },
    });
  });
  after(() => app?.close());
  beforeEach(() => scratch().reset());
  const current = () => app as FastifyInstance;

  it('quarantines the identifier that would take a customer past the cap, goes on without it, and splits what it held', async () => {
    for (const phone of ['111', '222', '333']) await postIdentify(current(), { email: 'test@test.com', phoneNumber: phone });
    const response = await postIdentify(current(), { email: 'test@test.com', phoneNumber: '444' });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), {
      customer: { id: 4, primaryContactId: 4, emails: [], phoneNumbers: ['444'], secondaryContactIds: [] },
      ignored: ['email'],
    });
    const { rules } = (await current().inject({ method: 'GET', url: '/admin/blocked' })).json();
    assert.deepEqual(
      rules.map((rule: Record<string, unknown>) => [rule.field, rule.match, rule.value, rule.reason, rule.addedBy]),
      [['email', 'exact', 'test@test.com', 'over-merge', 'size-cap']],
    );
    for (const id of [1, 2, 3]) assert.equal((await customerOf(current(), id)).primaryContactId, id, 'each row its own customer again');
    const events = await scratch().db.query<{ type: string }>(`SELECT "type" FROM "ContactEvent" WHERE "type" LIKE 'identifier.%'`);
    assert.deepEqual(
      events.map((event) => event.type),
      ['identifier.quarantined'],
    );
  });

  it('a quarantine is reversible: unblocking joins the customers again (the cap binds checkouts, not the operator)', async () => {
    for (const phone of ['111', '222', '333', '444']) await postIdentify(current(), { email: 'test@test.com', phoneNumber: phone });
    const { rules } = (await current().inject({ method: 'GET', url: '/admin/blocked' })).json();
    const response = await current().inject({ method: 'DELETE', url: `/admin/blocked/${rules[0].id}` });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual((await customerOf(current(), 3)).secondaryContactIds, [2, 3]);
  });

  it('a merge that would pass the cap quarantines the identifier of the larger customer', async () => {
    for (const phone of ['111', '222']) await postIdentify(current(), { email: 'big@x.io', phoneNumber: phone }); // customer 1: 2 rows
    await postIdentify(current(), { email: 'small@x.io', phoneNumber: '999' }); // customer 3
    await postIdentify(current(), { email: 'small@x.io', phoneNumber: '998' }); // customer 3: 2 rows
    const response = await postIdentify(current(), { email: 'small@x.io', phoneNumber: '111' });
    assert.deepEqual(response.json().ignored, ['phoneNumber'], "111's customer is as big: the phone goes on a tie");
    assert.equal(response.json().customer.primaryContactId, 3);
  });
});

describeOnEachDatabase('suspects and the preset', (scratch) => {
  const app = useTestApp(scratch);

  it('ranks the identifiers held by the most contacts, with their customers', async () => {
    for (const email of ['a@x.io', 'b@x.io', 'c@x.io']) await postIdentify(app(), { email, phoneNumber: '0000000000' });
    const response = await app().inject({ method: 'GET', url: '/admin/suspects?limit=1' });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json().suspects, [
      { field: 'email', value: 'a@x.io', contacts: 1, customers: 1, largestCustomer: 3, blocked: false },
      { field: 'phoneNumber', value: '0000000000', contacts: 3, customers: 1, largestCustomer: 3, blocked: false },
    ]);
    assertError(await app().inject({ method: 'GET', url: '/admin/suspects?limit=0' }), 400, 'INVALID_LIMIT');
  });

  it('the recommended preset blocks placeholder emails, reserved domains and repeated-digit phones; adding it twice adds nothing', async () => {
    const first = await app().inject({ method: 'POST', url: '/admin/blocked/presets/recommended' });
    assert.equal(first.statusCode, 200, first.body);
    assert.ok(first.json().added > 10);
    assert.equal((await app().inject({ method: 'POST', url: '/admin/blocked/presets/recommended' })).json().added, 0);
    assertError(await postIdentify(app(), { email: 'test@test.com' }), 422, 'BLOCKED_IDENTIFIER');
    assertError(await postIdentify(app(), { email: 'anyone@shop.example' }), 422, 'BLOCKED_IDENTIFIER');
    assertError(await postIdentify(app(), { phoneNumber: '0000000000' }), 422, 'BLOCKED_IDENTIFIER');
    assertError(await postIdentify(app(), { phoneNumber: '1234567890' }), 422, 'BLOCKED_IDENTIFIER');
    assert.equal((await postIdentify(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' })).statusCode, 200);
  });
});

describeOnEachDatabase('a block list changed by another process', (scratch) => {
  beforeEach(() => scratch().reset());

  it('is noticed by the next lookup, which then treats the value as blocked (no stale answer)', async () => {
    const here = createServices(scratch().db);
    const elsewhere = createServices(scratch().db);
    await here.identifyService.identify({ email: 'test@test.com', phoneNumber: '111' });
    await elsewhere.governance?.block({ field: 'email', match: 'exact', value: 'test@test.com' }, 'test', { addedBy: 'test' });
    // `here` still holds the old list: the lookup's own statement says the list moved on.
    const answer = await here.identifyService.identify({ email: 'test@test.com', phoneNumber: '111' });
    assert.deepEqual(answer.ignored, ['email']);
  });

  it('is noticed by the next lookup carrying a value it unblocked, which then links through it', async () => {
    const here = createServices(scratch().db);
    const elsewhere = createServices(scratch().db);
    await here.identifyService.identify({ email: 'a@x.io', phoneNumber: '0000000000' });
    await here.identifyService.identify({ email: 'c@x.io', phoneNumber: '333333' });
    const rule = await here.governance?.block({ field: 'phoneNumber', match: 'exact', value: '0000000000' }, 'test', { addedBy: 'test' });
    await elsewhere.governance?.unblock(rule?.rule.id as number, { addedBy: 'test' });
    // `here` drops the phone, so it reads only c@x.io's rows, which no change concerned: the read
    // asks for the version itself, which says the list moved on.
    const answer = await here.identifyService.identify({ email: 'c@x.io', phoneNumber: '0000000000' });
    assert.deepEqual(answer.ignored, []);
    assert.equal(answer.outcome, 'merged');
    assert.deepEqual(answer.customer.emails, ['a@x.io', 'c@x.io']);
  });

  it('is noticed by the next request whose every identifier it unblocked, which is answered instead of refused', async () => {
    const here = createServices(scratch().db);
    const elsewhere = createServices(scratch().db);
    await here.identifyService.identify({ email: 'a@x.io', phoneNumber: '0000000000' });
    const rule = await here.governance?.block({ field: 'phoneNumber', match: 'exact', value: '0000000000' }, 'test', { addedBy: 'test' });
    await elsewhere.governance?.unblock(rule?.rule.id as number, { addedBy: 'test' });
    // `here` still holds the rule, and a refusal reads no rows that could say otherwise.
    const answer = await here.identifyService.identify({ email: null, phoneNumber: '0000000000' });
    assert.deepEqual(answer.ignored, []);
    assert.equal(answer.customer.primaryContactId, 1);
  });

  it('is noticed by the next lookup the separation it removed would have narrowed, which then joins the two', async () => {
    const here = createServices(scratch().db);
    const elsewhere = createServices(scratch().db);
    await here.identifyService.identify({ email: 'a@x.io', phoneNumber: '111111' });
    await here.identifyService.identify({ email: 'b@x.io', phoneNumber: '222222' });
    await here.identifyService.identify({ email: 'a@x.io', phoneNumber: '222222' });
    const { separation } = (await here.unmerge?.unmerge(1, { contactIds: [1, 2] }, { addedBy: 'test' })) ?? {};
    assert.equal((await here.identifyService.identify({ email: 'a@x.io', phoneNumber: '222222' })).customer.primaryContactId, 1);
    await elsewhere.unmerge?.removeSeparation(separation?.id as number, { addedBy: 'test' });
    // `here` would still narrow the request to a@x.io's customer and answer it unchanged.
    const answer = await here.identifyService.identify({ email: 'a@x.io', phoneNumber: '222222' });
    assert.equal(answer.outcome, 'merged');
    assert.deepEqual(answer.customer.phoneNumbers, ['111111', '222222']);
  });

  it('does not cost lookups of customers it did not concern a read of the version: their rows vouch for the list', async () => {
    const statements: string[] = [];
    const db = scratch().db;
    const watched = { ...db, query: <Row>(sql: string, params?: readonly unknown[]) => (statements.push(sql), db.query<Row>(sql, params)) };
    const here = createServices(watched);
    const elsewhere = createServices(db);
    await here.identifyService.identify({ email: 'a@x.io', phoneNumber: '111111' });
    await here.identifyService.identify({ email: 'b@x.io', phoneNumber: '222222' });
    await elsewhere.governance?.block({ field: 'email', match: 'exact', value: 'b@x.io' }, 'test', { addedBy: 'test' });
    statements.length = 0;
    const answer = await here.identifyService.identify({ email: 'a@x.io', phoneNumber: '111111' });
    assert.equal(answer.outcome, 'unchanged');
    assert.equal(statements.length, 1, 'one statement');
    assert.doesNotMatch(statements[0] as string, /IdentityGovernance/);
    // The customer the block concerned: its rows carry the new version, so the list is reloaded.
    const blocked = await here.identifyService.identify({ email: 'b@x.io', phoneNumber: '222222' });
    assert.deepEqual(blocked.ignored, ['email']);
  });

  it('is noticed by the next write, which then does not store the value', async () => {
    const here = createServices(scratch().db);
    const elsewhere = createServices(scratch().db);
    await here.identifyService.identify({ email: 'a@x.io', phoneNumber: null });
    await elsewhere.governance?.block({ field: 'phoneNumber', match: 'exact', value: '0000000000' }, 'test', { addedBy: 'test' });
    const answer = await here.identifyService.identify({ email: 'new@x.io', phoneNumber: '0000000000' });
    assert.deepEqual(answer.ignored, ['phoneNumber']);
    assert.deepEqual(
      (await storedRows(scratch().db)).map((row) => row.phoneNumber),
      [null, null],
    );
  });
});
