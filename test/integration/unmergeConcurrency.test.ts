/**
 * An unmerge racing checkouts of the same customer on two service processes, on one PostgreSQL
 * database. Whatever the interleaving: the unmerge succeeds (requests cannot make a row that holds
 * a value of each side), every checkout is answered, the table's invariants hold, the two sides end
 * as two customers, and from then on a checkout carrying both sides' identifiers joins nothing —
 * on either process, whose copy of the separations was current or was refreshed by the version
 * check of its own statements.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { checkInvariants, totalViolations } from '../../src/db/invariants.js';
import { openScratchPostgres, postgresUrl, type ScratchDatabase } from '../support/databases.js';
import { startService, type ServiceProcess } from '../support/serviceProcess.js';

const SEED = Number(process.env.CONCURRENCY_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Body {
  email?: string;
  phoneNumber?: string;
}

describe('an unmerge racing checkouts on two processes [PostgreSQL]', { skip: postgresUrl ? false : 'needs PostgreSQL' }, () => {
  let scratch: ScratchDatabase;
  let services: ServiceProcess[] = [];
  let sent = 0;

  before(async () => {
    scratch = await openScratchPostgres(postgresUrl as string);
    const env = {
      DATABASE_URL: scratch.url as string,
      DB_POOL_SIZE: '10',
      DB_POOL_WAIT_MS: '60000',
      OVERLOAD_MAX_WAIT_MS: '0',
      ADMIN_API_OPEN: 'true',
    };
    services = await Promise.all([startService(env), startService(env)]);
  });
  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await scratch?.dispose();
  });

  async function call(path: string, body: object): Promise<{ status: number; json: Record<string, unknown> }> {
    const service = services[sent++ % services.length] as ServiceProcess;
    const response = await fetch(`${service.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }
  const primaryOf = (answer: { json: Record<string, unknown> }) => (answer.json.customer as { primaryContactId: number }).primaryContactId;

  it(`the unmerge and 120 checkouts of both sides race; invariants hold and the sides stay apart afterwards (seed ${SEED})`, async () => {
    // George's side (1: ga@, 100) and Biff's (2: gb@, 200), merged by a checkout with ga@ and 200.
    for (const body of [
      { email: 'ga@x.io', phoneNumber: '100' },
      { email: 'gb@x.io', phoneNumber: '200' },
      { email: 'ga@x.io', phoneNumber: '200' },
    ]) {
      assert.equal((await call('/identify', body)).status, 200);
    }
    const [merge] = await scratch.db.query<{ id: string }>(`SELECT "id"::text FROM "ContactEvent" WHERE "type" = 'customer.merged'`);
    assert.ok(merge);

    const emails = ['ga@x.io', 'gb@x.io', ...Array.from({ length: 4 }, (_, i) => `n${i}@x.io`)];
    const phones = ['100', '200', ...Array.from({ length: 4 }, (_, i) => `30${i}`)];
    const body = fc.oneof(
      fc.record({ email: fc.constantFrom(...emails), phoneNumber: fc.constantFrom(...phones) }),
      fc.record({ email: fc.constantFrom(...emails) }),
      fc.record({ phoneNumber: fc.constantFrom(...phones) }),
    );
    const [bodies] = fc.sample(fc.array(body, { minLength: 120, maxLength: 120 }), { seed: SEED, numRuns: 1 }) as [Body[]];

    // The unmerge goes out in the middle of the first burst.
    const answers = await Promise.all([
      ...bodies.slice(0, 60).map((b) => call('/identify', b)),
      call('/admin/customers/1/unmerge', { mergeEventId: merge.id }),
      ...bodies.slice(60).map((b) => call('/identify', b)),
    ]);
    assert.deepEqual(
      answers.filter((answer) => answer.status !== 200).map((answer) => `${answer.status} ${JSON.stringify(answer.json)}`),
      [],
    );

    const results = await checkInvariants(scratch.db);
    assert.equal(totalViolations(results), 0, JSON.stringify(results.filter((result) => result.count > 0)));

    // R1: every identifier of every answered checkout is stored in a live row (the separated phone on its own side).
    const rows = await scratch.db.query<{ email: string | null; phoneNumber: string | null }>(
      `SELECT "email", "phoneNumber" FROM "Contact" WHERE "deletedAt" IS NULL`,
    );
    for (const b of bodies) {
      if (b.email)
        assert.ok(
          rows.some((row) => row.email === b.email),
          `email ${b.email} is stored`,
        );
      if (b.phoneNumber)
        assert.ok(
          rows.some((row) => row.phoneNumber === b.phoneNumber),
          `phone ${b.phoneNumber} is stored`,
        );
    }

    // The sides are two customers, and a checkout carrying both joins nothing, on either process.
    const george = primaryOf(await call('/identify', { email: 'ga@x.io' }));
    const biff = primaryOf(await call('/identify', { email: 'gb@x.io' }));
    assert.notEqual(george, biff);
    for (let i = 0; i < 2; i++) {
      const bridge = await call('/identify', { email: 'ga@x.io', phoneNumber: '200' });
      assert.equal(primaryOf(bridge), george);
      assert.deepEqual(bridge.json.ignored, ['phoneNumber']);
    }
    assert.equal(primaryOf(await call('/identify', { phoneNumber: '200' })), biff);
    assert.equal(primaryOf(await call('/identify', { phoneNumber: '100' })), george);
    assert.equal(totalViolations(await checkInvariants(scratch.db)), 0);
  });
});
