/**
 * Erasure (the right to be forgotten) and export, through the admin API and the CLI: erased rows
 * keep their ids and lose their values; the values are forgotten everywhere, the event log and
 * the block list included; what an erased row alone held together splits; an access request gets
 * everything held about a customer.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Queryable } from '../../src/db/database.js';
import { checkInvariants } from '../../src/db/invariants.js';
import { createServices, DEFAULT_GOVERNANCE } from '../../src/services.js';
import { assertError, buildInProcessApp, postIdentify, storedRows, useTestApp } from '../support/app.js';
import { insertRows } from '../support/brokenTables.js';
import { cliDatabase, runCli } from '../support/cliProcess.js';
import { describeOnEachDatabase } from '../support/databases.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';

async function identify(app: FastifyInstance, body: object): Promise<void> {
  const response = await postIdentify(app, body);
  assert.equal(response.statusCode, 200, response.body);
}

interface RowState {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  linkedId: number | null;
  linkPrecedence: string;
  deleted: boolean;
}

async function allRows(db: Queryable): Promise<RowState[]> {
  return db.query<RowState>(
    `SELECT "id", "email", "phoneNumber", "linkedId", "linkPrecedence", "deletedAt" IS NOT NULL AS deleted FROM "Contact" ORDER BY "id"`,
  );
}

/** Every row of every table of the service's schema, as text: what a dump of the database holds. */
async function dumpAsText(db: Queryable): Promise<string> {
  const tables = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" AS t`);
    parts.push(`${name}: ${rows.map((r) => r.row).join('\n')}`);
  }
  return parts.join('\n');
}

function erase(app: FastifyInstance, path: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'DELETE', url: path });
}

