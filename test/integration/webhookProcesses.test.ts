/**
 * Webhooks from real service processes on one PostgreSQL: two processes deliver each event once
 * (leases), and a process killed with SIGKILL in the middle of deliveries under load loses no
 * event — the next process takes over the endpoint when the lease runs out (duplicates allowed,
 * receivers drop them by webhook-id). Each case is bounded to seconds; the file is a load suite
 * (test/run.ts runs it alone).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openScratchPostgres, postgresUrl, type ScratchDatabase } from '../support/databases.js';
import { resetDelivery } from '../support/delivery.js';
import { startService, type ServiceProcess } from '../support/serviceProcess.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

const SECRET = 'whsec_' + Buffer.from('a test secret of thirty-two bytes').toString('base64');

describe('webhooks from several service processes [PostgreSQL]', { skip: postgresUrl ? false : 'needs PostgreSQL' }, () => {
  let scratch: ScratchDatabase;
  let receiver: WebhookReceiver;
  let running: ServiceProcess[] = [];

  before(async () => {
    scratch = await openScratchPostgres(postgresUrl as string);
  });
  after(async () => {
    await Promise.all(running.map((service) => service.stop('SIGKILL')));
    await receiver?.close();
    await scratch?.dispose();
  });
  beforeEach(async () => {
    await Promise.all(running.map((service) => service.stop()));
    running = [];
    await scratch.reset();
    await resetDelivery(scratch.db);
    await receiver?.close();
    receiver = await startWebhookReceiver({ delayMs: 5 });
  });

  async function start(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await startService({
      DATABASE_URL: scratch.url as string,
      DB_POOL_SIZE: '5',
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_LEASE_MS: '2000',
      WEBHOOK_BACKOFF_BASE_MS: '50',
      WEBHOOK_BACKOFF_CAP_MS: '200',
      ...env,
    });
    running.push(service);
    return service;
  }

  /** /identify traffic for `ms`, `concurrency` at a time, across `services`; counts the answers by status. */
  async function drive(services: () => ServiceProcess[], ms: number, concurrency = 6): Promise<Map<number | string, number>> {
    const statuses = new Map<number | string, number>();
    const deadline = Date.now() + ms;
    let n = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < deadline) {
          const i = n++;
          const list = services();
          const service = list[i % list.length] as ServiceProcess;
          // Every third request extends an earlier customer: created, updated and merged events.
          const body =
            i % 3 === 2 ? { email: `p${i - 2}@x.io`, phoneNumber: `9000${i}` } : { email: `p${i}@x.io`, phoneNumber: `800${i % 40}` };
          const status = await fetch(`${service.baseUrl}/identify`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }).then(
            (response) => response.arrayBuffer().then(() => response.status),
            () => 'refused',
          );
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 'refused') await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );
    return statuses;
  }

  const loggedIds = async () =>
    (await scratch.db.query<{ id: string }>('SELECT e."id"::text AS "id" FROM "ContactEvent" AS e ORDER BY e."id"')).map((row) => row.id);
  const receivedIds = () => receiver.accepted().map((event) => event.id);

  it('two processes deliver every event exactly once, in id order, in normal operation', async () => {
    const services = [await start(), await start()];
    const statuses = await drive(() => services, 2_000);
    assert.deepEqual([...statuses.keys()], [200], JSON.stringify([...statuses]));
    const ids = await loggedIds();
    assert.ok(ids.length > 50, `${ids.length} events`);
    await receiver.waitFor(() => receivedIds().length >= ids.length, 20_000, `${ids.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(receivedIds(), ids, 'each once, in order');
    const counts = await Promise.all(
      services.map(async (service) => deliveredCount(await (await fetch(`${service.baseUrl}/metrics`)).text())),
    );
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      ids.length,
      `delivered by the two processes: ${counts.join(' + ')}`,
    );
  });

  it('loses no committed event when a process is killed with SIGKILL in the middle of deliveries under load; the next one takes over', async () => {
    let services = [await start()];
    const traffic = drive(() => services, 4_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.ok(receiver.requests.length > 0, 'deliveries were under way');
    await running[0]?.stop('SIGKILL');
    const successor = await start();
    services = [successor];
    const statuses = await traffic;
    assert.ok((statuses.get(200) ?? 0) > 50, JSON.stringify([...statuses]));
    const ids = await loggedIds();
    await receiver.waitFor(() => new Set(receivedIds()).size >= ids.length, 20_000, `all ${ids.length} events`);
    const received = new Set(receivedIds());
    assert.deepEqual(
      ids.filter((id) => !received.has(id)),
      [],
      'none missing',
    );
    const order = receivedIds().map(BigInt);
    const firstOfEach = [...new Set(order)];
    assert.deepEqual(
      firstOfEach,
      [...firstOfEach].sort((a, b) => (a < b ? -1 : 1)),
      'first deliveries in id order',
    );
    // What can repeat is what was in flight when the process died: a few events, not the log.
    assert.ok(order.length - received.size < 100, `${order.length - received.size} duplicates`);
  });
});

function deliveredCount(metrics: string): number {
  return Number(/^identity_webhook_deliveries_total\{outcome="delivered"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
}
