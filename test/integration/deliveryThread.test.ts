/**
 * The webhook deliverer on its own thread (src/deliveryThread.ts), as `serve` runs it on
 * PostgreSQL: it delivers from its own pool, reports each outcome and warning to the main thread,
 * looks for work at once when woken, releases its leases when stopped, and is started again when
 * it dies.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Deliverer, DeliveryOutcome } from '../../src/delivery/deliverer.js';
import { startDeliveryThread, type DeliveryThreadOptions, type PostgresTarget } from '../../src/deliveryThread.js';
import { postIdentify, useTestApp } from '../support/app.js';
import { openScratchPostgres, postgresUrl, type ScratchDatabase } from '../support/databases.js';
import { FAST_DELIVERY, resetDelivery } from '../support/delivery.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

describe('the webhook deliverer on its own thread [PostgreSQL]', { skip: postgresUrl ? false : 'needs PostgreSQL' }, () => {
  let scratch: ScratchDatabase;
  let receiver: WebhookReceiver;
  let deliverer: Deliverer | null = null;
  let outcomes: DeliveryOutcome[] = [];
  let warnings: string[] = [];

  // Before useTestApp's own hook, which builds the app on the scratch database.
  before(async () => {
    scratch = await openScratchPostgres(postgresUrl as string);
    receiver = await startWebhookReceiver();
  });
  const app = useTestApp(() => scratch);
  after(async () => {
    await receiver?.close();
    await scratch?.dispose();
  });
  beforeEach(async () => {
    await scratch.reset();
    await resetDelivery(scratch.db);
    receiver.requests.length = 0;
    outcomes = [];
    warnings = [];
  });
  afterEach(async () => {
    await deliverer?.stop();
    deliverer = null;
  });

  const target = (): PostgresTarget => ({ kind: 'postgres', connectionString: scratch.url as string, poolSize: 10 });

  function deliver(options: Partial<DeliveryThreadOptions> = {}): Deliverer {
    deliverer = startDeliveryThread(target(), {
      settings: FAST_DELIVERY,
      onOutcome: (outcome) => outcomes.push(outcome),
      log: { warn: (_fields, message) => warnings.push(message) },
      ...options,
    });
    return deliverer;
  }

  async function addWebhook(): Promise<number> {
    const response = await app().inject({ method: 'POST', url: '/admin/webhooks', payload: { url: receiver.url } });
    assert.equal(response.statusCode, 201, response.body);
    return (response.json() as { webhook: { id: number } }).webhook.id;
  }

  async function loggedIds(): Promise<string[]> {
    const rows = await scratch.db.query<{ id: string }>('SELECT "id"::text AS "id" FROM "ContactEvent" ORDER BY "id"');
    return rows.map((row) => row.id);
  }

  const acceptedIds = () => receiver.accepted().map((event: { id: string }) => event.id);

  it('delivers every committed change once, in id order, and reports each outcome to the main thread', async () => {
    await addWebhook();
    deliver();
    await postIdentify(app(), { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' });
    await postIdentify(app(), { email: 'biff@hillvalley.edu', phoneNumber: '717171' });
    await postIdentify(app(), { email: 'mcfly@hillvalley.edu', phoneNumber: '717171' });
    const ids = await loggedIds();
    assert.ok(ids.length >= 4, `events: ${ids.length}`);
    await receiver.waitFor(() => acceptedIds().length >= ids.length, 10_000, `${ids.length} events`);
    assert.deepEqual(acceptedIds(), ids, 'each event once, in id order');
    // The thread reports an outcome after the receiver's answer reaches it: a message later still.
    await receiver.waitFor(() => outcomes.length >= ids.length, 10_000, `${ids.length} outcomes relayed`);
    assert.deepEqual(
      outcomes,
      ids.map(() => 'delivered'),
      'one outcome per delivery, relayed from the thread',
    );
    assert.deepEqual(warnings, []);
  });

  it('looks for an endpoint at once when woken, not at its next count', async () => {
    deliver({ settings: { ...FAST_DELIVERY, pollMs: 20 } });
    // The thread counts endpoints as it starts (none), then every 5 s unless woken: 2 s leaves a
    // slow start (tsx loads the entry) time to make its first count, and the next one is 3 s away.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await addWebhook();
    await postIdentify(app(), { email: 'doc@hillvalley.edu', phoneNumber: '885588' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.requests.length, 0, 'not woken: nothing sent before its next count');
    deliverer?.wake();
    await receiver.waitFor(() => acceptedIds().length === 1, 3_000, 'the event, once woken');
  });

  it('releases its leases and ends its thread when stopped, so another process takes over at once', async () => {
    const id = await addWebhook();
    deliver();
    await postIdentify(app(), { email: 'marty@hillvalley.edu', phoneNumber: '555' });
    await receiver.waitFor(() => acceptedIds().length === 1, 10_000, 'the event');
    await deliverer?.stop();
    deliverer = null;
    const [endpoint] = await scratch.db.query<{ free: boolean; cursor: string }>(
      `SELECT "leaseUntil" < now() AS "free", "cursor"::text AS "cursor" FROM "WebhookEndpoint" WHERE "id" = $1`,
      [id],
    );
    assert.equal(endpoint?.free, true, 'the lease is released');
    assert.equal(endpoint?.cursor, (await loggedIds()).at(-1), 'the cursor saved before it stopped');
  });

  it('ends a thread that does not stop when told, after its wait, and does not start it again', async () => {
    deliver({ entry: new URL('../support/stuckDeliveryThread.ts', import.meta.url), stopWaitMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stopping = Date.now();
    await deliverer?.stop();
    deliverer = null;
    assert.ok(Date.now() - stopping >= 250, 'it waited for the thread first');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(warnings, [], 'a thread ended by stop is no failure, and is not started again');
  });

  it('starts a thread that died again, waiting twice as long after each death in a row, and logs each', async () => {
    const restarts: unknown[] = [];
    deliver({
      entry: new URL('../support/failingDeliveryThread.ts', import.meta.url),
      restartMs: 50,
      log: {
        warn: (fields, message) => {
          warnings.push(message);
          restarts.push(fields);
        },
      },
    });
    const deadline = Date.now() + 15_000;
    while (warnings.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(warnings.slice(0, 3), Array(3).fill('webhook delivery thread failed'));
    assert.deepEqual(restarts.slice(0, 3), [
      { err: 'this delivery thread fails at start', restartInMs: 50 },
      { err: 'this delivery thread fails at start', restartInMs: 100 },
      { err: 'this delivery thread fails at start', restartInMs: 200 },
    ]);
    await deliverer?.stop();
    deliverer = null;
    const logged = warnings.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(warnings.length, logged, 'not started again once stopped');
  });

  it('starts the count of deaths again for a thread that ran long enough before it died', async () => {
    const restarts: unknown[] = [];
    // stableMs 0: every thread "ran long enough", so each death is a first one and waits restartMs.
    deliver({
      entry: new URL('../support/failingDeliveryThread.ts', import.meta.url),
      restartMs: 50,
      stableMs: 0,
      log: { warn: (fields) => restarts.push(fields) },
    });
    const deadline = Date.now() + 15_000;
    while (restarts.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(restarts.slice(0, 3), Array(3).fill({ err: 'this delivery thread fails at start', restartInMs: 50 }));
  });
});
