/**
 * `identity-service export`, as a process: the live rows as past checkouts (CSV with a header, or
 * NDJSON), in id order, quoted where CSV needs it, a customer's alone with --customer, gzipped for a
 * `.gz` file; what it says on stderr is a count, never a value.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { insertRows } from '../support/brokenTables.js';
import { cliDatabase, runCli } from '../support/cliProcess.js';

const ROWS = [
  { id: 1, email: 'doc@hillvalley.edu', phone: '555' },
  { id: 2, email: '"marty,jr"@hillvalley.edu', phone: '555', linkedId: 1 },
  { id: 3, email: 'biff@hillvalley.edu' },
  { id: 4, email: 'gone@hillvalley.edu', deleted: true },
];

it('export writes the live rows as CSV with a header (quoted where needed), NDJSON, or one customer, and counts them on stderr', async () => {
  const database = await cliDatabase((db) => insertRows(db, ROWS));
  const dir = await mkdtemp(join(tmpdir(), 'identity-export-'));
  try {
    const csv = await runCli(['export'], database.env);
    assert.equal(csv.status, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'email,phoneNumber,createdAt,id,linkedId,linkPrecedence');
    assert.match(lines[1] ?? '', /^doc@hillvalley\.edu,555,\d{4}-\d\d-\d\dT[\d:.]+Z,1,,primary$/);
    assert.match(lines[2] ?? '', /^"""marty,jr""@hillvalley\.edu",555,[^,]+,2,1,secondary$/);
    assert.match(lines[3] ?? '', /^biff@hillvalley\.edu,,[^,]+,3,,primary$/);
    assert.equal(lines.length, 4, 'the deleted row is not exported');
    assert.equal(csv.stderr, 'exported 3 row(s)\n');

    const ndjson = await runCli(['export', '--format', 'ndjson', '--customer', '2'], database.env);
    assert.equal(ndjson.status, 0, ndjson.stderr);
    const objects = ndjson.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      objects.map(({ createdAt: _at, ...rest }) => rest),
      [
        { email: 'doc@hillvalley.edu', phoneNumber: '555', id: 1, linkedId: null, linkPrecedence: 'primary' },
        { email: '"marty,jr"@hillvalley.edu', phoneNumber: '555', id: 2, linkedId: 1, linkPrecedence: 'secondary' },
      ],
    );

    const file = join(dir, 'contacts.csv.gz');
    const gz = await runCli(['export', file], database.env);
    assert.equal(gz.status, 0, gz.stderr);
    assert.equal(gunzipSync(await readFile(file)).toString('utf8'), csv.stdout);
    assert.doesNotMatch(gz.stderr, /hillvalley/);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await database.dispose();
  }
});

it('export refuses a format it does not write, with exit 2', async () => {
  const result = await runCli(['export', '--format', 'xml'], { DATABASE_URL: 'memory://' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--format/);
});
