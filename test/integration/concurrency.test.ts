/**
 * Racing requests against two service processes on one PostgreSQL database. Whatever the
 * interleaving, the table must end as some one-at-a-time order would leave it (I1–I5), and no
 * request may fail. The same races run on databases whose default isolation is not READ
 * COMMITTED, and through PgBouncer in transaction mode: the service's correctness must not
 * depend on the server's settings or on keeping a session.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { checkInvariants, totalViolations } from '../../src/db/invariants.js';
import { openScratchPostgres, postgresUrl, type IsolationLevel, type ScratchDatabase } from '../support/databases.js';
import { pgbouncerSkipReason as pgBouncerSkipReason, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { startService, type ServiceProcess } from '../support/serviceProcess.js';

/** Random bursts draw from this seed; a failure prints it, and CONCURRENCY_SEED=… replays it. */
const SEED = Number(process.env.CONCURRENCY_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Body {
  email?: string;
  phoneNumber?: string;
}
interface Answer {
  status: number;
  code?: string;
  ignored?: string[];
  customer: { primaryContactId: number; emails: string[]; phoneNumbers: string[]; secondaryContactIds: number[] };
}

interface Setting {
  name: string;
  defaultIsolation?: IsolationLevel;
  /** The services reach PostgreSQL through PgBouncer in transaction mode. */
  pgbouncer?: boolean;
}

const SETTINGS: Setting[] = [
  { name: 'default settings' },
  { name: 'default isolation repeatable read', defaultIsolation: 'repeatable read' },
  { name: 'default isolation serializable', defaultIsolation: 'serializable' },
  { name: 'through PgBouncer in transaction mode', pgbouncer: true },
];

for (const setting of SETTINGS) describeRaces(setting);

function describeRaces({ name, defaultIsolation, pgbouncer }: Setting): void {
  const skip = !postgresUrl ? 'needs PostgreSQL' : pgbouncer ? pgBouncerSkipReason() : false;
  describe(`concurrent requests on several processes, ${name} [PostgreSQL]`, { skip }, () => {
    let scratch: ScratchDatabase;
    let bouncer: PgBouncer | undefined;
    let services: ServiceProcess[] = [];
    let serviceEnv: Record<string, string> = {};
    let sent = 0;

    before(async () => {
      scratch = await openScratchPostgres(postgresUrl as string, defaultIsolation ? { defaultIsolation } : {});
      // As many server connections as the two services have clients: PgBouncer is not what is tested.
      if (pgbouncer) bouncer = await startPgBouncer({ upstreamUrl: scratch.url as string, poolMode: 'transaction', poolSize: 20 });
      // The suite checks outcomes, not latency: a long pool wait keeps a slow or busy CI machine
      // from turning a correct (serialised) burst into 503 DATABASE_BUSY answers.
      const pool = { DB_POOL_SIZE: '10', DB_POOL_WAIT_MS: '60000', OVERLOAD_MAX_WAIT_MS: '0', ADMIN_API_OPEN: 'true' };
      serviceEnv = bouncer
        ? { DATABASE_URL: bouncer.url, DB_TRANSACTION_POOLER: 'true', ...pool }
        : { DATABASE_URL: scratch.url as string, ...pool };
      services = await Promise.all([startService(serviceEnv), startService(serviceEnv)]);
    });
    after(async () => {
      await Promise.all(services.map((service) => service.stop()));
      await bouncer?.stop();
      await scratch?.dispose();
    });
    beforeEach(() => scratch.reset());

    /** Sends one request to the next process in turn. */
    async function identify(body: Body, on: ServiceProcess[] = services): Promise<Answer> {
      const service = on[sent++ % on.length] as ServiceProcess;
      const response = await fetch(`${service.baseUrl}/identify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as { customer: Answer['customer']; ignored?: string[]; error?: { code: string } };
      return {
        status: response.status,
        customer: json.customer,
        ...(json.ignored ? { ignored: json.ignored } : {}),
        ...(json.error ? { code: json.error.code } : {}),
      };
    }

    async function burst(bodies: Body[], on: ServiceProcess[] = services): Promise<Answer[]> {
      const answers = await Promise.all(bodies.map((body) => identify(body, on)));
      assert.deepEqual(
        answers.filter((answer) => answer.status !== 200).map((answer) => `${answer.status} ${answer.code}`),
        [],
      );
      return answers;
    }

    /** An admin call to the next process in turn. */
    async function admin(method: string, path: string, body?: object): Promise<{ status: number; json: unknown }> {
      const service = services[sent++ % services.length] as ServiceProcess;
      const response = await fetch(`${service.baseUrl}${path}`, {
        method,
        ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, json: await response.json() };
    }

    /** `except`: invariants a test's changes may leave broken by design (an erasure can leave a row redundant: I4). */
    async function assertInvariants(except: readonly string[] = []): Promise<void> {
      const results = (await checkInvariants(scratch.db)).filter((result) => !except.includes(result.invariant));
      assert.equal(totalViolations(results), 0, JSON.stringify(results.filter((result) => result.count > 0)));
    }

    /** R1: every identifier of every answered request is stored in a live row. */
    async function assertStored(bodies: Body[]): Promise<void> {
      const rows = await scratch.db.query<{ email: string | null; phoneNumber: string | null }>(
        `SELECT "email", "phoneNumber" FROM "Contact" WHERE "deletedAt" IS NULL`,
      );
      const emails = new Set(rows.map((row) => row.email));
      const phones = new Set(rows.map((row) => row.phoneNumber));
      for (const body of bodies) {
        if (body.email) assert.ok(emails.has(body.email), `email ${body.email} is not stored`);
        if (body.phoneNumber) assert.ok(phones.has(body.phoneNumber), `phone ${body.phoneNumber} is not stored`);
      }
    }

    it('50 first orders sharing one new phone make one customer with 50 rows, answered as if one at a time', async () => {
      // Several rounds, each a fresh phone, so that the race is actually run more than once.
      for (let round = 0; round < 4; round++) {
        const phoneNumber = `700000${round}`;
        const bodies = Array.from({ length: 50 }, (_, i) => ({ email: `racer${round}-${i}@x.io`, phoneNumber }));
        const answers = await burst(bodies);

        const rows = await scratch.db.query<{ id: number; linkedId: number | null }>(
          `SELECT "id", "linkedId" FROM "Contact" WHERE "phoneNumber" = $1`,
          [phoneNumber],
        );
        assert.equal(rows.length, 50);
        const primaries = rows.filter((row) => row.linkedId === null).map((row) => row.id);
        assert.equal(primaries.length, 1);
        assert.deepEqual(new Set(answers.map((answer) => answer.customer.primaryContactId)), new Set(primaries));
        // One at a time, the k-th request sees k rows: the answers' sizes are exactly 1..50.
        const sizes = answers.map((answer) => answer.customer.secondaryContactIds.length + 1).sort((a, b) => a - b);
        assert.deepEqual(
          sizes,
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
        const final = await identify({ phoneNumber });
        assert.deepEqual([...final.customer.emails].sort(), bodies.map((body) => body.email).sort());
        await assertStored(bodies);
      }
      await assertInvariants();
    });

    /** `identity_db_retries_total` by reason, summed over both processes. */
    async function retries(): Promise<Record<string, number>> {
      const counts: Record<string, number> = {};
      for (const service of services) {
        const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
        for (const [, reason, value] of text.matchAll(/^identity_db_retries_total\{reason="([a-z_]+)"\} (\d+)/gm)) {
          counts[reason as string] = (counts[reason as string] ?? 0) + Number(value);
        }
      }
      return counts;
    }

    it(`racing merges over 6 emails and 6 phones, 100 at once, all succeed without a single deadlock (seed ${SEED})`, async () => {
      const emails = Array.from({ length: 6 }, (_, i) => `d${i}@x.io`);
      const phones = Array.from({ length: 6 }, (_, i) => `60000${i}`);
      const body = fc.record({ email: fc.constantFrom(...emails), phoneNumber: fc.constantFrom(...phones) });
      const deadlocksBefore = (await retries()).deadlock ?? 0;
      for (let round = 0; round < 3; round++) {
        const [bodies] = fc.sample(fc.array(body, { minLength: 100, maxLength: 100 }), { seed: SEED + round, numRuns: 1 }) as [Body[]];
        await burst(bodies);
        await assertStored(bodies);
      }
      await assertInvariants();
      const after = await retries();
      // The bursts race (stale plans are retried), so the metric is there and read: 0 deadlocks means something.
      assert.ok((after.stale_plan ?? 0) > 0, JSON.stringify(after));
      assert.equal(after.deadlock ?? 0, deadlocksBefore, 'locks are taken in one global order: PostgreSQL never had to break a cycle');
    });

    it('overlapping bridges between 30 customers merge them all under the oldest, without chains', async () => {
      const customers = Array.from({ length: 30 }, (_, i) => ({ email: `c${i}@x.io`, phoneNumber: `9000${i}` }));
      for (const body of customers) await identify(body);
      const bridges = customers.slice(0, -1).map((body, i) => ({ email: body.email, phoneNumber: customers[i + 1]?.phoneNumber }));
      const [shuffled] = fc.sample(fc.shuffledSubarray(bridges, { minLength: bridges.length, maxLength: bridges.length }), {
        seed: SEED,
        numRuns: 1,
      });
      await burst(shuffled as Body[]);

      const rows = await scratch.db.query<{ id: number; linkedId: number | null }>(`SELECT "id", "linkedId" FROM "Contact" ORDER BY "id"`);
      assert.equal(rows.length, 30, 'a bridge brings nothing new, so it adds no row');
      assert.deepEqual(
        rows.filter((row) => row.linkedId === null).map((row) => row.id),
        [1],
      );
      assert.ok(rows.slice(1).every((row) => row.linkedId === 1));
      const final = await identify({ email: 'c29@x.io' });
      assert.equal(final.customer.primaryContactId, 1);
      assert.equal(final.customer.secondaryContactIds.length, 29);
      await assertInvariants();
    });

    it(`a random mix over a small pool of identifiers keeps every invariant (seed ${SEED}; CONCURRENCY_SEED=${SEED} replays it)`, async () => {
      const emails = Array.from({ length: 8 }, (_, i) => `m${i}@x.io`);
      const phones = Array.from({ length: 8 }, (_, i) => `80000${i}`);
      const body = fc.oneof(
        fc.record({ email: fc.constantFrom(...emails) }),
        fc.record({ phoneNumber: fc.constantFrom(...phones) }),
        fc.record({ email: fc.constantFrom(...emails), phoneNumber: fc.constantFrom(...phones) }),
        fc.record({ email: fc.constantFrom(...emails), phoneNumber: fc.constantFrom(...phones) }),
      );
      const [bodies] = fc.sample(fc.array(body, { minLength: 300, maxLength: 300 }), { seed: SEED, numRuns: 1 }) as [Body[]];
      for (let start = 0; start < bodies.length; start += 25) await burst(bodies.slice(start, start + 25));

      await assertInvariants();
      await assertStored(bodies);
      // Every identifier is answered, one at a time now, by the customer owning it in the table.
      const owners = await scratch.db.query<{ identifier: string; owner: number }>(
        `SELECT DISTINCT "email" AS identifier, COALESCE("linkedId", "id") AS owner FROM "Contact" WHERE "email" IS NOT NULL
         UNION SELECT DISTINCT "phoneNumber", COALESCE("linkedId", "id") FROM "Contact" WHERE "phoneNumber" IS NOT NULL`,
      );
      for (const { identifier, owner } of owners) {
        const answer = await identify(identifier.includes('@') ? { email: identifier } : { phoneNumber: identifier });
        assert.equal(answer.status, 200, `${identifier}: ${answer.status} ${answer.code}`);
        assert.equal(answer.customer.primaryContactId, owner, identifier);
      }
    });

    it(`blocks and unblocks racing with checkouts on both processes keep the restated invariants (seed ${SEED})`, async () => {
      const emails = Array.from({ length: 6 }, (_, i) => `g${i}@x.io`);
      const phones = Array.from({ length: 6 }, (_, i) => `50000${i}`);
      const body = fc.oneof(
        fc.record({ email: fc.constantFrom(...emails), phoneNumber: fc.constantFrom(...phones) }),
        fc.record({ email: fc.constantFrom(...emails) }),
      );
      const [bodies] = fc.sample(fc.array(body, { minLength: 200, maxLength: 200 }), { seed: SEED, numRuns: 1 }) as [Body[]];
      const blocked = new Map<string, number>();
      for (let start = 0, round = 0; start < bodies.length; start += 25, round++) {
        // Each round, one value is blocked or unblocked while 25 checkouts run on both processes.
        const phone = phones[round % phones.length] as string;
        const change = blocked.has(phone)
          ? admin('DELETE', `/admin/blocked/${blocked.get(phone)}`).then(() => blocked.delete(phone))
          : admin('POST', '/admin/blocked', { field: 'phoneNumber', value: phone, reason: 'race' }).then(({ status, json }) => {
              assert.equal(status, 201, JSON.stringify(json));
              blocked.set(phone, (json as { rule: { id: number } }).rule.id);
            });
        const answers = await Promise.all([...bodies.slice(start, start + 25).map((b) => identify(b)), change]);
        const failed = answers.filter((a): a is Answer => typeof a === 'object' && a !== null && 'status' in a && a.status !== 200);
        // A checkout whose only identifier is blocked is refused; none of these has only a phone.
        assert.deepEqual(
          failed.map((a) => `${a.status} ${a.code}`),
          [],
        );
      }
      await assertInvariants();
      // Every unblocked identifier is answered, one at a time now, by the customer owning it in the table.
      const owners = await scratch.db.query<{ identifier: string; owner: number }>(
        `SELECT DISTINCT "email" AS identifier, COALESCE("linkedId", "id") AS owner FROM "Contact" WHERE "email" IS NOT NULL
         UNION SELECT DISTINCT "phoneNumber", COALESCE("linkedId", "id") FROM "Contact"
          WHERE "phoneNumber" IS NOT NULL AND NOT identity_is_blocked('phoneNumber', "phoneNumber")`,
      );
      for (const { identifier, owner } of owners) {
        const answer = await identify(identifier.includes('@') ? { email: identifier } : { phoneNumber: identifier });
        assert.equal(answer.status, 200, `${identifier}: ${answer.status} ${answer.code}`);
        assert.equal(answer.customer.primaryContactId, owner, identifier);
      }
    });

    it(`erasures racing with checkouts on both processes keep every invariant but I4 (seed ${SEED})`, async () => {
      const emails = Array.from({ length: 6 }, (_, i) => `h${i}@x.io`);
      const phones = Array.from({ length: 6 }, (_, i) => `60000${i}`);
      const body = fc.record({ email: fc.constantFrom(...emails), phoneNumber: fc.constantFrom(...phones) });
      const [bodies] = fc.sample(fc.array(body, { minLength: 150, maxLength: 150 }), { seed: SEED, numRuns: 1 }) as [Body[]];
      await Promise.all(bodies.slice(0, 25).map((b) => identify(b)));
      for (let start = 25; start < bodies.length; start += 25) {
        // Each round, the newest live contact is erased while 25 checkouts run on both processes.
        const [newest] = await scratch.db.query<{ id: number }>(`SELECT max("id") AS id FROM "Contact" WHERE "deletedAt" IS NULL`);
        const erase = admin('DELETE', `/contacts/${newest?.id}`).then(({ status, json }) =>
          assert.ok(status === 200 || status === 404, `${status} ${JSON.stringify(json)}`),
        );
        const answers = await Promise.all([...bodies.slice(start, start + 25).map((b) => identify(b)), erase]);
        const failed = answers.filter((a): a is Answer => typeof a === 'object' && a !== null && 'status' in a && a.status !== 200);
        assert.deepEqual(
          failed.map((a) => `${a.status} ${a.code}`),
          [],
        );
      }
      // A row whose forgotten value was the only one it brought is redundant now (I4): reported, never deleted.
      await assertInvariants(['I4']);
    });

    it('checkouts racing past the size cap on two processes quarantine the identifier exactly once; the cap holds', async () => {
      const capped = await Promise.all([0, 1].map(() => startService({ ...serviceEnv, MAX_CUSTOMER_CONTACTS: '10' })));
      try {
        for (let i = 0; i < 10; i++) await identify({ email: 'junk@x.io', phoneNumber: `40000${i}` }, capped);
        const bodies = Array.from({ length: 40 }, (_, i) => ({ email: 'junk@x.io', phoneNumber: `41000${i}` }));
        const answers = await burst(bodies, capped);
        for (const answer of answers) {
          assert.deepEqual(answer.ignored, ['email']);
          assert.deepEqual(answer.customer.secondaryContactIds, [], 'each goes on as a new customer of its phone alone');
        }
        const rules = await scratch.db.query<{ reason: string; addedBy: string }>('SELECT "reason", "addedBy" FROM "BlockedIdentifier"');
        assert.deepEqual(rules, [{ reason: 'over-merge', addedBy: 'size-cap' }]);
        const [quarantines] = await scratch.db.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM "ContactEvent" WHERE "type" = 'identifier.quarantined'`,
        );
        assert.equal(quarantines?.count, 1);
        const [largest] = await scratch.db.query<{ size: number }>(
          `SELECT max(size)::int AS size FROM (SELECT count(*) AS size FROM "Contact" GROUP BY COALESCE("linkedId", "id")) AS sizes`,
        );
        assert.ok((largest?.size ?? 0) <= 10, `a customer of ${largest?.size} rows`);
        await assertInvariants();
      } finally {
        await Promise.all(capped.map((service) => service.stop()));
      }
    });
  });
}
