/**
 * Unmerge from the command line, as processes: `unmerge` undoes a logged merge (by its event id or
 * by a contact of each side) and prints the customers and the separation, `separations` lists the
 * separations, `unseparate` removes one; what cannot be undone exits 1 naming why and writes
 * nothing; a bad command line exits 2 with one line.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Queryable } from '../../src/db/database.js';
import { insertRows } from '../support/brokenTables.js';
import { cliDatabase, runCli, type CliDatabase } from '../support/cliProcess.js';

/**
 * Two customers, each made by a logged merge. 1 (george) absorbed 2 (biffsucks) and its secondary
 * 3 (biff) when a checkout brought george's email with 717171: event 1. 4 absorbed 5 when a checkout
 * brought 4's email with 5's phone (event 2), and row 6 (older than 5, so it brought 555 first)
 * holds that email and that phone: it holds 4 and 5 together whatever the merge.
 */
async function twoMergedCustomers(db: Queryable): Promise<void> {
  await insertRows(db, [
    { id: 1, email: 'george@hillvalley.edu', phone: '919191' },
    { id: 2, email: 'biffsucks@hillvalley.edu', phone: '717171', linkedId: 1 },
    { id: 3, email: 'biff@hillvalley.edu', phone: '717171', linkedId: 1 },
    { id: 4, email: 'g2@x.io', phone: '444' },
    { id: 5, email: 'o2@x.io', phone: '555', linkedId: 4 },
    { id: 6, email: 'g2@x.io', phone: '555', linkedId: 4, at: 4.5 },
  ]);
  await db.query(
    `INSERT INTO "ContactEvent" ("type", "customerIds", "contactIds", "email", "phoneNumber", "detail")
     VALUES ('customer.merged', '{1,2}', '{2,3}', 'george@hillvalley.edu', '717171', '{"survivor":1,"absorbed":[2]}'),
            ('customer.merged', '{4,5}', '{5}', 'g2@x.io', '555', '{"survivor":4,"absorbed":[5]}')`,
  );
}

async function withCli(work: (cli: (...args: string[]) => ReturnType<typeof runCli>, database: CliDatabase) => Promise<void>) {
  const database = await cliDatabase(twoMergedCustomers);
  try {
    await work((...args) => runCli(args, { ...database.env, USER: 'ops' }), database);
  } finally {
    await database.dispose();
  }
}

it('unmerge by the merge event splits the customer back and records a separation; separations lists it; unseparate removes it', async () => {
  await withCli(async (cli) => {
    const undone = await cli('unmerge', '3', '--merge', '1');
    assert.equal(undone.status, 0, undone.stderr);
    assert.equal(
      undone.stdout,
      'merge 1 undone: customers 1 and 2\n' +
        'separation 1 keeps them apart (`identity-service unseparate 1` removes it)\n' +
        '1 customer split (the customer -> the primaries of its parts):\n  1 -> 1, 2\n',
    );
    assert.equal((await cli('check')).status, 0, 'the table keeps its invariants');

    const list = await cli('separations');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^id +contacts +mergeEventId +addedBy +createdAt$/m);
    assert.match(list.stdout, /^ 1 +1, 2 +1 +cli:ops +\d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    assert.match(list.stdout, /^1 separation \(block list version \d+\)$/m);
    const json = JSON.parse((await cli('separations', '--json')).stdout);
    assert.deepEqual(
      json.separations.map(({ createdAt, ...rest }: { createdAt: string }) => rest),
      [{ id: 1, contactIds: [1, 2], mergeEventId: 1, addedBy: 'cli:ops' }],
    );

    const again = await cli('unmerge', '1', '--merge', '1');
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^unmerge: Merge 1 was undone already \(event \d+\)\. Nothing was written\.\n$/);

    const removed = await cli('unseparate', '1');
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal(removed.stdout, 'separation 1 removed: contacts 1 and 2 may be joined again by the next request that carries both\n');
    assert.match((await cli('separations')).stdout, /^no separations: requests may join any customers \(block list version \d+\)\n$/);
    const none = await cli('unseparate', '1');
    assert.equal(none.status, 1);
    assert.equal(none.stderr, 'unseparate: no separation has id 1 (`identity-service separations` lists them)\n');
  });
});

it('unmerge by a contact of each side finds the merge that joined them', async () => {
  await withCli(async (cli) => {
    const undone = await cli('unmerge', '1', '--contacts', '1,3');
    assert.equal(undone.status, 0, undone.stderr);
    assert.match(undone.stdout, /^merge 1 undone: customers 1 and 2\n/);
  });
});

it('an unmerge that cannot be done exits 1, says why by ids only, and writes nothing', async () => {
  await withCli(async (cli) => {
    const stillLinked = await cli('unmerge', '4', '--merge', '2');
    assert.equal(stillLinked.status, 1);
    assert.equal(
      stillLinked.stderr,
      'unmerge: Contacts 4 and 5 are still one customer without that merge: the email of contacts 4 and 6, ' +
        'the phone number of contacts 6 and 5 hold them together; nothing was written.\n',
    );
    const notHers = await cli('unmerge', '4', '--merge', '1');
    assert.equal(notHers.status, 1);
    assert.match(notHers.stderr, /^unmerge: Merge 1 did not join contacts that are both customer 4's now\. Nothing was written\.\n$/);
    const stranger = await cli('unmerge', '1', '--contacts', '1,5');
    assert.equal(stranger.status, 1);
    assert.equal(stranger.stderr, 'unmerge: Contact 5 is not a live contact of customer 1. Nothing was written.\n');
    const nobody = await cli('unmerge', '99', '--merge', '1');
    assert.equal(nobody.status, 1);
    assert.equal(nobody.stderr, 'unmerge: No live contact has id 99. Nothing was written.\n');

    assert.match((await cli('separations')).stdout, /^no separations/, 'no separation was recorded');
    assert.equal((await cli('unmerge', '1', '--merge', '1')).status, 0, 'the merge is still there to undo');
  });
});

it('a bad unmerge command line exits 2 with one line and a hint', async () => {
  await withCli(async (cli) => {
    for (const args of [
      ['unmerge', '1'],
      ['unmerge', '1', '--merge', '1', '--contacts', '1,3'],
      ['unmerge', '1', '--contacts', '3'],
      ['unmerge', '1', '--contacts', '3,3'],
      ['unmerge', '1', '--merge', 'x'],
      ['unmerge', 'x', '--merge', '1'],
      ['unseparate', '0'],
    ]) {
      const result = await cli(...args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      const [line, hint, ...rest] = result.stderr.split('\n');
      assert.match(line ?? '', /^error: /, args.join(' '));
      assert.equal(hint, '(run with --help for usage)', args.join(' '));
      assert.deepEqual(rest, [''], args.join(' '));
    }
    assert.match((await cli('separations')).stdout, /^no separations/);
  });
});
