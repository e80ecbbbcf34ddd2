/**
 * Unmerge and separations through HTTP, one named case per rule (docs/governance.md, "Unmerge and
 * separations"): an unmerge splits a customer back along a logged merge (by the merge's event id
 * or by a contact of each side), refuses with 409 STILL_LINKED while something else holds the two
 * sides, and records a separation; a checkout carrying identifiers of both sides is then answered
 * with its email's customer and does not link the phone; separations are listed and removed; the
 * admin keys guard it all; the table's invariants hold after every case.
 */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Database } from '../../src/db/database.js';
import { checkInvariants } from '../../src/db/invariants.js';
import { assertError, postIdentify, storedRows, useAdminAccessApps, useTestApp } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const API_KEY = 'api-key-0123456789abcdef';

function unmerge(app: FastifyInstance, id: number, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `/admin/customers/${id}/unmerge`, headers, payload: body as object });
}

async function customerOf(app: FastifyInstance, id: number) {
  const response = await app.inject({ method: 'GET', url: `/customers/${id}` });
  assert.equal(response.statusCode, 200, response.body);
  const { primaryContactId, secondaryContactIds } = response.json().customer as { primaryContactId: number; secondaryContactIds: number[] };
  return [primaryContactId, ...secondaryContactIds];
}

async function events(db: Database): Promise<{ type: string; customerIds: number[]; detail: Record<string, unknown> }[]> {
  return db.query('SELECT "type", "customerIds", "detail" FROM "ContactEvent" ORDER BY "id"');
}

async function assertInvariantsHold(db: Database): Promise<void> {
  assert.deepEqual(
    (await checkInvariants(db)).filter((result) => result.count > 0),
    [],
  );
}

/**
 * The README's example: george (1), biffsucks (2) and biff (3, biffsucks' secondary through
 * 717171), then order-4 carries george's email and biff's phone: event 4 merges customer 2 into 1.
 */
