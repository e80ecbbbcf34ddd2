/**
 * The block list from the command line, as processes: `block` adds a rule (normalised as requests
 * are) and prints the customers it split, `blocked` lists the rules, `suspects` ranks the values,
 * `unblock` joins the customers again; bad input exits 2 with one line that never repeats the
 * value; a database without the tables says how to get them.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { insertRows } from '../support/brokenTables.js';
import { cliDatabase, runCli } from '../support/cliProcess.js';

/** One customer glued by a placeholder: 1 and 2 share only test@test.com; 3 came with 2's phone. 4 is another customer. */
const GLUED = [
  { id: 1, email: 'test@test.com', phone: '111' },
  { id: 2, email: 'test@test.com', phone: '222', linkedId: 1 },
  { id: 3, email: 'b@x.io', phone: '222', linkedId: 1 },
  { id: 4, email: 'c@x.io', phone: '333' },
];

it('block splits the customers a value held together and says so; blocked lists the rule; check passes; unblock joins them again', async () => {
  const database = await cliDatabase((db) => insertRows(db, GLUED));
  const cli = (...args: string[]) => runCli(args, { ...database.env, USER: 'ops' });
  try {
    const suspectsBefore = await cli('suspects', '--limit', '1', '--json');
    assert.equal(suspectsBefore.status, 0, suspectsBefore.stderr);
    assert.deepEqual(JSON.parse(suspectsBefore.stdout).suspects[0], {
      field: 'email',
      value: 'test@test.com',
      contacts: 2,
      customers: 1,
      largestCustomer: 3,
      blocked: false,
    });

    const blocked = await cli('block', '--email', ' Test@TEST.com', '--reason', 'placeholder');
    assert.equal(blocked.status, 0, blocked.stderr);
    assert.equal(
      blocked.stdout,
      'rule 1 added: email exact test@test.com (placeholder)\n1 customer split (the customer -> the primaries of its parts):\n  1 -> 1, 2\n',
    );
    const again = await cli('block', '--email', 'test@test.com', '--reason', 'twice');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, 'rule 1 already blocks email exact test@test.com: nothing changed\n');

    const list = await cli('blocked');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^id +field +match +value +reason +addedBy +createdAt$/m);
    assert.match(list.stdout, /^ 1 +email +exact +test@test\.com +placeholder +cli:ops +\d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    assert.match(list.stdout, /^1 rule \(block list version 2\)$/m);
    const json = JSON.parse((await cli('blocked', '--json')).stdout);
    assert.equal(json.version, 2);
    assert.deepEqual(Object.keys(json.rules[0]), ['id', 'field', 'match', 'value', 'reason', 'addedBy', 'createdAt']);
    assert.equal(json.rules[0].addedBy, 'cli:ops');

    const check = await cli('check');
    assert.equal(check.status, 0, `rows 1 and 2 share a blocked email as two customers: ${check.stdout}`);

    const suspects = await cli('suspects', '--limit', '1');
    assert.equal(suspects.status, 0, suspects.stderr);
    assert.match(suspects.stdout, /^field +value +contacts +customers +largest customer +blocked$/m);
    assert.match(suspects.stdout, /^email +test@test\.com +2 +2 +2 +yes$/m);
    assert.match(suspects.stdout, /^phoneNumber +222 +2 +1 +2 +no$/m);

    const unblocked = await cli('unblock', '1');
    assert.equal(unblocked.status, 0, unblocked.stderr);
    assert.equal(
      unblocked.stdout,
      'rule 1 removed: email exact test@test.com (placeholder)\n1 customer joined again (survivor <- the customers it absorbed):\n  1 <- 2\n',
    );
    const missing = await cli('unblock', '1');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^unblock: no block rule has id 1 /m);
    assert.equal((await cli('check')).status, 0);
  } finally {
    await database.dispose();
  }
});

it('block normalises a phone and a domain as requests are, takes a pattern for a field, and adds the missing rules of a preset', async () => {
  const database = await cliDatabase((db) => insertRows(db, GLUED));
  const cli = (...args: string[]) => runCli(args, database.env);
  try {
    for (const [args, added] of [
      [['--phone', '+1 (555) 010-9999'], 'rule 1 added: phoneNumber exact +15550109999 (r)'],
      [['--domain', '@Example.COM'], 'rule 2 added: email domain example.com (r)'],
      [['--pattern', '^0{6,}$', '--field', 'phoneNumber'], 'rule 3 added: phoneNumber pattern ^0{6,}$ (r)'],
    ] as const) {
      const result = await cli('block', ...args, '--reason', 'r');
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, `${added}\nno customer was held together by it: none split\n`);
    }
    const preset = await cli('block', '--preset', 'recommended');
    assert.equal(preset.status, 0, preset.stderr);
    assert.match(preset.stdout, /^rule \d+ added: email exact test@test\.com \(placeholder email\)$/m);
    assert.match(preset.stdout, /^rule 2 was there already: email domain example\.com$/m);
    assert.match(preset.stdout, /^preset recommended: 16 of 17 rules added$/m);
    assert.match(preset.stdout, /^ {2}1 -> 1, 2$/m);
    const json = JSON.parse((await cli('blocked', '--json')).stdout);
    assert.equal(json.rules.length, 19);
  } finally {
    await database.dispose();
  }
});

