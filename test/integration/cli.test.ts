/**
 * The operator's commands as processes: `check` finds a broken table (exit 1), `repair --dry-run`
 * shows the fix and writes nothing, `repair` fixes it, `check` then passes (exit 0); a bad
 * command line exits 2 with a hint, `--help` exits 0.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { insertRows } from '../support/brokenTables.js';
import { cliDatabase, runCli } from '../support/cliProcess.js';

it('check exits 1 with a report on a broken table; repair --dry-run changes nothing; repair fixes it; check then exits 0', async () => {
  const database = await cliDatabase((db) =>
    insertRows(db, [
      { id: 1, email: 'a@x.io', phone: '111' },
      { id: 2, email: 'b@x.io', linkedId: 1 },
      { id: 3, phone: '333', linkedId: 2 },
      { id: 4, email: 'd@x.io', phone: '111', at: 0 },
      { id: 5, email: 'e@x.io', deleted: true },
      { id: 6, email: 'f@x.io', linkedId: 5 },
    ]),
  );
  const cli = (...args: string[]) => runCli(args, database.env);
  try {
    const broken = await cli('check');
    assert.equal(broken.status, 1, broken.stderr);
    assert.match(
      broken.stdout,
      /^I1 +FAIL +2 +a row is neither a primary with no link nor a secondary linked to a live primary \(e\.g\. ids 3, 6\)$/m,
    );
    assert.match(broken.stdout, /^I2 +FAIL +2 +.* \(e\.g\. ids 1, 4\)$/m);
    assert.match(broken.stdout, /^I3 +ok +0 /m);
    assert.match(broken.stdout, /^4 violations;/m);

    const json = await cli('check', '--json');
    assert.equal(json.status, 1);
    assert.deepEqual(
      JSON.parse(json.stdout).invariants.map((result: { count: number }) => result.count),
      [2, 2, 0, 0, 0, 0, 0],
    );

    const dryRun = await cli('repair', '--dry-run');
    assert.equal(dryRun.status, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /5 live rows, 2 customers; 4 rows to change/);
    assert.match(dryRun.stdout, /first 4 of 4 changes/);
    assert.match(dryRun.stdout, /^ +1: -\/primary -> 4\/secondary \(demoted\)$/m);
    assert.match(dryRun.stdout, /dry run: rolled back, nothing written/);
    assert.equal((await cli('check')).status, 1);

    const repaired = await cli('repair', '--batch-size', '2');
    assert.equal(repaired.status, 0, repaired.stderr);
    assert.match(repaired.stdout, /4 rows changed/);
    assert.match(repaired.stdout, /reported, not repaired \(repair never deletes rows\)/);
    assert.match(repaired.stdout, /committed in \d+\.\d s/);
    // stderr is a pipe here: plain progress lines, no bars.
    assert.match(repaired.stderr, /^reading rows: 5\/5 \(100%\) in \d+\.\d s$/m);
    assert.match(repaired.stderr, /^writing fixes: 4\/4 \(100%\) in \d+\.\d s$/m);

    const clean = await cli('check');
    assert.equal(clean.status, 0, clean.stdout);
    assert.match(clean.stdout, /all invariants hold/);
  } finally {
    await database.dispose();
  }
});

it('legacy values: check reports them by id and count, repair --dry-run lists the value changes, repair normalises them; invalid ones stay reported', async () => {
  const database = await cliDatabase((db) =>
    insertRows(db, [
      { id: 1, email: 'Foo@X.com', phone: '111', at: 10 },
      { id: 2, email: 'foo@x.com', at: 20 },
      { id: 3, phone: '(555) 010-9999' },
      { id: 4, email: 'no-at-sign', phone: '444' },
    ]),
  );
  const cli = (...args: string[]) => runCli(args, database.env);
  const noValues = (output: string) => assert.doesNotMatch(output, /foo|no-at-sign|555|111|444/i, 'no personal data in the output');
  try {
    const before = await cli('check');
    assert.equal(before.status, 1);
    assert.match(before.stdout, /^N1 +FAIL +2 +.* \(1 email, 1 phone; e\.g\. ids 1, 3\)$/m);
    assert.match(before.stdout, /^N2 +FAIL +1 +.* \(1 email, 0 phones; e\.g\. ids 4\)$/m);
    assert.match(before.stdout, /^I2 +ok +0 /m);
    noValues(before.stdout);

    const dryRun = await cli('repair', '--dry-run');
    assert.equal(dryRun.status, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /^4 live rows, 3 customers; 1 rows to change$/m);
    assert.match(dryRun.stdout, /^N1: 2 rows with an email or phone to put in the normal form requests use \(1 email, 1 phone\)$/m);
    assert.match(
      dryRun.stdout,
      /^N2: 1 rows with an email or phone that has no normal form: reported, left as they are \(1 email, 0 phones; e\.g\. ids 4\)$/m,
    );
    assert.match(dryRun.stdout, /^first 2 of 2 value changes \(id: fields put in normal form\):\n +1: email\n +3: phoneNumber$/m);
    assert.match(dryRun.stdout, /^ +2: -\/primary -> 1\/secondary \(demoted\)$/m);
    noValues(dryRun.stdout);

    const repaired = await cli('repair');
    assert.equal(repaired.status, 0, repaired.stderr);
    assert.match(repaired.stdout, /^N1: 2 rows with an email or phone put in the normal form requests use/m);
    assert.match(repaired.stderr, /^writing fixes: 3\/3 \(100%\)/m);

    const after = await cli('check');
    assert.equal(after.status, 1, 'the invalid email is still there: only a person can fix it');
    assert.match(after.stdout, /^N1 +ok +0 /m);
    assert.match(after.stdout, /^N2 +FAIL +1 +.*e\.g\. ids 4\)$/m);
    assert.match(after.stdout, /^I4 +FAIL +1 /m);
  } finally {
    await database.dispose();
  }
});

it('check and repair on a database without a Contact table exit 1 and say how to get one', async () => {
  const database = await cliDatabase(async (db) => {
    await db.query('DROP TABLE "Contact" CASCADE');
  });
  try {
    for (const command of ['check', 'repair']) {
      const result = await runCli([command], database.env);
      assert.equal(result.status, 1, command);
      assert.match(
        result.stderr,
        new RegExp(`^${command} failed: the database has no "Contact" table: .*run \`identity-service migrate\` first$`, 'm'),
      );
    }
  } finally {
    await database.dispose();
  }
});

it('check and repair on an adopted table the migrations have not reached (no block list yet) work as before', async () => {
  const database = await cliDatabase(async (db) => {
    await db.query('DROP TABLE "BlockedIdentifier", "IdentityGovernance", "ContactEvent" CASCADE');
    await insertRows(db, [
      { id: 1, email: 'a@x.io', phone: '111' },
      { id: 2, email: 'a@x.io', phone: '222' },
    ]);
  });
  const cli = (...args: string[]) => runCli(args, database.env);
  try {
    const broken = await cli('check');
    assert.equal(broken.status, 1, broken.stderr);
    assert.match(broken.stdout, /^I2 +FAIL +2 .*\(e\.g\. ids 1, 2\)$/m);
    assert.match(broken.stdout, /^I5 +ok +0 /m);
    const repaired = await cli('repair');
    assert.equal(repaired.status, 0, repaired.stderr);
    assert.match(repaired.stdout, /^2 live rows, 1 customers; 1 rows changed$/m);
    assert.equal((await cli('check')).status, 0);
  } finally {
    await database.dispose();
  }
});

it('serve and migrate stop with exit 1 and one clear line when an applied migration file has changed', async () => {
  const database = await cliDatabase(async (db) => {
    await db.query(`UPDATE identity_migrations SET checksum = repeat('0', 64) WHERE name = '0002_identify_functions.sql'`);
  });
  try {
    for (const command of ['migrate', 'serve']) {
      const result = await runCli([command], { ...database.env, PORT: '0', HOST: '127.0.0.1' });
      assert.equal(result.status, 1, `${command}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /^start-up failed: migration 0002_identify_functions\.sql was changed after it was applied to this database; .*new numbered migration$/m,
      );
    }
  } finally {
    await database.dispose();
  }
});

it('--help describes every command and exits 0', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.status, 0);
  for (const command of ['serve', 'migrate', 'check', 'repair']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
  const repairHelp = await runCli(['repair', '--help']);
  assert.equal(repairHelp.status, 0);
  assert.match(repairHelp.stdout, /--dry-run/);
  assert.match(repairHelp.stdout.replace(/\s+/g, ' '), /--batch-size <rows> .*\(default: 10000\).*--renormalize.*\(default: 1000\)/);
  assert.match(repairHelp.stdout, /--renormalize/);
});

it('an unknown command, an unknown flag or a bad value exits 2 and says what was wrong', async () => {
  for (const [args, message] of [
    [['repiar'], /unknown command 'repiar'\n\(Did you mean repair\?\)/],
    [['check', '--fix'], /unknown option '--fix'/],
    [['repair', '--batch-size', '0'], /'--batch-size <rows>' argument '0' is invalid\. must be a positive integer/],
  ] as const) {
    const result = await runCli([...args]);
    assert.equal(result.status, 2, args.join(' '));
    assert.match(result.stderr, message);
    assert.match(result.stderr, /run with --help for usage/);
  }
});