async function georgeAndBiff(app: FastifyInstance): Promise<void> {
  for (const body of [
    { email: 'george@hillvalley.edu', phoneNumber: '919191' },
    { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
    { email: 'biff@hillvalley.edu', phoneNumber: '717171' },
    { email: 'george@hillvalley.edu', phoneNumber: '717171' },
  ]) {
    assert.equal((await postIdentify(app, body)).statusCode, 200);
  }
}

describeOnEachDatabase('unmerge', (scratch) => {
  const app = useTestApp(scratch);

  it('When an admin unmerges by the merge event id, Then the customer splits back along it and a separation is recorded', async () => {
    await georgeAndBiff(app());
    assert.deepEqual(await customerOf(app(), 1), [1, 2, 3]);
    const response = await unmerge(app(), 3, { mergeEventId: '4' });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.mergeEventId, 4);
    assert.deepEqual(body.into, [1, 2]);
    assert.deepEqual(body.splits, [{ ownerId: 1, into: [1, 2] }]);
    assert.deepEqual(
      { ...body.separation, createdAt: typeof body.separation.createdAt },
      {
        id: 1,
        contactIds: [1, 2],
        mergeEventId: 4,
        addedBy: 'admin:open',
        createdAt: 'string',
      },
    );
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.deepEqual(await customerOf(app(), 1), [1]);
    assert.deepEqual(await customerOf(app(), 3), [2, 3]);
    const logged = (await events(scratch().db)).slice(4);
    assert.deepEqual(
      logged.map((event) => [event.type, event.customerIds, event.detail]),
      [
        ['customer.unmerged', [1, 2], { mergeEventId: 4, separationId: 1, into: [1, 2] }],
        ['customer.split', [1, 2], { into: [1, 2], cause: 'customer.unmerged', mergeEventId: 4 }],
      ],
    );
    await assertInvariantsHold(scratch().db);
  });

  it('When an admin unmerges by a contact of each side, Then the merge between them is found and undone', async () => {
    await georgeAndBiff(app());
    const response = await unmerge(app(), 1, { contactIds: [1, 3] });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().mergeEventId, 4);
    assert.deepEqual(response.json().into, [1, 2]);
    assert.deepEqual(await customerOf(app(), 2), [2, 3]);
    await assertInvariantsHold(scratch().db);
  });

  it('the undone merge no longer explains anything, and the same merge cannot be undone twice', async () => {
    await georgeAndBiff(app());
    assert.equal((await unmerge(app(), 1, { mergeEventId: 4 })).statusCode, 200);
    assertError(await unmerge(app(), 1, { mergeEventId: 4 }), 404, 'NOT_FOUND');
    const history = (await app().inject({ method: 'GET', url: '/customers/3/history' })).json().history;
    assert.ok(history.events.some((event: { type: string }) => event.type === 'customer.unmerged'));
    // Joined again by a new checkout: explain gives the new merge, never the undone one (event 4).
    assert.equal((await app().inject({ method: 'DELETE', url: '/admin/separations/1' })).statusCode, 200);
    await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '717171' });
    const explained = (await app().inject({ method: 'GET', url: '/customers/1/explain?to=3' })).json().explanation;
    const merges = explained.steps.filter((step: { kind: string }) => step.kind === 'merge');
    assert.equal(merges.length, 1);
    assert.notEqual(merges[0].eventId, 4);
  });

  it('answers 409 STILL_LINKED, naming fields and contacts but no value, when a shared identifier still holds the two sides; writes nothing', async () => {
    // 2 and 3 share 555; blocked, it split them; order-4's merge joined them; unblocked, 555 holds them too.
    for (const body of [
      { email: 'george@hillvalley.edu', phoneNumber: '111' },
      { email: 'george@hillvalley.edu', phoneNumber: '555' },
      { email: 'biff@hillvalley.edu', phoneNumber: '555' },
    ]) {
      await postIdentify(app(), body);
    }
    const blocked = await app().inject({
      method: 'POST',
      url: '/admin/blocked',
      payload: { field: 'phoneNumber', value: '555', reason: 't' },
    });
    assert.equal(blocked.statusCode, 201);
    assert.deepEqual(await customerOf(app(), 3), [3]);
    assert.equal((await postIdentify(app(), { email: 'biff@hillvalley.edu', phoneNumber: '111' })).statusCode, 200);
    const [merged] = await scratch().db.query<{ id: string }>(`SELECT "id"::text FROM "ContactEvent" WHERE "type" = 'customer.merged'`);
    assert.equal((await app().inject({ method: 'DELETE', url: `/admin/blocked/${blocked.json().rule.id}` })).statusCode, 200);
    const before = await storedRows(scratch().db);

    const response = await unmerge(app(), 1, { mergeEventId: merged?.id });
    assertError(response, 409, 'STILL_LINKED');
    assert.deepEqual(response.json().error.contactIds, [1, 3]);
    assert.deepEqual(response.json().error.links, [
      { field: 'email', contactIds: [1, 2] },
      { field: 'phoneNumber', contactIds: [2, 3] },
    ]);
    assert.doesNotMatch(response.body, /555|hillvalley/);
    assert.deepEqual(await storedRows(scratch().db), before);
    assert.deepEqual((await app().inject({ method: 'GET', url: '/admin/separations' })).json().separations, []);
  });

  it('splits sides that share only a blocked value; unblocking it joins them again, separation or not (I2)', async () => {
    for (const body of [
      { email: 'george@hillvalley.edu', phoneNumber: '111' },
      { email: 'george@hillvalley.edu', phoneNumber: '555' },
      { email: 'biff@hillvalley.edu', phoneNumber: '555' },
    ]) {
      await postIdentify(app(), body);
    }
    const blocked = await app().inject({
      method: 'POST',
      url: '/admin/blocked',
      payload: { field: 'phoneNumber', value: '555', reason: 't' },
    });
    await postIdentify(app(), { email: 'biff@hillvalley.edu', phoneNumber: '111' });
    const [merged] = await scratch().db.query<{ id: string }>(`SELECT "id"::text FROM "ContactEvent" WHERE "type" = 'customer.merged'`);
    const response = await unmerge(app(), 3, { mergeEventId: merged?.id });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(await customerOf(app(), 3), [3]);
    await assertInvariantsHold(scratch().db);

    assert.equal((await app().inject({ method: 'DELETE', url: `/admin/blocked/${blocked.json().rule.id}` })).statusCode, 200);
    assert.deepEqual(await customerOf(app(), 3), [1, 2, 3]);
    await assertInvariantsHold(scratch().db);
  });

  it('answers 409 STILL_LINKED for two contacts that share a phone (no merge parts them)', async () => {
    await georgeAndBiff(app());
    const response = await unmerge(app(), 1, { contactIds: [2, 3] });
    assertError(response, 409, 'STILL_LINKED');
    assert.deepEqual(response.json().error.links, [{ field: 'phoneNumber', contactIds: [2, 3] }]);
  });

  it('answers 404 for an unknown customer, an event that is not a merge, and a merge of another customer', async () => {
    await georgeAndBiff(app());
    await postIdentify(app(), { email: 'doc@hillvalley.edu', phoneNumber: '555' });
    assertError(await unmerge(app(), 99, { mergeEventId: 4 }), 404, 'NOT_FOUND');
    assertError(await unmerge(app(), 1, { mergeEventId: 1 }), 404, 'NOT_FOUND');
    assertError(await unmerge(app(), 1, { mergeEventId: 999 }), 404, 'NOT_FOUND');
    assertError(await unmerge(app(), 4, { mergeEventId: 4 }), 404, 'NOT_FOUND');
  });

  it('answers 400 for bad bodies and for contacts that are not the customer’s, echoing nothing', async () => {
    await georgeAndBiff(app());
    await postIdentify(app(), { email: 'doc@hillvalley.edu', phoneNumber: '555' });
    for (const body of [
      {},
      { mergeEventId: 'x' },
      { mergeEventId: 4, contactIds: [1, 2] },
      { contactIds: [1] },
      { contactIds: [1, 1] },
      { contactIds: ['a', 2] },
    ]) {
      const response = await unmerge(app(), 1, body);
      assertError(response, 400, 'INVALID_UNMERGE');
    }
    assertError(await unmerge(app(), 1, [1, 2]), 400, 'INVALID_BODY');
    assertError(await unmerge(app(), 0, { mergeEventId: 4 }), 400, 'INVALID_CONTACT_ID');
    const stranger = await unmerge(app(), 1, { contactIds: [1, 4] });
    assertError(stranger, 400, 'CONTACT_NOT_IN_CUSTOMER');
    assert.deepEqual(stranger.json().error.contactIds, [4]);
  });
});

