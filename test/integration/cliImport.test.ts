/**
 * `identity-service import`, as a process, on PGlite and PostgreSQL: the README's example file
 * (bad lines to the reject file by line and reason, never a value), NDJSON gzipped on standard
 * input, a dry run that writes nothing, the refusals (no file, no createdAt column, too many bad
 * lines) with exit 1 and no stack trace, and a run stopped after one chunk that a rerun resumes to
 * exactly the table an uninterrupted run makes — then says there is nothing left to do.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { cliDatabase, runCli, type CliDatabase } from '../support/cliProcess.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'identity-import-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const empty = () => cliDatabase(async () => {});

async function withDatabase(work: (database: CliDatabase) => Promise<void>): Promise<void> {
  const database = await empty();
  try {
    await work(database);
  } finally {
    await database.dispose();
  }
}

it('imports the example file: checkouts in, bad lines listed by number and reason in the reject file, the invariants hold', async () => {
  await withDatabase(async (database) => {
    const file = join(dir, 'checkouts.csv');
    await copyFile('examples/checkouts.csv', file);
    const result = await runCli(['import', file], database.env);
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^read 37 CSV line\(s\): 31 checkout\(s\), 6 rejected \(line numbers and reasons in .*checkouts\.csv\.rejects\.csv\)$/m,
    );
    assert.match(result.stdout, /^ +25 {2}rows inserted/m);
    assert.match(result.stdout, /^ +3 {2}checkouts that joined customers without a row/m);
    assert.doesNotMatch(result.stdout + result.stderr, /hillvalley|123456/);
    assert.equal(
      await readFile(`${file}.rejects.csv`, 'utf8'),
      'line,reason\n31,missing_created_at\n32,invalid_email\n33,invalid_phone\n34,no_identifier\n35,invalid_created_at\n36,malformed_line\n',
    );
    const check = await runCli(['check'], database.env);
    assert.equal(check.status, 0, check.stdout);
    const exported = await runCli(['export', '--customer', '2'], database.env);
    assert.match(exported.stdout, /^lorraine@hillvalley\.edu,123456,2025-01-04T10:15:00\.000Z,2,,primary$/m);
    assert.match(exported.stdout, /^"jennifer,parker@hillvalley\.edu",555123,2025-01-16T14:00:00\.000Z,\d+,2,secondary$/m);
  });
});

it('reads NDJSON gzipped from standard input; a dry run says what would change and writes nothing', async () => {
  await withDatabase(async (database) => {
    const lines = [
      { email: 'a@x.io', phoneNumber: '111', createdAt: '2025-01-01T00:00:00Z' },
      { email: 'b@x.io', phoneNumber: 111, createdAt: '2025-01-02T00:00:00Z', orderId: 7 },
      { email: 'c@x.io', createdAt: '2025-01-03T00:00:00Z' },
      { email: 'c@x.io', phoneNumber: '222' },
    ];
    const input = gzipSync(lines.map((line) => JSON.stringify(line)).join('\n'));
    const dry = await runCli(['import', '-', '--dry-run'], database.env, input);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /^read 4 NDJSON line\(s\): 3 checkout\(s\), 1 rejected$/m);
    assert.match(dry.stdout, /^ +3 {2}rows inserted/m);
    assert.match(dry.stdout, /^dry run: nothing written/m);
    assert.equal((await runCli(['export'], database.env)).stdout, 'email,phoneNumber,createdAt,id,linkedId,linkPrecedence\n');

    const real = await runCli(['import', '-'], database.env, input);
    assert.equal(real.status, 0, real.stderr);
    const rows = (await runCli(['export'], database.env)).stdout.trimEnd().split('\n').slice(1);
    assert.equal(rows.length, 3);
    assert.match(rows[1] ?? '', /^b@x\.io,111,2025-01-02T00:00:00\.000Z,\d+,\d+,secondary$/);
  });
});

it('refuses with exit 1 and a message, never a stack trace: no such file, no createdAt column, more bad lines than --max-errors (nothing written)', async () => {
  await withDatabase(async (database) => {
    const missing = await runCli(['import', join(dir, 'nope.csv')], database.env);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'import failed: the file does not exist\n');

    const noTime = join(dir, 'no-time.csv');
    await writeFile(noTime, 'email,phoneNumber\na@x.io,111\n');
    const refused = await runCli(['import', noTime], database.env);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^import failed: the header has no createdAt column/);

    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'email,createdAt\na@x.io,2025-01-01\nnobody,2025-01-01\nb@x.io,\n');
    const stopped = await runCli(['import', bad, '--max-errors', '1'], database.env);
    assert.equal(stopped.status, 1);
    assert.match(stopped.stderr, /more than 1 bad line\(s\) \(--max-errors\): stopped at line 4; nothing was written/);
    assert.doesNotMatch(stopped.stderr, /at .*\.ts:\d+/);
    assert.equal((await runCli(['export'], database.env)).stdout.split('\n').length, 2);
  });
});

it('a run stopped after a chunk resumes without duplicates to the table an uninterrupted run makes', async () => {
  const file = join(dir, 'resume.csv');
  await copyFile('examples/checkouts.csv', file);
  const options = ['import', file, '--chunk-size', '4', '--reject', join(dir, 'rejects.csv')];
  const interrupted = await empty();
  const whole = await empty();
  try {
    const first = await runCli(options, { ...interrupted.env, IDENTITY_IMPORT_STOP_AFTER: '2' });
    assert.equal(first.status, 3, first.stderr);
    const partial = (await runCli(['export'], interrupted.env)).stdout.split('\n').length;
    const second = await runCli(options, interrupted.env);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /^resuming: 2 of \d+ chunk\(s\) were committed by an earlier run$/m);
    const third = await runCli(options, interrupted.env);
    assert.match(third.stdout, /imported completely on .*: nothing to do/);

    assert.equal((await runCli(options, whole.env)).status, 0);
    const resumed = (await runCli(['export'], interrupted.env)).stdout;
    assert.ok(partial < resumed.split('\n').length, 'the first run stopped part way');
    assert.equal(resumed, (await runCli(['export'], whole.env)).stdout);
  } finally {
    await interrupted.dispose();
    await whole.dispose();
  }
});