it('bad input exits 2 with one line that never repeats the value, and blocks nothing', async () => {
  const database = await cliDatabase((db) => insertRows(db, GLUED));
  const cli = (...args: string[]) => runCli(args, database.env);
  try {
    for (const [args, message] of [
      [['--email', 'secret-nobody', '--reason', 'r'], 'error: --email: value must be a valid email.'],
      [['--phone', 'secret-12ab', '--reason', 'r'], 'error: --phone: value must be a valid phone number.'],
      [['--domain', 'secret_domain', '--reason', 'r'], 'error: --domain: value must be a domain such as example.com.'],
      [['--email', 'a@x.io'], 'error: --reason must say why, in 1 to 500 characters.'],
      [
        ['--email', 'a@x.io', '--phone', '111', '--reason', 'r'],
        'error: give exactly one of --email, --phone, --domain, --pattern or --preset.',
      ],
      [['--pattern', '^secret'], 'error: --pattern needs --field email or --field phoneNumber.'],
      [['--email', 'a@x.io', '--field', 'email', '--reason', 'r'], 'error: --field goes with --pattern only.'],
      [['--preset', 'recommended', '--reason', 'r'], "error: a preset's rules carry their own reasons: drop --reason."],
      [['--pattern', 'secret(?=x)', '--field', 'email', '--reason', 'r'], /^error: --pattern: a pattern may use letters, digits/],
      // JavaScript reads it; PostgreSQL, which `check` matches with, does not (an invalid character range).
      [
        ['--pattern', '[\\d-secret]', '--field', 'email', '--reason', 'r'],
        'error: the pattern is not a regular expression PostgreSQL can read.',
      ],
    ] as const) {
      const result = await cli('block', ...args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      const [line, hint, ...rest] = result.stderr.split('\n');
      if (typeof message === 'string') assert.equal(line, message);
      else assert.match(line ?? '', message);
      assert.deepEqual([hint, ...rest], ['(run with --help for usage)', '']);
      assert.doesNotMatch(result.stderr, /secret/);
    }
    for (const [args, message] of [
      [['unblock', 'x'], /value 'x' is invalid for argument 'id'\. must be a rule id/],
      [['suspects', '--limit', '0'], /'--limit <values>' argument '0' is invalid\. must be 1 to 1000\./],
      [['block', '--field', 'phone', '--pattern', '^1', '--reason', 'r'], /Allowed choices are email, phoneNumber\./],
    ] as const) {
      const result = await cli(...args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, message);
    }
    assert.match((await cli('blocked')).stdout, /^no rules: nothing is blocked \(block list version 1\)$/m);
  } finally {
    await database.dispose();
  }
});

it('the block list commands on a database without a Contact table, or without the block list, exit 1 and say how to get one', async () => {
  const noContacts = await cliDatabase(async (db) => {
    await db.query('DROP TABLE "Contact" CASCADE');
  });
  try {
    const result = await runCli(['blocked'], noContacts.env);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^blocked failed: the database has no "Contact" table: .*run `identity-service migrate` first$/m);
  } finally {
    await noContacts.dispose();
  }
  const noBlocklist = await cliDatabase(async (db) => {
    await db.query('DROP TABLE "BlockedIdentifier" CASCADE');
  });
  try {
    for (const args of [['block', '--email', 'a@x.io', '--reason', 'r'], ['unblock', '1'], ['blocked'], ['suspects']]) {
      const result = await runCli(args, noBlocklist.env);
      assert.equal(result.status, 1, args.join(' '));
      assert.match(
        result.stderr,
        new RegExp(
          `^${args[0]} failed: the database has no "BlockedIdentifier" table \\(the block list\\): run \`identity-service migrate\` first$`,
          'm',
        ),
      );
    }
  } finally {
    await noBlocklist.dispose();
  }
});

it('--help lists the block list commands, and each has its own', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.status, 0);
  for (const command of ['block', 'unblock', 'blocked', 'suspects']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
  const blockHelp = await runCli(['block', '--help']);
  assert.equal(blockHelp.status, 0);
  for (const flag of ['--email', '--phone', '--domain', '--pattern', '--field', '--reason', '--preset'])
    assert.match(blockHelp.stdout, new RegExp(flag));
});