describeOnEachDatabase('separations', (scratch) => {
  const app = useTestApp(scratch);

  beforeEach(async () => {
    await georgeAndBiff(app());
    assert.equal((await unmerge(app(), 1, { mergeEventId: 4 })).statusCode, 200);
  });

  it("When a checkout carries both sides' identifiers, Then it is answered with its email's customer, the phone is not linked, and the request is recorded", async () => {
    const response = await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '717171' });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), {
      customer: { id: 1, primaryContactId: 1, emails: ['george@hillvalley.edu'], phoneNumbers: ['919191'], secondaryContactIds: [] },
      ignored: ['phoneNumber'],
    });
    const other = await postIdentify(app(), { email: 'biff@hillvalley.edu', phoneNumber: '919191' });
    assert.equal(other.json().customer.primaryContactId, 2);
    assert.deepEqual(other.json().ignored, ['phoneNumber']);
    assert.equal((await storedRows(scratch().db)).length, 3, 'no row was added');
    const logged = (await events(scratch().db)).filter((event) => event.type === 'request.separated');
    assert.deepEqual(
      logged.map((event) => [event.customerIds, event.detail]),
      [
        [[1, 2], { separationId: 1, ignored: 'phoneNumber' }],
        [[2, 1], { separationId: 1, ignored: 'phoneNumber' }],
      ],
    );
    await assertInvariantsHold(scratch().db);
  });

  it("a checkout with a new email and one side's phone is that side's: the phone's customer when there is no other email", async () => {
    const response = await postIdentify(app(), { email: 'tannen@hillvalley.edu', phoneNumber: '919191' });
    assert.equal(response.json().customer.primaryContactId, 1);
    assert.equal('ignored' in response.json(), false);
    const phoneOnly = await postIdentify(app(), { phoneNumber: '717171' });
    assert.equal(phoneOnly.json().customer.primaryContactId, 2);
    // The email blocked: the phone's customer, the email ignored as blocked.
    await app().inject({ method: 'POST', url: '/admin/blocked', payload: { field: 'email', value: 'george@hillvalley.edu', reason: 't' } });
    const blocked = await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '717171' });
    assert.equal(blocked.json().customer.primaryContactId, 2);
    assert.deepEqual(blocked.json().ignored, ['email']);
    await assertInvariantsHold(scratch().db);
  });

  it('binds the sides as they grow: a third customer joined to one side cannot bridge to the other', async () => {
    await postIdentify(app(), { email: 'doc@hillvalley.edu', phoneNumber: '555' });
    // doc's email with george's phone: doc (4) joins george's side.
    await postIdentify(app(), { email: 'doc@hillvalley.edu', phoneNumber: '919191' });
    assert.deepEqual(await customerOf(app(), 4), [1, 4]);
    const response = await postIdentify(app(), { email: 'doc@hillvalley.edu', phoneNumber: '717171' });
    assert.equal(response.json().customer.primaryContactId, 1);
    assert.deepEqual(response.json().ignored, ['phoneNumber']);
    assert.deepEqual(await customerOf(app(), 2), [2, 3]);
    await assertInvariantsHold(scratch().db);
  });

  it('lists separations with the version of the block list, and removing one merges nothing by itself; the next checkout carrying both does', async () => {
    const listed = (await app().inject({ method: 'GET', url: '/admin/separations' })).json();
    assert.equal(typeof listed.version, 'number');
    assert.deepEqual(
      listed.separations.map((s: { id: number; contactIds: number[] }) => [s.id, s.contactIds]),
      [[1, [1, 2]]],
    );
    const removed = await app().inject({ method: 'DELETE', url: '/admin/separations/1' });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.deepEqual(removed.json().separation.contactIds, [1, 2]);
    const after = (await app().inject({ method: 'GET', url: '/admin/separations' })).json();
    assert.deepEqual(after.separations, []);
    assert.ok(after.version > listed.version);
    assert.deepEqual(await customerOf(app(), 1), [1], 'nothing merged by the removal');
    const response = await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '717171' });
    assert.deepEqual(response.json().customer.secondaryContactIds, [2, 3]);
    assert.equal('ignored' in response.json(), false);
    assert.deepEqual(
      (await events(scratch().db)).slice(-2).map((event) => event.type),
      ['separation.removed', 'customer.merged'],
    );
    assertError(await app().inject({ method: 'DELETE', url: '/admin/separations/1' }), 404, 'NOT_FOUND');
    assertError(await app().inject({ method: 'DELETE', url: '/admin/separations/x' }), 400, 'INVALID_SEPARATION_ID');
    await assertInvariantsHold(scratch().db);
  });

  it('a later block and unblock of a value of one side does not bring the undone merge back', async () => {
    const blocked = await app().inject({
      method: 'POST',
      url: '/admin/blocked',
      payload: { field: 'phoneNumber', value: '717171', reason: 't' },
    });
    assert.equal(blocked.statusCode, 201);
    assert.equal((await app().inject({ method: 'DELETE', url: `/admin/blocked/${blocked.json().rule.id}` })).statusCode, 200);
    assert.deepEqual(await customerOf(app(), 1), [1]);
    assert.deepEqual(await customerOf(app(), 2), [2, 3]);
    await assertInvariantsHold(scratch().db);
  });
});

