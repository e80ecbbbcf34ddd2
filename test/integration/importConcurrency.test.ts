/**
 * An import while the service serves /identify traffic for the same customers, on PostgreSQL (a
 * CLI process and a service process on one database). Every checkout is answered; each answer is
 * a customer that the final table still holds together (nothing half-applied was seen: a lookup
 * reads a committed state, a write waits at most one chunk); nothing the traffic or the file
 * brought is lost and nothing is invented; the invariants hold; and importing the file again
 * changes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkInvariants, totalViolations } from '../../src/db/invariants.js';
import { runCli } from '../support/cliProcess.js';
import { openScratchPostgres, postgresUrl, type ScratchDatabase } from '../support/databases.js';
import { seededRandom } from '../support/seededRandom.js';
import { startService, type ServiceProcess } from '../support/serviceProcess.js';

/** The traffic's seed: a failure can be run again with CONCURRENCY_SEED. */
const SEED = Number(process.env.CONCURRENCY_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Body {
  email?: string;
  phoneNumber?: string;
}

describe('an import while /identify traffic runs [PostgreSQL]', { skip: postgresUrl ? false : 'needs PostgreSQL' }, () => {
  let scratch: ScratchDatabase;
  let service: ServiceProcess;
  let dir = '';

  before(async () => {
    scratch = await openScratchPostgres(postgresUrl as string);
    service = await startService({
      DATABASE_URL: scratch.url as string,
      DB_POOL_SIZE: '10',
      DB_POOL_WAIT_MS: '60000',
      OVERLOAD_MAX_WAIT_MS: '0',
    });
    dir = await mkdtemp(join(tmpdir(), 'identity-import-race-'));
  });
  after(async () => {
    await service?.stop();
    await scratch?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it(`3,000 imported checkouts in 100 chunks and 4 clients' checkouts of the same people (seed ${SEED})`, async () => {
    const next = seededRandom(SEED);
    const pick = (prefix: string, n: number) => `${prefix}${Math.floor(next() * n)}`;
    const body = (): Body => {
      const r = next();
      if (r < 0.6) return { email: `${pick('e', 400)}@x.io`, phoneNumber: pick('5550', 400) };
      return r < 0.8 ? { email: `${pick('e', 400)}@x.io` } : { phoneNumber: pick('5550', 400) };
    };
    const lines = Array.from({ length: 3_000 }, (_, i) => {
      const { email = '', phoneNumber = '' } = body();
      return `${email},${phoneNumber},${new Date(Date.UTC(2024, 0, 1) + i * 997_000).toISOString()}`;
    });
    const file = join(dir, 'history.csv');
    await writeFile(file, `email,phoneNumber,createdAt\n${lines.join('\n')}\n`);

    const env = { DATABASE_URL: scratch.url as string };
    let importing = true;
    const imported = runCli(['import', file, '--chunk-size', '30'], env).finally(() => (importing = false));
    const sent: Body[] = [];
    const answers: { body: Body; status: number; json: Record<string, unknown> }[] = [];
    let duringImport = 0;
    const client = async () => {
      while (importing || sent.length < 200) {
        const b = body();
        sent.push(b);
        const response = await fetch(`${service.baseUrl}/identify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(b),
        });
        answers.push({ body: b, status: response.status, json: (await response.json()) as Record<string, unknown> });
        if (importing) duringImport++;
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    const result = await imported;
    assert.equal(result.status, 0, result.stderr);
    assert.ok(duringImport >= 20, `only ${duringImport} checkouts were answered while the import ran`);
    assert.deepEqual(
      answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${JSON.stringify(a.json)}`),
      [],
    );

    const results = await checkInvariants(scratch.db);
    assert.equal(totalViolations(results), 0, JSON.stringify(results.filter((r) => r.count > 0)));

    // Nothing lost, nothing invented: the live values are exactly those of the file and the traffic.
    const rows = await scratch.db.query<{ id: number; email: string | null; phoneNumber: string | null; owner: number }>(
      `SELECT "id", "email", "phoneNumber", COALESCE("linkedId", "id") AS owner FROM "Contact" WHERE "deletedAt" IS NULL`,
    );
    const all = [
      ...sent,
      ...lines.map((line) => ({ email: line.split(',')[0] || undefined, phoneNumber: line.split(',')[1] || undefined })),
    ];
    const held = (field: 'email' | 'phoneNumber') => new Set(rows.map((row) => row[field]).filter((v): v is string => v !== null));
    const given = (field: 'email' | 'phoneNumber') => new Set(all.map((b) => b[field]).filter((v): v is string => v !== undefined));
    assert.deepEqual([...held('email')].sort(), [...given('email')].sort());
    assert.deepEqual([...held('phoneNumber')].sort(), [...given('phoneNumber')].sort());

    // Every answer is one customer of the final table (customers only grew: no value was blocked).
    const ownerOf = new Map<string, number>();
    for (const row of rows) {
      if (row.email !== null) ownerOf.set(`e${row.email}`, row.owner);
      if (row.phoneNumber !== null) ownerOf.set(`p${row.phoneNumber}`, row.owner);
    }
    for (const { json } of answers) {
      const customer = json.customer as { emails: string[]; phoneNumbers: string[] };
      const owners = new Set([
        ...customer.emails.map((e) => ownerOf.get(`e${e}`)),
        ...customer.phoneNumbers.map((p) => ownerOf.get(`p${p}`)),
      ]);
      assert.equal(owners.size, 1, `an answer's values are one customer now: ${JSON.stringify(customer)}`);
    }

    // The same file again: nothing to do (finished), and a fresh cut of it (another chunk size) changes nothing either.
    const before = await scratch.db.query('SELECT * FROM "Contact" ORDER BY "id"');
    assert.match((await runCli(['import', file, '--chunk-size', '30'], env)).stdout, /nothing to do/);
    const again = await runCli(['import', file, '--chunk-size', '1000'], env);
    assert.match(again.stdout, /^ +0 {2}rows inserted/m);
    assert.deepEqual(await scratch.db.query('SELECT * FROM "Contact" ORDER BY "id"'), before);
  });
});
