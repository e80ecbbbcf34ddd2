/** Every worked example of shared/spec/examples.md, through HTTP, on each database. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { postIdentify, storedRows, useTestApp } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

describeOnEachDatabase('worked examples', (scratch) => {
  const testApp = useTestApp(scratch);

  async function identify(body: unknown) {
    const response = await postIdentify(testApp(), body);
    assert.equal(response.statusCode, 200, response.body);
    return response.json().customer;
  }
  const rows = async () =>
    (await storedRows(scratch().db)).map((row) => [row.id, row.email, row.phoneNumber, row.linkPrecedence, row.linkedId]);

  it('1. a second order with a new email links to the first', async () => {
    assert.deepEqual(await identify({ email: 'lorraine@hillvalley.edu', phoneNumber: '123456' }), {
      id: 1,
      primaryContactId: 1,
      emails: ['lorraine@hillvalley.edu'],
      phoneNumbers: ['123456'],
      secondaryContactIds: [],
    });
    const expected = {
      id: 1,
      primaryContactId: 1,
      emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu'],
      phoneNumbers: ['123456'],
      secondaryContactIds: [2],
    };
    assert.deepEqual(await identify({ email: 'mcfly@hillvalley.edu', phoneNumber: '123456' }), expected);
    for (const body of [
      { phoneNumber: '123456' },
      { email: null, phoneNumber: '123456' },
      { email: 'lorraine@hillvalley.edu' },
      { email: 'mcfly@hillvalley.edu', phoneNumber: null },
    ]) {
      assert.deepEqual(await identify(body), expected, JSON.stringify(body));
    }
    assert.deepEqual(await rows(), [
      [1, 'lorraine@hillvalley.edu', '123456', 'primary', null],
      [2, 'mcfly@hillvalley.edu', '123456', 'secondary', 1],
    ]);
  });

  it('2. one request joins two customers: the newer primary turns secondary', async () => {
    assert.equal((await identify({ email: 'george@hillvalley.edu', phoneNumber: '919191' })).primaryContactId, 1);
    assert.equal((await identify({ email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' })).primaryContactId, 2);
    assert.deepEqual(await identify({ email: 'george@hillvalley.edu', phoneNumber: '717171' }), {
      id: 1,
      primaryContactId: 1,
      emails: ['george@hillvalley.edu', 'biffsucks@hillvalley.edu'],
      phoneNumbers: ['919191', '717171'],
      secondaryContactIds: [2],
    });
    assert.deepEqual(await rows(), [
      [1, 'george@hillvalley.edu', '919191', 'primary', null],
      [2, 'biffsucks@hillvalley.edu', '717171', 'secondary', 1],
    ]);
  });

  it('3. three customers joined in two steps: no chains', async () => {
    await identify({ email: 'a@x.io', phoneNumber: '111' });
    await identify({ email: 'b@x.io', phoneNumber: '222' });
    await identify({ email: 'c@x.io', phoneNumber: '333' });
    assert.deepEqual(await identify({ email: 'b@x.io', phoneNumber: '333' }), {
      id: 2,
      primaryContactId: 2,
      emails: ['b@x.io', 'c@x.io'],
      phoneNumbers: ['222', '333'],
      secondaryContactIds: [3],
    });
    assert.deepEqual(await identify({ email: 'a@x.io', phoneNumber: '222' }), {
      id: 1,
      primaryContactId: 1,
      emails: ['a@x.io', 'b@x.io', 'c@x.io'],
      phoneNumbers: ['111', '222', '333'],
      secondaryContactIds: [2, 3],
    });
    assert.deepEqual(await rows(), [
      [1, 'a@x.io', '111', 'primary', null],
      [2, 'b@x.io', '222', 'secondary', 1],
      [3, 'c@x.io', '333', 'secondary', 1],
    ]);
  });

  it('4. a secondary with only one identifier', async () => {
    await identify({ email: 'doc@hillvalley.edu', phoneNumber: '555' });
    assert.equal((await identify({ email: 'emmett@hillvalley.edu' })).primaryContactId, 2);
    assert.deepEqual(await identify({ email: 'emmett@hillvalley.edu', phoneNumber: '555' }), {
      id: 1,
      primaryContactId: 1,
      emails: ['doc@hillvalley.edu', 'emmett@hillvalley.edu'],
      phoneNumbers: ['555'],
      secondaryContactIds: [2],
    });
    assert.deepEqual(await identify({ email: 'doc@hillvalley.edu', phoneNumber: '777' }), {
      id: 1,
      primaryContactId: 1,
      emails: ['doc@hillvalley.edu', 'emmett@hillvalley.edu'],
      phoneNumbers: ['555', '777'],
      secondaryContactIds: [2, 3],
    });
    assert.equal((await rows()).length, 3);
  });

  it('5. identifiers are normalised before they are stored and matched', async () => {
    const first = await identify({ email: '  Doc@HillValley.EDU ', phoneNumber: '+1 (555) 010-9999' });
    assert.deepEqual([first.emails, first.phoneNumbers], [['doc@hillvalley.edu'], ['+15550109999']]);
    await identify({ email: 'other@x.io', phoneNumber: '5550109999' });
    const byNumber = await identify({ phoneNumber: 5550109999 });
    assert.deepEqual(byNumber.emails, ['other@x.io']);
    assert.deepEqual(await rows(), [
      [1, 'doc@hillvalley.edu', '+15550109999', 'primary', null],
      [2, 'other@x.io', '5550109999', 'primary', null],
    ]);
  });

  it('6. a primary without an email', async () => {
    assert.deepEqual(await identify({ phoneNumber: '999' }), {
      id: 1,
      primaryContactId: 1,
      emails: [],
      phoneNumbers: ['999'],
      secondaryContactIds: [],
    });
    assert.deepEqual(await identify({ email: 'marty@hillvalley.edu', phoneNumber: '999' }), {
      id: 1,
      primaryContactId: 1,
      emails: ['marty@hillvalley.edu'],
      phoneNumbers: ['999'],
      secondaryContactIds: [2],
    });
  });

  it('repeating any request never adds rows', async () => {
    const requests = [
      { email: 'a@x.io', phoneNumber: '111' },
      { email: 'b@x.io', phoneNumber: '111' },
      { email: 'c@x.io', phoneNumber: '222' },
      { email: 'c@x.io', phoneNumber: '111' },
    ];
    for (const body of requests) await identify(body);
    const before = await rows();
    for (const body of requests) await identify(body);
    assert.deepEqual(await rows(), before);
  });

  it('deleted rows are ignored: a request matching only deleted rows starts a new customer', async () => {
    await identify({ email: 'gone@x.io', phoneNumber: '404' });
    await scratch().db.query(`UPDATE "Contact" SET "deletedAt" = now()`);
    assert.equal((await identify({ email: 'gone@x.io' })).primaryContactId, 2);
  });
});