describeOnEachDatabase('erasure', (scratch) => {
  const app = useTestApp(scratch);

  it('DELETE /contacts/{id}: the row keeps its id and link, loses its email and phone, and gets deletedAt', async () => {
    await identify(app(), { email: 'a@x.io', phoneNumber: '111' });
    await identify(app(), { email: 'b@x.io', phoneNumber: '222' });
    const response = await erase(app(), '/contacts/2');
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { erasedContactIds: [2], customers: [], splits: [], blockRulesRemoved: 0 });
    assert.deepEqual((await allRows(scratch().db)).at(-1), {
      id: 2,
      email: null,
      phoneNumber: null,
      linkedId: null,
      linkPrecedence: 'primary',
      deleted: true,
    });
  });

  it("forgets the erased row's values everywhere: other rows lose them too, and a row left with no identifier is erased", async () => {
    await identify(app(), { email: 'a@x.io', phoneNumber: '111' });
    await identify(app(), { email: 'a@x.io', phoneNumber: '222' }); // 2: secondary, new phone
    await identify(app(), { phoneNumber: '111' }); // nothing new: no row
    await identify(app(), { email: 'c@x.io', phoneNumber: '222' }); // 3: secondary, new email
    const response = await erase(app(), '/contacts/2');
    assert.equal(response.statusCode, 200, response.body);
    // 2 held a@x.io and 222: 1 keeps 111, 3 keeps c@x.io, and nothing else joins them.
    assert.deepEqual(response.json(), {
      erasedContactIds: [2],
      customers: [[1], [3]],
      splits: [{ ownerId: 1, into: [1, 3] }],
      blockRulesRemoved: 0,
    });
    assert.deepEqual(
      (await allRows(scratch().db)).map((row) => [row.id, row.email, row.phoneNumber, row.linkedId, row.linkPrecedence, row.deleted]),
      [
        [1, null, '111', null, 'primary', false],
        [2, null, null, 1, 'secondary', true],
        [3, 'c@x.io', null, null, 'primary', false],
      ],
    );
    assert.deepEqual(
      (await checkInvariants(scratch().db)).filter((result) => result.count > 0),
      [],
    );
  });

  it('an erased row that was the only bridge between two parts splits the customer, each part with its oldest row as primary', async () => {
    await identify(app(), { email: 'a@x.io', phoneNumber: '111' });
    await identify(app(), { email: 'c@x.io', phoneNumber: '333' });
    await identify(app(), { email: 'a@x.io', phoneNumber: '333' }); // merges 2 into 1 (no row: both known)
    await identify(app(), { email: 'bridge@x.io', phoneNumber: '111' }); // 3
    await identify(app(), { email: 'bridge@x.io', phoneNumber: '333' }); // nothing new
    const response = await erase(app(), '/contacts/3');
    assert.equal(response.statusCode, 200, response.body);
    // 1 and 2 were joined by a merge (a@x.io with 333), which erasing 3 does not touch: they stay one.
    assert.deepEqual(response.json().customers, [[1, 2]]);
  });

  it('DELETE /customers/{id} erases every row of the customer, whichever of its contact ids is given', async () => {
    await identify(app(), { email: 'a@x.io', phoneNumber: '111' });
    await identify(app(), { email: 'b@x.io', phoneNumber: '111' });
    await identify(app(), { email: 'other@x.io', phoneNumber: '999' });
    const response = await erase(app(), '/customers/2');
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json().erasedContactIds, [1, 2]);
    assert.deepEqual(
      (await storedRows(scratch().db)).map((row) => row.email),
      [null, null, 'other@x.io'],
    );
    assertError(await app().inject({ method: 'GET', url: '/customers/1' }), 404, 'NOT_FOUND');
  });

  it('afterwards the erased email and phone appear nowhere in the database: rows, event log, block list (a dump searched for them)', async () => {
    await identify(app(), { email: 'forget.me@x.io', phoneNumber: '5550001' });
    await identify(app(), { email: 'other@x.io', phoneNumber: '5550002' });
    await identify(app(), { email: 'forget.me@x.io', phoneNumber: '5550002' }); // a merge: the log names both values
    const blocked = await app().inject({
      method: 'POST',
      url: '/admin/blocked',
      payload: { field: 'phoneNumber', value: '5550001', reason: 'test' },
    });
    assert.equal(blocked.statusCode, 201, blocked.body);
    assert.match(await dumpAsText(scratch().db), /forget\.me@x\.io/);

    const response = await erase(app(), '/customers/1');
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().blockRulesRemoved, 1);
    const dump = await dumpAsText(scratch().db);
    for (const value of ['forget.me@x.io', '5550001', 'other@x.io', '5550002'])
      assert.doesNotMatch(dump, new RegExp(value.replace(/\./g, '\\.')), value);
    if (scratch().url !== null && existsSync(PG_DUMP)) {
      const sql = execFileSync(PG_DUMP, ['--data-only', scratch().url as string], { encoding: 'utf8' });
      for (const value of ['forget.me@x.io', '5550001', '5550002']) assert.equal(sql.includes(value), false, `pg_dump holds ${value}`);
    }
  });

  it('events keep no erased value (ids and times only), and the erasure is an event: contact.erased', async () => {
    await identify(app(), { email: 'a@x.io', phoneNumber: '111' });
    await identify(app(), { email: 'b@x.io', phoneNumber: '222' });
    await identify(app(), { email: 'a@x.io', phoneNumber: '222' });
    assert.equal((await erase(app(), '/contacts/1')).statusCode, 200);
    const events = await scratch().db.query<{ type: string; email: string | null; phoneNumber: string | null; contactIds: number[] }>(
      `SELECT "type", "email", "phoneNumber", "contactIds" FROM "ContactEvent" ORDER BY "id"`,
    );
    assert.deepEqual(
      events.map((event) => [event.type, event.email, event.phoneNumber]),
      [
        ['customer.created', null, null],
        ['customer.created', null, null],
        // The merge named a@x.io (erased with contact 1) and 222 (contact 2's, which stays).
        ['customer.merged', null, '222'],
        ['contact.erased', null, null],
      ],
    );
    assert.deepEqual(events.at(-1)?.contactIds, [1]);
  });

  it('GET /customers/{id}/export: every live row of the customer, why each belongs, and its whole history', async () => {
    await identify(app(), { email: 'a@x.io', phoneNumber: '111' });
    await identify(app(), { email: 'b@x.io', phoneNumber: '111' });
    const response = await app().inject({ method: 'GET', url: '/customers/2/export' });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.deepEqual(
      body.customer.contacts.map((contact: { id: number }) => contact.id),
      [1, 2],
    );
    assert.deepEqual(
      body.history.events.map((event: { type: string }) => event.type),
      ['customer.created', 'customer.updated'],
    );
    assert.equal(body.history.recorded, true);
  });

  it('answers 404 for a contact that is not live (erased twice, or never there) and 400 for an id that is not one', async () => {
    await identify(app(), { email: 'a@x.io' });
    assert.equal((await erase(app(), '/contacts/1')).statusCode, 200);
    assertError(await erase(app(), '/contacts/1'), 404, 'NOT_FOUND');
    assertError(await erase(app(), '/customers/77'), 404, 'NOT_FOUND');
    assertError(await erase(app(), '/contacts/abc'), 400, 'INVALID_CONTACT_ID');
    assertError(await app().inject({ method: 'GET', url: '/customers/77/export' }), 404, 'NOT_FOUND');
  });

  it('is admin-only: 403 ADMIN_DISABLED without admin keys, 401 without the right one', async () => {
    const services = createServices(scratch().db, DEFAULT_GOVERNANCE);
    const closed = await buildInProcessApp({ db: scratch().db, ...services, responseFormat: 'customer', logLevel: 'silent' });
    const keyed = await buildInProcessApp({
      db: scratch().db,
      ...services,
      responseFormat: 'customer',
      logLevel: 'silent',
      http: { adminApiKeys: [ADMIN_KEY] },
    });
    try {
      await identify(closed, { email: 'a@x.io' });
      assertError(await erase(closed, '/contacts/1'), 403, 'ADMIN_DISABLED');
      assertError(await closed.inject({ method: 'GET', url: '/customers/1/export' }), 403, 'ADMIN_DISABLED');
      assertError(await erase(keyed, '/contacts/1'), 401, 'UNAUTHORIZED');
      const allowed = await keyed.inject({ method: 'DELETE', url: '/contacts/1', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.equal(allowed.statusCode, 200, allowed.body);
    } finally {
      await closed.close();
      await keyed.close();
    }
  });
});

