/**
 * Matching identifiers the way customers write them (docs/normal-forms.md): phones in E.164 with
 * DEFAULT_PHONE_REGION, emails in their provider's canonical form with EMAIL_CANONICAL_FORM=provider,
 * the rules recorded in the table, start-up's refusal of other rules, and `repair --renormalize`.
 */
import assert from 'node:assert/strict';
import { before, beforeEach, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { governanceStore } from '../../src/db/governanceStore.js';
import { checkInvariants } from '../../src/db/invariants.js';
import { adoptOrCompareRules, readRecordedRules, recordRules } from '../../src/db/normalFormStore.js';
import type { Database } from '../../src/db/database.js';
import type { NormalFormRules } from '../../src/identity/normalise.js';
import { renormalize } from '../../src/identity/renormalize.js';
import { createServices, DEFAULT_GOVERNANCE, type Services } from '../../src/services.js';
import { assertError, buildInProcessApp, postIdentify, storedRows } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

const PLAIN: NormalFormRules = { phoneRegion: null, emailCanonicalForm: 'none' };
const INDIA: NormalFormRules = { phoneRegion: 'IN', emailCanonicalForm: 'provider' };

function appWith(db: Database, rules: NormalFormRules): Promise<FastifyInstance> {
  return buildInProcessApp({
    db,
    ...createServices(db, DEFAULT_GOVERNANCE, { rules }),
    responseFormat: 'customer',
    logLevel: 'silent',
    http: { adminApiOpen: true },
  });
}

interface Answer {
  id: number;
  primaryContactId: number;
  emails: string[];
  phoneNumbers: string[];
  secondaryContactIds: number[];
}

async function identify(app: FastifyInstance, body: object): Promise<Answer> {
  const response = await postIdentify(app, body);
  assert.equal(response.statusCode, 200, response.body);
  return response.json().customer as Answer;
}

function invariantsBroken(db: Database): Promise<string[]> {
  return checkInvariants(db).then((results) => results.filter((result) => result.count > 0).map((result) => result.invariant));
}

describeOnEachDatabase(
  'identifiers matched as customers write them (DEFAULT_PHONE_REGION=IN, EMAIL_CANONICAL_FORM=provider)',
  (scratch) => {
    let app: FastifyInstance;
    before(async () => {
      app = await appWith(scratch().db, INDIA);
    });
    beforeEach(async () => {
      await scratch().reset();
      await recordRules(scratch().db, INDIA);
    });

    it('joins one phone as an Indian shopper types it on three checkouts: +91 98765 43210, 098765 43210, 9876543210', async () => {
      await identify(app, { email: 'a@x.io', phoneNumber: '+91 98765 43210' });
      await identify(app, { email: 'b@x.io', phoneNumber: '098765 43210' });
      const customer = await identify(app, { email: 'c@x.io', phoneNumber: '9876543210' });
      assert.deepEqual(customer, {
        id: 1,
        primaryContactId: 1,
        emails: ['a@x.io', 'b@x.io', 'c@x.io'],
        phoneNumbers: ['+919876543210'],
        secondaryContactIds: [2, 3],
      });
    });

    it('stores the E.164 form, whichever form came in, and a JSON number is a phone typed without separators', async () => {
      await identify(app, { phoneNumber: 9876543210 });
      await identify(app, { email: 'b@x.io', phoneNumber: '0091-98765-43210' });
      assert.deepEqual(
        (await storedRows(scratch().db)).map((row) => row.phoneNumber),
        ['+919876543210', '+919876543210'],
      );
    });

    it("keeps the seed's digits-only form for what is not a valid number (123456, a short code), so nothing is newly refused", async () => {
      assert.deepEqual((await identify(app, { phoneNumber: '123456' })).phoneNumbers, ['123456']);
      assert.deepEqual((await identify(app, { phoneNumber: '1-0-0' })).phoneNumbers, ['100']);
    });

    it('joins Gmail addresses that differ only in dots, a +tag, or googlemail.com', async () => {
      await identify(app, { email: 'First.Last+shop@googlemail.com' });
      const customer = await identify(app, { email: 'firstlast@gmail.com', phoneNumber: '123456' });
      assert.deepEqual([customer.primaryContactId, customer.emails], [1, ['firstlast@gmail.com']]);
    });

    it('the read API finds a customer by any written form and says which normal form it searched for', async () => {
      await identify(app, { email: 'a@x.io', phoneNumber: '+91 98765 43210' });
      const response = await app.inject({ method: 'GET', url: `/customers/lookup?phoneNumber=${encodeURIComponent('098765-43210')}` });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json().searched, { email: null, phoneNumber: '+919876543210' });
      assert.equal(response.json().customer.primaryContactId, 1);
    });

    it('stores an exact block rule in the normal form, so it blocks the number however it is written', async () => {
      const added = await app.inject({
        method: 'POST',
        url: '/admin/blocked',
        payload: { field: 'phoneNumber', value: '098765 43210', reason: 'shop' },
      });
      assert.equal(added.statusCode, 201, added.body);
      assert.equal(added.json().rule.value, '+919876543210');
      assertError(await postIdentify(app, { phoneNumber: '+91 98765 43210' }), 422, 'BLOCKED_IDENTIFIER');
    });
  },
);

