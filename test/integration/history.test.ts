/**
 * History and explain against real databases: after each kind of change /identify makes, the
 * customer's history has the event the change wrote, in order, with its request id; explain finds
 * the chain of shared identifiers and logged merges; pages follow event ids; a table written
 * before the log answers recorded: false (and explain "unrecorded") instead of inventing events.
 * Events of the governance code (split, blocked) are inserted as rows here: their writer is not
 * part of this suite.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { customerStore } from '../../src/db/customerStore.js';
import { historyStore } from '../../src/db/historyStore.js';
import { Blocklist } from '../../src/identity/blocklist.js';
import { createHistoryService } from '../../src/identity/historyService.js';
import { assertError, buildInProcessApp } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';
import { createServices } from '../../src/services.js';
import type { Static } from '@sinclair/typebox';
import type { ExplainResponse, HistoryResponse } from '../../src/http/historySchemas.js';

/** The answers as the schemas (the OpenAPI document) define them: the test reads what clients read. */
type HistoryBody = Static<typeof HistoryResponse>['history'];
type EventBody = HistoryBody['events'][number];
type ExplanationBody = Static<typeof ExplainResponse>['explanation'];

/** An event as the tests compare it: no id or time. */
function brief({ type, customerIds, contactIds, requestId, email, phoneNumber, detail }: EventBody) {
  return { type, customerIds, contactIds, requestId, email, phoneNumber, detail };
}

