/**
 * Webhooks, one named case per rule, on each database: the service as it runs (the app over the
 * scratch database, the deliverer of src/main.ts over the same database) and a real receiver on
 * 127.0.0.1 that can fail, stall or refuse. And, on PostgreSQL, transactions that commit out of
 * order: the pull API and the deliverer never skip the one that commits last.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { deliveryStore } from '../../src/db/deliveryStore.js';
import { startDeliverer, type Deliverer, type DeliveryOutcome, type DeliverySettings } from '../../src/delivery/deliverer.js';
import { postIdentify, useTestApp } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';
import { documentedVerifier, FAST_DELIVERY, resetDelivery } from '../support/delivery.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

interface Added {
  webhook: { id: number };
  secret: string;
}

describeOnEachDatabase('webhooks', (scratch) => {
  const app = useTestApp(scratch);
  let receiver: WebhookReceiver;
  let deliverer: Deliverer | null = null;
  let outcomes: DeliveryOutcome[] = [];

  before(async () => {
    receiver = await startWebhookReceiver();
  });
  after(() => receiver.close());
  beforeEach(async () => {
    await resetDelivery(scratch().db);
    receiver.requests.length = 0;
    await receiver.setMode('ok');
    outcomes = [];
  });
  afterEach(async () => {
    await deliverer?.stop();
    deliverer = null;
  });

  function deliver(settings: Partial<DeliverySettings> = {}): Deliverer {
    deliverer = startDeliverer(deliveryStore(scratch().db), {
      settings: { ...FAST_DELIVERY, ...settings },
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    return deliverer;
  }

  async function addWebhook(url = receiver.url): Promise<Added> {
    const response = await app().inject({ method: 'POST', url: '/admin/webhooks', payload: { url } });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as Added;
  }

  async function loggedIds(): Promise<string[]> {
    return (await scratch().db.query<{ id: string }>('SELECT e."id"::text AS "id" FROM "ContactEvent" AS e ORDER BY e."id"')).map(
      (row) => row.id,
    );
  }

  const acceptedIds = () => receiver.accepted().map((event) => event.id);

  /** `read()` until `done` holds of it (at most 5 s), then what it read last. */
  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function waitForAll(timeoutMs = 10_000): Promise<string[]> {
    const ids = await loggedIds();
    await receiver.waitFor(() => acceptedIds().length >= ids.length, timeoutMs, `${ids.length} events`);
    return ids;
  }

  it('delivers every committed change once, in id order, signed so that the documented verifier accepts it', async () => {
    const { secret } = await addWebhook();
    deliver();
    await postIdentify(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '919191' });
    await postIdentify(app(), { email: 'biff@hillvalley.edu', phoneNumber: '717171' });
    await postIdentify(app(), { email: 'george@hillvalley.edu', phoneNumber: '717171' });
    await blockAndUnblock(app(), '123456');
    const ids = await waitForAll();
    assert.ok(ids.length >= 9, `events: ${ids.length}`);
    assert.deepEqual(acceptedIds(), ids, 'each event once, in id order');
    const verify = await documentedVerifier();
    for (const request of receiver.requests) {
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['webhook-id'], JSON.parse(request.body).id);
      assert.ok(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000) < 60, "the attempt's time");
      assert.match(String(request.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]{43}=$/);
      assert.equal(verify(secret, request.headers, request.body), true, 'the documented verifier accepts it');
      assert.equal(verify(secret, request.headers, `${request.body} `), false, 'and refuses a changed body');
    }
    assert.equal(
      verify(
        'whsec_' + Buffer.from('another secret, 32 bytes long....').toString('base64'),
        receiver.requests[0]!.headers,
        receiver.requests[0]!.body,
      ),
      false,
    );
    const types = receiver.accepted().map((event) => event.type);
    for (const type of [
      'customer.created',
      'customer.updated',
      'customer.merged',
      'identifier.blocked',
      'customer.split',
      'identifier.unblocked',
    ])
      assert.ok(types.includes(type), `a ${type} event was delivered`);
    // The deliverer records an outcome once the receiver's answer reaches it, after the receiver counted the event.
    await receiver.waitFor(() => outcomes.length >= ids.length, 10_000, `${ids.length} outcomes`);
    assert.deepEqual(
      outcomes,
      ids.map(() => 'delivered'),
    );
  });

  it("keeps each customer's events in order when requests for many customers race", async () => {
    await addWebhook();
    deliver();
    const bodies = Array.from({ length: 6 }, (_, customer) =>
      Array.from({ length: 4 }, (_, n) => ({ email: `c${customer}@x.io`, phoneNumber: `${customer}00${n}` })),
    ).flat();
    await Promise.all(bodies.map((body) => postIdentify(app(), body)));
    await waitForAll();
    const byCustomer = new Map<number, string[]>();
    for (const event of receiver.accepted()) {
      const customer = (event.customerIds as number[])[0] as number;
      byCustomer.set(customer, [...(byCustomer.get(customer) ?? []), event.id]);
    }
    const logged = await scratch().db.query<{ customer: number; ids: string[] }>(
      `SELECT "customerIds"[1] AS "customer", array_agg("id"::text ORDER BY "id") AS "ids" FROM "ContactEvent" GROUP BY 1`,
    );
    assert.equal(byCustomer.size, 6);
    for (const { customer, ids } of logged) assert.deepEqual(byCustomer.get(customer), ids, `customer ${customer}`);
  });

  it('retries a failed event with backoff, sends nothing after it meanwhile, and delivers all in order once the receiver recovers', async () => {
    await addWebhook();
    await receiver.setMode('fail');
    deliver({ backoffBaseMs: 40, backoffCapMs: 160 });
    await postIdentify(app(), { email: 'doc@hillvalley.edu' });
    await postIdentify(app(), { email: 'marty@hillvalley.edu' });
    await receiver.waitFor(() => receiver.requests.length >= 5, 10_000, 'five attempts');
    const [first] = await loggedIds();
    assert.deepEqual(new Set(receiver.requests.map((r) => r.headers['webhook-id'])), new Set([first]), 'only the first event is tried');
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - (receiver.requests[i] as { at: number }).at);
    // Full jitter: a random wait up to min(cap, base × 2^(n−1)); plus the poll and the attempt itself.
    for (const gap of gaps) assert.ok(gap <= 160 + 1_000, `gap ${gap} ms`);
    const [endpoint] = (await app().inject({ method: 'GET', url: '/admin/webhooks' })).json().webhooks;
    assert.equal(endpoint.retrying.eventId, first);
    assert.ok(endpoint.retrying.attempts >= 4, `attempts: ${endpoint.retrying.attempts}`);
    assert.equal(endpoint.retrying.lastError, 'HTTP 500', 'a status, never the body');
    assert.equal(endpoint.cursor, '0');
    await receiver.setMode('ok');
    const ids = await waitForAll();
    assert.deepEqual(acceptedIds(), ids);
    // The endpoint's state is saved after its deliveries (every 200 ms at most), not with each one.
    const recovered = await eventually(
      async () => (await app().inject({ method: 'GET', url: '/admin/webhooks' })).json().webhooks[0],
      (endpoint) => endpoint.retrying === null,
    );
    assert.equal(recovered.retrying, null);
    assert.equal(recovered.failingSince, null);
    assert.ok(outcomes.filter((o) => o === 'failed').length >= 4, 'failed attempts counted');
  });

  it('counts a stalled receiver as a failure after the timeout, and a refused connection too, and retries both', async () => {
    await addWebhook();
    await receiver.setMode('stall');
    deliver({ timeoutMs: 200, backoffBaseMs: 20, backoffCapMs: 40 });
    await postIdentify(app(), { email: 'doc@hillvalley.edu' });
    await receiver.waitFor(() => receiver.requests.length >= 2, 10_000, 'two stalled attempts');
    const webhook = async () => (await app().inject({ method: 'GET', url: '/admin/webhooks' })).json().webhooks[0];
    assert.equal((await webhook()).retrying.lastError, 'timeout');
    await receiver.setMode('refuse');
    const attempts = () => outcomes.filter((o) => o === 'failed').length;
    const before = attempts();
    await receiver.waitFor(() => attempts() >= before + 2, 10_000, 'two refused attempts');
    assert.equal((await webhook()).retrying.lastError, 'ECONNREFUSED');
    await receiver.setMode('ok');
    const ids = await waitForAll();
    assert.deepEqual(acceptedIds(), ids);
  });

  it('dead-letters an event the receiver refuses for the whole retry window, moves on, and redelivers it through the admin API before newer events', async () => {
    const { webhook } = await addWebhook();
    await receiver.setMode('fail');
    deliver({ retryWindowMs: 300, backoffBaseMs: 30, backoffCapMs: 60 });
    await postIdentify(app(), { email: 'doc@hillvalley.edu' });
    const [dead] = await loggedIds();
    const deadLetters = async () => (await app().inject({ method: 'GET', url: `/admin/webhooks/${webhook.id}/dead-letters` })).json();
    await receiver.waitFor(() => outcomes.includes('dead'), 10_000, 'a dead letter');
    const listed = await deadLetters();
    assert.equal(listed.deadLetters.length, 1);
    assert.equal(listed.deadLetters[0].eventId, dead);
    assert.equal(listed.deadLetters[0].lastError, 'HTTP 500');
    assert.ok(listed.deadLetters[0].attempts >= 2, 'retried through the window');
    assert.equal(listed.deadLetters[0].redeliver, false);
    assert.equal(listed.next, null);

    // The receiver is back: the next event goes through.
    await receiver.setMode('ok');
    await postIdentify(app(), { email: 'marty@hillvalley.edu' });
    const second = (await loggedIds())[1] as string;
    // Until the deliverer has the answer too: stopped while the answer is on its way, it would send
    // the event again (at-least-once), as it did once in CI.
    await receiver.waitFor(() => acceptedIds().includes(second) && outcomes.includes('delivered'), 10_000, 'the next event');
    assert.deepEqual(acceptedIds(), [second]);

    // Redelivery asked for while the deliverer is down, then a newer event: the dead letter goes first.
    await deliverer?.stop();
    const redeliver = await app().inject({ method: 'POST', url: `/admin/webhooks/${webhook.id}/dead-letters/${dead}/redeliver` });
    assert.equal(redeliver.statusCode, 202, redeliver.body);
    assert.equal(redeliver.json().deadLetter.redeliver, true);
    await postIdentify(app(), { email: 'jennifer@hillvalley.edu' });
    const third = (await loggedIds())[2] as string;
    deliver();
    await receiver.waitFor(() => acceptedIds().length >= 3, 10_000, 'the redelivery and the newer event');
    assert.deepEqual(acceptedIds(), [second, dead, third]);
    assert.deepEqual((await deadLetters()).deadLetters, [], 'a redelivered dead letter is gone');
  });

  it('once an endpoint has failed for longer than the window, dead-letters each further event after one attempt until one succeeds', async () => {
    const { webhook } = await addWebhook();
    await receiver.setMode('fail');
    deliver({ retryWindowMs: 200, backoffBaseMs: 30, backoffCapMs: 60 });
    for (const email of ['a@x.io', 'b@x.io', 'c@x.io']) await postIdentify(app(), { email });
    await receiver.waitFor(() => outcomes.filter((o) => o === 'dead').length >= 3, 10_000, 'three dead letters');
    const ids = await loggedIds();
    const attemptsOf = (id: string) => receiver.requests.filter((r) => r.headers['webhook-id'] === id).length;
    assert.ok(attemptsOf(ids[0] as string) >= 2, 'the first event is retried through the window');
    assert.equal(attemptsOf(ids[2] as string), 1, 'a later one gets one attempt');
    const listed = (await app().inject({ method: 'GET', url: `/admin/webhooks/${webhook.id}/dead-letters?limit=2` })).json();
    assert.deepEqual(
      listed.deadLetters.map((d: { eventId: string }) => d.eventId),
      ids.slice(0, 2),
    );
    assert.equal(listed.next, ids[1]);
  });

  it('delivers nothing to an endpoint of events final before it was added', async () => {
    await postIdentify(app(), { email: 'doc@hillvalley.edu' });
    const final = async () => (await app().inject({ method: 'GET', url: '/events' })).json().safeThrough;
    for (let i = 0; i < 100 && (await final()) !== '1'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await addWebhook();
    deliver();
    await postIdentify(app(), { email: 'marty@hillvalley.edu' });
    const [, second] = await loggedIds();
    await receiver.waitFor(() => acceptedIds().length >= 1, 10_000, 'one event');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(acceptedIds(), [second]);
  });
});