describeOnEachDatabase('changing the rules of a table that has rows', (scratch) => {
  let plainApp: FastifyInstance;
  let indiaApp: FastifyInstance;
  before(async () => {
    plainApp = await appWith(scratch().db, PLAIN);
    indiaApp = await appWith(scratch().db, INDIA);
  });
  beforeEach(() => scratch().reset());
  const store = () => governanceStore(scratch().db);

  it("start-up: an empty table takes the process's rules and records them", async () => {
    assert.deepEqual(await adoptOrCompareRules(scratch().db, INDIA), { kind: 'adopted' });
    assert.deepEqual((await readRecordedRules(scratch().db)).rules, INDIA);
    assert.deepEqual(await adoptOrCompareRules(scratch().db, INDIA), { kind: 'same' });
  });

  it("start-up refuses other rules than the table's once it has rows: one line naming both and the way out", async () => {
    await identify(plainApp, { email: 'a@x.io', phoneNumber: '9876543210' });
    const verdict = await adoptOrCompareRules(scratch().db, INDIA);
    assert.equal(verdict.kind, 'refused');
    const { message } = verdict as { message: string };
    assert.match(
      message,
      /DEFAULT_PHONE_REGION=\(unset\), EMAIL_CANONICAL_FORM=none.*DEFAULT_PHONE_REGION=IN, EMAIL_CANONICAL_FORM=provider/,
    );
    assert.match(message, /repair --renormalize/);
    assert.doesNotMatch(message, /\n/);
  });

  it('renormalize rewrites stored values to the new form and joins the customers that become one, the oldest row primary', async () => {
    await identify(plainApp, { email: 'a@x.io', phoneNumber: '9876543210' });
    await identify(plainApp, { email: 'b@x.io', phoneNumber: '098765 43210' });
    await identify(plainApp, { email: 'First.Last@gmail.com', phoneNumber: '+91 98765 43210' });
    await identify(plainApp, { email: 'firstlast+x@googlemail.com' });
    const result = await renormalize(store(), INDIA, { batchSize: 2 });
    assert.deepEqual([result.scanned, result.rewritten, result.absorbed, result.invalid], [4, 4, 3, 0]);
    assert.deepEqual(
      (await storedRows(scratch().db)).map((row) => [row.id, row.email, row.phoneNumber, row.linkedId, row.linkPrecedence]),
      [
        [1, 'a@x.io', '+919876543210', null, 'primary'],
        [2, 'b@x.io', '+919876543210', 1, 'secondary'],
        [3, 'firstlast@gmail.com', '+919876543210', 1, 'secondary'],
        [4, 'firstlast@gmail.com', null, 1, 'secondary'],
      ],
    );
    assert.deepEqual((await readRecordedRules(scratch().db)).rules, INDIA);
    assert.deepEqual(await invariantsBroken(scratch().db), ['I4']);
    const merged = await scratch().db.query<{ cause: string }>(
      `SELECT "detail"->>'cause' AS cause FROM "ContactEvent" WHERE "type" = 'customer.merged' AND "detail"->>'cause' = 'renormalize'`,
    );
    assert.ok(merged.length >= 1, 'the joins are in the event log');
    assert.deepEqual((await identify(indiaApp, { phoneNumber: '+919876543210' })).primaryContactId, 1);
  });

  it('a process still on the old rules answers 503 NORMAL_FORM_CHANGED once the table has moved, echoing nothing', async () => {
    await identify(plainApp, { email: 'a@x.io', phoneNumber: '9876543210' });
    await renormalize(store(), INDIA);
    const response = await postIdentify(plainApp, { email: 'a@x.io', phoneNumber: '9876543210' });
    assertError(response, 503, 'NORMAL_FORM_CHANGED');
    assert.doesNotMatch(response.body, /9876543210|a@x\.io/);
    assert.equal((await storedRows(scratch().db)).length, 1, 'nothing written');
  });

  it('renormalize runs while a process on the old rules serves: each answer is 200 or 503 NORMAL_FORM_CHANGED, and afterwards every value is in the new form and the invariants hold', async () => {
    for (let i = 0; i < 60; i++) await identify(plainApp, { email: `s${i}@x.io`, phoneNumber: `0987654${String(3200 + (i % 20))}` });
    let serving = true;
    const statuses: number[] = [];
    const traffic = (async () => {
      for (let i = 0; serving; i++) {
        const response = await postIdentify(plainApp, { email: `t${i}@x.io`, phoneNumber: `987654${String(3200 + (i % 30))}` });
        statuses.push(response.statusCode);
        if (response.statusCode !== 200) assertError(response, 503, 'NORMAL_FORM_CHANGED');
      }
    })();
    const result = await renormalize(store(), INDIA, { batchSize: 7 });
    serving = false;
    await traffic;
    assert.ok(result.rewritten >= 60, `rewrote ${result.rewritten}`);
    assert.ok(statuses.length > 0);
    assert.deepEqual(await invariantsBroken(scratch().db), []);
    const oldForms = await scratch().db.query('SELECT "id" FROM "Contact" WHERE "phoneNumber" NOT LIKE \'+91%\'');
    assert.deepEqual(oldForms, []);
  });

  it("check reports the rows that are not in the table's normal form (N1)", async () => {
    await identify(plainApp, { email: 'a@x.io', phoneNumber: '9876543210' });
    await identify(plainApp, { email: 'b@x.io', phoneNumber: '123456' });
    await recordRules(scratch().db, INDIA);
    const n1 = (await checkInvariants(scratch().db)).find((result) => result.invariant === 'N1');
    assert.deepEqual([n1?.count, n1?.examples], [1, [1]]);
  });

  it('exact block rules move to the new form and go on blocking what they blocked; duplicates are merged, the oldest kept', async () => {
    for (const value of ['98765 43210', '098765 43210']) {
      const added = await plainApp.inject({
        method: 'POST',
        url: '/admin/blocked',
        payload: { field: 'phoneNumber', value, reason: 'shop' },
      });
      assert.equal(added.statusCode, 201, added.body);
    }
    const result = await renormalize(store(), INDIA);
    assert.equal(result.blockRulesRewritten, 2);
    const rules = await scratch().db.query<{ id: number; value: string }>('SELECT "id", "value" FROM "BlockedIdentifier"');
    assert.deepEqual(rules, [{ id: 1, value: '+919876543210' }]);
    assertError(await postIdentify(indiaApp, { phoneNumber: '+91 98765 43210' }), 422, 'BLOCKED_IDENTIFIER');
  });
});