describeOnEachDatabase('history and explain', (scratch) => {
  let app: FastifyInstance;

  before(async () => {
    const { db } = scratch();
    app = await buildInProcessApp({ db, ...createServices(db), responseFormat: 'customer', logLevel: 'silent' });
  });
  after(() => app.close());
  beforeEach(() => scratch().reset());

  async function identify(email: string | null, phoneNumber: string | null, id: string): Promise<void> {
    const response = await app.inject({
      method: 'POST',
      url: '/identify',
      headers: { 'x-request-id': id },
      payload: { email, phoneNumber },
    });
    assert.equal(response.statusCode, 200, response.body);
  }

  const get = (url: string): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url });

  async function history(id: number, query = ''): Promise<HistoryBody> {
    const response = await get(`/customers/${id}/history${query}`);
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { history: HistoryBody }).history;
  }

  async function explain(id: number, query: string): Promise<ExplanationBody> {
    const response = await get(`/customers/${id}/explain?${query}`);
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { explanation: ExplanationBody }).explanation;
  }

  const insertRows = (values: string) =>
    scratch().db.query(`INSERT INTO "Contact" ("email", "phoneNumber", "linkedId", "linkPrecedence") VALUES ${values}`);

  it('a new customer: customer.created, with the request id; recorded, every contact accounted for', async () => {
    await identify('lorraine@hillvalley.edu', '123456', 'order-1');
    const shown = await history(1);
    assert.deepEqual(shown.events.map(brief), [
      {
        type: 'customer.created',
        customerIds: [1],
        contactIds: [1],
        requestId: 'order-1',
        email: null,
        phoneNumber: null,
        detail: {},
      },
    ]);
    assert.deepEqual([shown.primaryContactId, shown.recorded, shown.note, shown.contacts], [1, true, null, { total: 1, recorded: 1 }]);
    assert.match(shown.events[0]?.at ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(shown.page, { after: 0, limit: 100, total: 1, nextAfter: null });
  });

  it('a new identifier: customer.updated names the secondary and what was new; any contact id of the customer answers', async () => {
    await identify('lorraine@hillvalley.edu', '123456', 'order-1');
    await identify('mcfly@hillvalley.edu', '123456', 'order-2');
    await identify('mcfly@hillvalley.edu', '123456', 'order-3'); // nothing new: no event
    const shown = await history(2);
    assert.deepEqual(
      shown.events.map(({ type, contactIds, requestId, detail }) => ({ type, contactIds, requestId, detail })),
      [
        { type: 'customer.created', contactIds: [1], requestId: 'order-1', detail: {} },
        { type: 'customer.updated', contactIds: [2], requestId: 'order-2', detail: { new: ['email'] } },
      ],
    );
    assert.deepEqual(shown.contacts, { total: 2, recorded: 2 });
    assert.deepEqual(await history(1), shown);
  });

  it('a merge: customer.merged with the survivor first, the request identifiers, and both customers’ earlier events', async () => {
    await identify('george@hillvalley.edu', '919191', 'order-1');
    await identify('biffsucks@hillvalley.edu', '717171', 'order-2');
    await identify('biff@hillvalley.edu', '717171', 'order-3');
    await identify('george@hillvalley.edu', '717171', 'order-4');
    const shown = await history(3);
    assert.deepEqual(shown.events.map(brief), [
      { type: 'customer.created', customerIds: [1], contactIds: [1], requestId: 'order-1', email: null, phoneNumber: null, detail: {} },
      { type: 'customer.created', customerIds: [2], contactIds: [2], requestId: 'order-2', email: null, phoneNumber: null, detail: {} },
      {
        type: 'customer.updated',
        customerIds: [2],
        contactIds: [3],
        requestId: 'order-3',
        email: null,
        phoneNumber: null,
        detail: { new: ['email'] },
      },
      {
        type: 'customer.merged',
        customerIds: [1, 2],
        contactIds: [2, 3],
        requestId: 'order-4',
        email: 'george@hillvalley.edu',
        phoneNumber: '717171',
        detail: { survivor: 1, absorbed: [2] },
      },
    ]);
    assert.deepEqual([shown.primaryContactId, shown.recorded, shown.contacts], [1, true, { total: 3, recorded: 3 }]);
  });

  it('a soft-deleted primary: customer.relinked promotes the oldest live row, and the deleted primary’s events stay in the history', async () => {
    await identify('a@x.io', '111', 'order-1');
    await identify('b@x.io', '111', 'order-2');
    await scratch().db.query(`UPDATE "Contact" SET "deletedAt" = now() WHERE "id" = 1`);
    // Before any request puts the links in place, the rows still link to the deleted primary.
    assert.deepEqual(
      (await history(2)).events.map((event) => event.type),
      ['customer.created', 'customer.updated'],
    );
    await identify('b@x.io', null, 'order-3');
    const shown = await history(2);
    assert.deepEqual(
      shown.events.map(({ type, customerIds, requestId, detail }) => ({ type, customerIds, requestId, detail })),
      [
        { type: 'customer.created', customerIds: [1], requestId: 'order-1', detail: {} },
        { type: 'customer.updated', customerIds: [1], requestId: 'order-2', detail: { new: ['email'] } },
        { type: 'customer.relinked', customerIds: [2, 1], requestId: 'order-3', detail: { promoted: true } },
      ],
    );
    assert.deepEqual([shown.primaryContactId, shown.recorded, shown.contacts], [2, true, { total: 1, recorded: 1 }]);
    assertError(await get('/customers/1/history'), 404, 'NOT_FOUND');
  });

  it("leaves other customers' events out", async () => {
    await identify('a@x.io', '111', 'order-1');
    await identify('b@x.io', '222', 'order-2');
    await identify('c@x.io', '222', 'order-3');
    assert.deepEqual(
      (await history(1)).events.map((event) => event.requestId),
      ['order-1'],
    );
    assert.deepEqual(
      (await history(3)).events.map((event) => event.requestId),
      ['order-2', 'order-3'],
    );
  });

  it('pages by event id: nextAfter until the last page, which says null', async () => {
    for (let i = 1; i <= 5; i++) await identify('a@x.io', `10${i}`, `order-${i}`);
    const first = await history(1, '?limit=2');
    assert.deepEqual(
      first.events.map((event) => event.requestId),
      ['order-1', 'order-2'],
    );
    assert.deepEqual(first.page, { after: 0, limit: 2, total: 5, nextAfter: first.events[1]?.id });
    const second = await history(1, `?limit=2&after=${first.page.nextAfter}`);
    assert.deepEqual(
      second.events.map((event) => event.requestId),
      ['order-3', 'order-4'],
    );
    const last = await history(1, `?limit=2&after=${second.page.nextAfter}`);
    assert.deepEqual(
      last.events.map((event) => event.requestId),
      ['order-5'],
    );
    assert.equal(last.page.nextAfter, null);
    assert.deepEqual((await history(1, `?after=${last.events[0]?.id}`)).events, []);
  });

  it('refuses bad pages and ids with their codes, never repeating the input; 404 for an id no live contact has', async () => {
    await identify('a@x.io', '111', 'order-1');
    for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'after=-1', 'after=x1', 'after=1234567890123456'])
      assertError(await get(`/customers/1/history?${query}`), 400, 'INVALID_PAGE');
    for (const id of ['0', 'abc', '99999999999', '2147483648'])
      assertError(await get(`/customers/${id}/history`), 400, 'INVALID_CONTACT_ID');
    const response = await get('/customers/1/history?limit=secret@x.io');
    assert.doesNotMatch(response.body, /secret/);
    assertError(await get('/customers/42/history'), 404, 'NOT_FOUND');
  });

  it('a table written before the event log: recorded false, no events, a sentence that says so', async () => {
    await insertRows(`('a@x.io', '111', NULL, 'primary'), ('b@x.io', '111', 1, 'secondary')`);
    const shown = await history(2);
    assert.deepEqual([shown.recorded, shown.events, shown.contacts], [false, [], { total: 2, recorded: 0 }]);
    assert.match(shown.note ?? '', /written before the event log existed/);
    assert.deepEqual(shown.page, { after: 0, limit: 100, total: 0, nextAfter: null });
  });

  it('rows older than the log, then a logged change: partial, and how many contacts the log accounts for', async () => {
    await insertRows(`('a@x.io', '111', NULL, 'primary'), ('b@x.io', '111', 1, 'secondary')`);
    await identify('c@x.io', '111', 'order-1');
    const shown = await history(1);
    assert.deepEqual([shown.recorded, shown.contacts], ['partial', { total: 3, recorded: 1 }]);
    assert.match(shown.note ?? '', /^The history is partial: 2 of 3 contacts/);
    assert.deepEqual(
      shown.events.map((event) => [event.type, event.contactIds]),
      [['customer.updated', [3]]],
    );
  });

  it('shows split and block events, which the governance code writes, in their order, to every customer they name', async () => {
    await identify('a@x.io', '111', 'order-1');
    await identify('b@x.io', '222', 'order-2');
    await scratch().db.query(
      `INSERT INTO "ContactEvent" ("requestId", "type", "customerIds", "contactIds", "detail") VALUES
         ('admin-1', 'identifier.blocked', '{1}', '{}', '{"ruleId": 4, "field": "phoneNumber", "match": "exact"}'),
         ('admin-1', 'customer.split', '{1,2}', '{2}', '{"into": [1, 2], "cause": "identifier.blocked"}')`,
    );
    assert.deepEqual(
      (await history(1)).events.map((event) => [event.type, event.requestId, event.detail]),
      [
        ['customer.created', 'order-1', {}],
        ['identifier.blocked', 'admin-1', { ruleId: 4, field: 'phoneNumber', match: 'exact' }],
        ['customer.split', 'admin-1', { into: [1, 2], cause: 'identifier.blocked' }],
      ],
    );
    assert.deepEqual(
      (await history(2)).events.map((event) => event.type),
      ['customer.created', 'customer.split'],
    );
  });

  it('explain: contacts sharing an identifier, from the primary by default', async () => {
    await identify('lorraine@hillvalley.edu', '123456', 'order-1');
    await identify('mcfly@hillvalley.edu', '123456', 'order-2');
    assert.deepEqual(await explain(1, 'to=2'), {
      primaryContactId: 1,
      from: 1,
      to: 2,
      kind: 'path',
      steps: [
        { kind: 'contact', id: 1 },
        { kind: 'identifier', field: 'phoneNumber', value: '123456' },
        { kind: 'contact', id: 2 },
      ],
      cause: null,
      message: null,
    });
    assert.deepEqual((await explain(2, 'from=2&to=2')).steps, [{ kind: 'contact', id: 2 }]);
  });

  it('explain: contacts joined only by a merge, with the merging request', async () => {
    await identify('george@hillvalley.edu', '919191', 'order-1');
    await identify('biffsucks@hillvalley.edu', '717171', 'order-2');
    await identify('george@hillvalley.edu', '717171', 'order-3');
    const { steps } = await explain(2, 'from=1&to=2');
    assert.equal(steps.length, 3);
    const [, merge] = steps;
    assert.equal(merge?.kind, 'merge');
    assert.deepEqual(
      { ...merge, at: typeof (merge as { at?: unknown }).at },
      { kind: 'merge', eventId: 3, at: 'string', requestId: 'order-3', email: 'george@hillvalley.edu', phoneNumber: '717171' },
    );
  });

  it('explain: a chain through a middle contact, in either direction', async () => {
    await identify('a@x.io', '111', 'order-1');
    await identify('b@x.io', '111', 'order-2');
    await identify('b@x.io', '333', 'order-3');
    assert.deepEqual((await explain(1, 'from=3&to=1')).steps, [
      { kind: 'contact', id: 3 },
      { kind: 'identifier', field: 'email', value: 'b@x.io' },
      { kind: 'contact', id: 2 },
      { kind: 'identifier', field: 'phoneNumber', value: '111' },
      { kind: 'contact', id: 1 },
    ]);
  });

  it('explain on a table written before the log: shared values still explain; a merge nobody recorded is unrecorded, not invented', async () => {
    await insertRows(`('a@x.io', '111', NULL, 'primary'), ('b@x.io', '111', 1, 'secondary'), ('c@x.io', '333', 1, 'secondary')`);
    assert.equal((await explain(1, 'to=2')).kind, 'path');
    const unrecorded = await explain(1, 'to=3');
    assert.deepEqual([unrecorded.kind, unrecorded.steps, unrecorded.cause], ['unrecorded', [], 'noRecord']);
    assert.match(unrecorded.message ?? '', /no recorded link joins them/);
  });

  it('explain never goes through a blocked value', async () => {
    await identify('a@x.io', '111', 'order-1');
    await identify('a@x.io', '222', 'order-2');
    const { db } = scratch();
    const blocked = new Blocklist(2, [
      { id: 1, field: 'email', match: 'exact', value: 'a@x.io', reason: 'test', addedBy: 'test', createdAt: new Date() },
    ]);
    const guarded = await buildInProcessApp({
      db,
      identifyService: createServices(db).identifyService,
      historyService: createHistoryService(customerStore(db), historyStore(db), { blocklist: async () => blocked }),
      responseFormat: 'customer',
      logLevel: 'silent',
    });
    try {
      const response = await guarded.inject({ method: 'GET', url: '/customers/1/explain?to=2' });
      assert.equal(response.statusCode, 200, response.body);
      const explanation = (response.json() as { explanation: ExplanationBody }).explanation;
      assert.deepEqual([explanation.kind, explanation.cause], ['unrecorded', 'blocked']);
    } finally {
      await guarded.close();
    }
  });

  it('explain refuses contacts that are not the customer’s, bad ids and a missing end, with their codes', async () => {
    await identify('a@x.io', '111', 'order-1');
    await identify('b@x.io', '222', 'order-2');
    const outside = await get('/customers/1/explain?to=2');
    assertError(outside, 400, 'CONTACT_NOT_IN_CUSTOMER');
    assert.deepEqual(outside.json().error.contactIds, [2]);
    assert.equal(outside.json().error.message, 'Contact 2 is not a live contact of customer 1.');
    assertError(await get('/customers/1/explain?from=7&to=9'), 400, 'CONTACT_NOT_IN_CUSTOMER');
    for (const query of ['', 'to=0', 'to=x', 'from=abc&to=1', 'to=2147483648'])
      assertError(await get(`/customers/1/explain?${query}`), 400, 'INVALID_CONTACT_ID');
    assertError(await get('/customers/0/explain?to=1'), 400, 'INVALID_CONTACT_ID');
    assertError(await get('/customers/42/explain?to=1'), 404, 'NOT_FOUND');
  });
  it('links in a chain (left by another writer): 409 NEEDS_REPAIR from both, with the ids', async () => {
    await insertRows(`('a@x.io', '111', NULL, 'primary'), ('b@x.io', '111', 1, 'secondary'), ('c@x.io', '333', 2, 'secondary')`);
    for (const url of ['/customers/3/history', '/customers/3/explain?to=1']) {
      const response = await get(url);
      assertError(response, 409, 'NEEDS_REPAIR');
      assert.deepEqual(response.json().error.contactIds, [2, 3]);
    }
  });

  it('never writes', async () => {
    await identify('a@x.io', '111', 'order-1');
    await identify('b@x.io', '111', 'order-2');
    const count = async () => (await scratch().db.query<{ n: number }>('SELECT count(*)::int AS n FROM "ContactEvent"'))[0]?.n;
    const before = [await count(), await scratch().db.query('SELECT * FROM "Contact" ORDER BY "id"')];
    await history(1);
    await explain(1, 'to=2');
    assert.deepEqual([await count(), await scratch().db.query('SELECT * FROM "Contact" ORDER BY "id"')], before);
  });
});