const PG_DUMP = '/usr/lib/postgresql/15/bin/pg_dump';

it('identity-service erase --email erases every row holding it and prints ids only; a bad or missing target exits 2 or 1', async () => {
  const database = await cliDatabase((db) =>
    insertRows(db, [
      { id: 1, email: 'gone@x.io', phone: '111' },
      { id: 2, email: 'gone@x.io', phone: '222', linkedId: 1 },
      { id: 3, email: 'kept@x.io', phone: '333' },
    ]),
  );
  const cli = (...args: string[]) => runCli(args, { ...database.env, USER: 'ops' });
  try {
    const erased = await cli('erase', '--email', ' Gone@X.io ');
    assert.equal(erased.status, 0, erased.stderr);
    assert.equal(erased.stdout, 'erased 2 contact(s): 1, 2\nnothing left of the customer(s)\n');
    assert.doesNotMatch(erased.stdout + erased.stderr, /gone@x\.io/i);
    const again = await cli('erase', '--email', 'gone@x.io');
    assert.equal(again.status, 1);
    const both = await cli('erase', '--email', 'kept@x.io', '--contact', '3');
    assert.equal(both.status, 2);
    const check = await cli('check');
    assert.equal(check.status, 0, check.stdout);
  } finally {
    await database.dispose();
  }
});