/** What serving a history leaves: the answers' identifiers, and which identifiers are one customer. */
interface Outcome {
  answers: { emails: string[]; phoneNumbers: string[] }[];
  customers: string[];
}

async function serve(services: Services, requests: readonly { email?: string; phoneNumber?: string }[]) {
  const answers: Outcome['answers'] = [];
  for (const raw of requests) {
    const normalised = services.normaliser.identifiers(raw);
    assert.ok(normalised.ok);
    const { customer } = await services.identifyService.identify(normalised.value);
    answers.push({ emails: customer.emails, phoneNumbers: customer.phoneNumbers });
  }
  return answers;
}

async function customersOf(db: Database): Promise<string[]> {
  const byOwner = new Map<number, Set<string>>();
  for (const row of await storedRows(db)) {
    const owner = row.linkedId ?? row.id;
    const values = byOwner.get(owner) ?? new Set<string>();
    if (row.email !== null) values.add(`e:${row.email}`);
    if (row.phoneNumber !== null) values.add(`p:${row.phoneNumber}`);
    byOwner.set(owner, values);
  }
  return [...byOwner.values()].map((values) => [...values].sort().join(' ')).sort();
}

const PHONES = ['+91 98765 43210', '098765 43210', '9876543210', '0091 98765 43210', '98765-43211', '+919876543211', '123456', '0123456'];
const EMAILS = ['a@x.io', 'b@x.io', 'First.Last@gmail.com', 'firstlast+x@googlemail.com', 'FIRSTLAST@gmail.com'];
const request = fc
  .record({
    email: fc.option(fc.constantFrom(...EMAILS), { nil: undefined }),
    phoneNumber: fc.option(fc.constantFrom(...PHONES), { nil: undefined }),
  })
  .filter((r) => r.email !== undefined || r.phoneNumber !== undefined)
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, value]) => value !== undefined)) as { email?: string; phoneNumber?: string });

describeOnEachDatabase('renormalising, then serving, equals serving with the new rules from the start', (scratch) => {
  it('holds for random histories (the answers after, and which identifiers are one customer)', async () => {
    const db = () => scratch().db;
    const plain = createServices(db(), DEFAULT_GOVERNANCE, { rules: PLAIN });
    const india = createServices(db(), DEFAULT_GOVERNANCE, { rules: INDIA });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { maxLength: 8 }), fc.array(request, { minLength: 1, maxLength: 4 }), async (earlier, later) => {
        await scratch().reset();
        await serve(plain, earlier);
        await renormalize(governanceStore(db()), INDIA, { batchSize: 3 });
        const renormalised: Outcome = { answers: await serve(india, later), customers: await customersOf(db()) };
        const broken = (await invariantsBroken(db())).filter((invariant) => invariant !== 'I4');

        await scratch().reset();
        await recordRules(db(), INDIA);
        await serve(india, earlier);
        const fromTheStart: Outcome = { answers: await serve(india, later), customers: await customersOf(db()) };

        assert.deepEqual(broken, []);
        assert.deepEqual(renormalised, fromTheStart);
      }),
      { numRuns: 25 },
    );
  });
});