/** A block of `phone` (splitting whoever it held together) and its unblock (joining them again). */
async function blockAndUnblock(app: FastifyInstance, phone: string): Promise<void> {
  const blocked = await app.inject({
    method: 'POST',
    url: '/admin/blocked',
    payload: { field: 'phoneNumber', value: phone, reason: 'test' },
  });
  assert.equal(blocked.statusCode, 201, blocked.body);
  const unblocked = await app.inject({ method: 'DELETE', url: `/admin/blocked/${blocked.json().rule.id}` });
  assert.equal(unblocked.statusCode, 200, unblocked.body);
}

describeOnEachDatabase('events that commit out of order', (scratch) => {
  const app = useTestApp(scratch);
  beforeEach(() => resetDelivery(scratch().db));

  const page = async (after = '0') => (await app().inject({ method: 'GET', url: `/events?after=${after}` })).json();

  /** Raw transactions on connections of their own, as two service processes' writes would be. */
  async function openTransaction(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: scratch().url as string });
    await client.connect();
    await client.query('BEGIN');
    return client;
  }
  const insertEvent = async (client: pg.Client, customer: number) =>
    (
      await client.query<{ id: string }>(
        `INSERT INTO "ContactEvent" ("type", "customerIds", "contactIds") VALUES ('customer.created', ARRAY[$1::int], ARRAY[$1::int]) RETURNING "id"::text AS "id"`,
        [customer],
      )
    ).rows[0]?.id as string;

  it('never serves or delivers past an event whose transaction took its id first but commits last (a naive id cursor would skip it)', async (t) => {
    if (scratch().url === null) return t.skip('two connections need PostgreSQL');
    const receiver = await startWebhookReceiver();
    await app().inject({ method: 'POST', url: '/admin/webhooks', payload: { url: receiver.url } });
    const deliverer = startDeliverer(deliveryStore(scratch().db), { settings: FAST_DELIVERY });
    const a = await openTransaction();
    const b = await openTransaction();
    try {
      const idA = await insertEvent(a, 1);
      const idB = await insertEvent(b, 2);
      assert.ok(BigInt(idA) < BigInt(idB), 'A took its id first');
      await b.query('COMMIT');
      // What a naive reader sees now: B, not A. Its cursor would move to B and A would never be read.
      const visible = await scratch().db.query<{ id: string }>('SELECT "id"::text AS "id" FROM "ContactEvent" WHERE "id" > 0');
      assert.deepEqual(
        visible.map((row) => row.id),
        [idB],
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const held = await page();
      assert.deepEqual(held.events, [], 'neither A nor B is served while A may still commit');
      assert.ok(BigInt(held.safeThrough) < BigInt(idA), `safeThrough ${held.safeThrough} stays below A`);
      assert.equal(receiver.requests.length, 0, 'nor delivered');
      await a.query('COMMIT');
      await receiver.waitFor(() => receiver.accepted().length >= 2, 10_000, 'A and B');
      assert.deepEqual(
        receiver.accepted().map((event) => event.id),
        [idA, idB],
      );
      const served = await page();
      assert.deepEqual(
        served.events.map((event: { id: string }) => event.id),
        [idA, idB],
      );
    } finally {
      await Promise.all([a.end(), b.end()]);
      await deliverer.stop();
      await receiver.close();
    }
  });

  it('waits for a transaction that took its transaction id before an older one committed (where pg_snapshot_xmax would not)', async (t) => {
    if (scratch().url === null) return t.skip('two connections need PostgreSQL');
    const older = await openTransaction();
    const writer = await openTransaction();
    try {
      await older.query('SELECT txid_current()');
      const id = await insertEvent(writer, 1);
      await page(); // a tick: the next step is "events up to id, once every transaction before now has ended"
      await older.query('COMMIT');
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const served = await page();
        assert.deepEqual(served.events, []);
        assert.ok(BigInt(served.safeThrough) < BigInt(id), `safeThrough ${served.safeThrough} reached the open transaction's event ${id}`);
      }
      await writer.query('COMMIT');
      let served = await page();
      for (let i = 0; i < 20 && served.events.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        served = await page();
      }
      assert.deepEqual(
        served.events.map((event: { id: string }) => event.id),
        [id],
      );
    } finally {
      await Promise.all([older.end(), writer.end()]);
    }
  });

  it('serves an event of a transaction that rolled back never, and the ones around it', async () => {
    await postIdentify(app(), { email: 'doc@hillvalley.edu' });
    await scratch()
      .db.transaction(async (tx) => {
        await tx.query(`INSERT INTO "ContactEvent" ("type", "customerIds") VALUES ('customer.created', ARRAY[99])`);
        throw new Error('rolled back');
      })
      .catch(() => {});
    await postIdentify(app(), { email: 'marty@hillvalley.edu' });
    let served = await page();
    // On a shared PostgreSQL another database's transaction may hold the watermark back a moment.
    for (let i = 0; i < 100 && served.safeThrough !== '3'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      served = await page();
    }
    assert.deepEqual(
      served.events.map((event: { id: string }) => event.id),
      ['1', '3'],
    );
    assert.equal(served.safeThrough, '3');
  });
});