describeOnEachDatabase('unmerge and separations on the admin API', (scratch) => {
  const apps = useAdminAccessApps(scratch, { apiKeys: [API_KEY], adminApiKeys: [ADMIN_KEY] });

  it('needs an admin key: none is 401, an API key is 401, without ADMIN_API_KEYS it is 403; an admin key works and is recorded', async () => {
    const app = apps.keyed();
    const api = { authorization: `Bearer ${API_KEY}` };
    await georgeAndBiff({ inject: (options: object) => app.inject({ ...options, headers: api }) } as unknown as FastifyInstance);
    assertError(await unmerge(app, 1, { mergeEventId: 4 }), 401, 'UNAUTHORIZED');
    assertError(await unmerge(app, 1, { mergeEventId: 4 }, api), 401, 'UNAUTHORIZED');
    assertError(await apps.closed().inject({ method: 'GET', url: '/admin/separations' }), 403, 'ADMIN_DISABLED');
    assertError(await app.inject({ method: 'GET', url: '/admin/separations', headers: api }), 401, 'UNAUTHORIZED');
    assertError(await app.inject({ method: 'DELETE', url: '/admin/separations/1', headers: api }), 401, 'UNAUTHORIZED');
    const done = await unmerge(app, 1, { mergeEventId: 4 }, { authorization: `Bearer ${ADMIN_KEY}` });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().separation.addedBy, 'admin:key1');
  });

  it('is not served under /customers (the API keys never reach it)', async () => {
    const response = await apps.keyed().inject({
      method: 'POST',
      url: '/customers/1/unmerge',
      headers: { authorization: `Bearer ${API_KEY}` },
      payload: { mergeEventId: 4 },
    });
    assert.equal(response.statusCode, 404);
  });
});
