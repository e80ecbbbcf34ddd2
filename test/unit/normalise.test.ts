import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createNormaliser,
  PLAIN_RULES,
  normaliseEmail,
  normaliseField,
  normaliseIdentifiers,
  normalisePhoneNumber,
  type Normalised,
  type RawIdentifiers,
} from '../../src/identity/normalise.js';

function value(raw: RawIdentifiers | Normalised) {
  const result = 'ok' in raw ? raw : normaliseIdentifiers(raw);
  assert.ok(result.ok, `expected ${JSON.stringify(raw)} to be valid`);
  return result.value;
}

function failure(raw: RawIdentifiers) {
  const result = normaliseIdentifiers(raw);
  assert.ok(!result.ok, `expected ${JSON.stringify(raw)} to be rejected`);
  return result.code;
}

describe('normalising identifiers', () => {
  it('trims and lower-cases an email', () => {
    assert.equal(value({ email: '  Doc@HillValley.EDU ' }).email, 'doc@hillvalley.edu');
  });

  it('strips spaces, dashes, dots and parentheses from a phone and keeps a leading +', () => {
    assert.equal(value({ phoneNumber: '+1 (555) 010-9999' }).phoneNumber, '+15550109999');
    assert.equal(value({ phoneNumber: '555.010.9999' }).phoneNumber, '5550109999');
  });

  it('rejects an email holding half of a UTF-16 surrogate pair (the database would store U+FFFD instead)', () => {
    assert.equal(failure({ email: 'ls\ud800@ft.test' }), 'INVALID_EMAIL');
    assert.equal(failure({ email: 'ls\udc00@ft.test' }), 'INVALID_EMAIL');
    assert.equal(value({ email: 'emoji\ud83d\ude00@ft.test' }).email, 'emoji\u{1f600}@ft.test', 'a whole pair is fine');
  });

  it('rejects an email with a control character, NUL (which PostgreSQL cannot store) included', () => {
    for (const email of ['nul\u0000@x.io', 'tab\tin@x.io', 'bell\u0007@x.io', 'del\u007f@x.io', 'c1\u0085@x.io']) {
      assert.equal(failure({ email }), 'INVALID_EMAIL', JSON.stringify(email));
    }
    assert.equal(value({ email: '\ta@x.io\r\n' }).email, 'a@x.io', 'blanks around it are trimmed as before');
  });

  it('puts an email in Unicode NFC, so a precomposed and a decomposed é are one email', () => {
    assert.equal(value({ email: 'jose\u0301@x.io' }).email, 'jos\u00e9@x.io');
    assert.equal(value({ email: 'JOS\u00c9@X.IO' }).email, 'jos\u00e9@x.io');
  });

  it('rejects a phone with a NUL or any other character that is not a digit or separator', () => {
    assert.equal(failure({ phoneNumber: '555\u00000123' }), 'INVALID_PHONE_NUMBER');
    assert.equal(
      failure({ phoneNumber: '\u0665\u0665\u0665' }),
      'INVALID_PHONE_NUMBER',
      'digits of other scripts are not matched as ASCII digits',
    );
  });

  it('turns an integer phone into its decimal string', () => {
    assert.equal(value({ phoneNumber: 5550109999 }).phoneNumber, '5550109999');
  });

  it('treats null, missing and empty-after-trim as absent', () => {
    assert.deepEqual(value({ email: null, phoneNumber: '123' }), { email: null, phoneNumber: '123' });
    assert.deepEqual(value({ email: '   ', phoneNumber: '123' }), { email: null, phoneNumber: '123' });
    assert.deepEqual(value({ email: 'a@b.c', phoneNumber: ' ' }), { email: 'a@b.c', phoneNumber: null });
    assert.deepEqual(value({ email: 'a@b.c' }), { email: 'a@b.c', phoneNumber: null });
  });

  it('rejects a request with both identifiers absent', () => {
    assert.equal(failure({}), 'MISSING_IDENTIFIER');
    assert.equal(failure({ email: null, phoneNumber: null }), 'MISSING_IDENTIFIER');
    assert.equal(failure({ email: ' ', phoneNumber: '' }), 'MISSING_IDENTIFIER');
  });

  it('rejects an email without @ or longer than 254 characters', () => {
    assert.equal(failure({ email: 'not-an-email' }), 'INVALID_EMAIL');
    assert.equal(failure({ email: `${'a'.repeat(250)}@b.io` }), 'INVALID_EMAIL');
    assert.equal(value({ email: `${'a'.repeat(248)}@b.io` }).email?.length, 253);
  });

  it('rejects a phone with letters, a misplaced +, or fewer than 3 or more than 20 digits', () => {
    for (const phoneNumber of ['12a45', '1+23', '12', '+12', '1'.repeat(21)]) {
      assert.equal(failure({ phoneNumber }), 'INVALID_PHONE_NUMBER', phoneNumber);
    }
    assert.equal(value({ phoneNumber: '1'.repeat(20) }).phoneNumber, '1'.repeat(20));
    assert.equal(value({ phoneNumber: '+123' }).phoneNumber, '+123');
  });

  it('normalises one field at a time by the same rules, for stored values', () => {
    assert.deepEqual(normaliseEmail(' Foo@X.com '), { ok: true, value: 'foo@x.com' });
    assert.deepEqual(normalisePhoneNumber('(555) 010-9999'), { ok: true, value: '5550109999' });
    assert.deepEqual(normaliseField('email', '  '), { ok: true, value: null });
    assert.deepEqual(normaliseField('phoneNumber', null), { ok: true, value: null });
    assert.equal(normaliseField('email', 'foo.x.com').ok, false);
    const phone = normaliseField('phoneNumber', 'call me');
    assert.ok(!phone.ok);
    assert.equal(phone.code, 'INVALID_PHONE_NUMBER');
  });
});

describe('normalising by the rules a deployment sets (createNormaliser)', () => {
  const india = createNormaliser({ phoneRegion: 'IN', emailCanonicalForm: 'provider' });

  it("without DEFAULT_PHONE_REGION or EMAIL_CANONICAL_FORM, is exactly the seed's rules, for any input", () => {
    const plain = createNormaliser(PLAIN_RULES);
    fc.assert(
      fc.property(fc.string(), fc.string(), (email, phoneNumber) => {
        assert.deepEqual(plain.identifiers({ email, phoneNumber }), normaliseIdentifiers({ email, phoneNumber }));
      }),
    );
  });

  it('with a region, a valid number in any written form is its E.164, a JSON number too', () => {
    for (const typed of ['+91 98765 43210', '098765 43210', '9876543210', '0091 98765 43210', 9876543210]) {
      assert.equal(value(india.identifiers({ phoneNumber: typed })).phoneNumber, '+919876543210', String(typed));
    }
  });

  it("with a region, what is not a valid number keeps the seed's form, and what the seed refuses is still refused", () => {
    assert.equal(value(india.identifiers({ phoneNumber: '123456' })).phoneNumber, '123456');
    assert.equal(value(india.identifiers({ phoneNumber: '+1 (555) 010-9999' })).phoneNumber, '+15550109999');
    const refused = india.identifiers({ phoneNumber: 'call me' });
    assert.deepEqual(refused.ok ? null : refused.code, 'INVALID_PHONE_NUMBER');
  });

  it("with the provider form, the seed's rules first (case, blanks, NFC), then the provider's equivalences", () => {
    assert.equal(value(india.identifiers({ email: '  First.Last+Shop@GoogleMail.com ' })).email, 'firstlast@gmail.com');
    assert.equal(value(india.identifiers({ email: 'first.last+shop@example.com' })).email, 'first.last+shop@example.com');
    const refused = india.identifiers({ email: 'not an email' });
    assert.deepEqual(refused.ok ? null : refused.code, 'INVALID_EMAIL');
  });

  it('stored values are judged by the same rules (field)', () => {
    assert.deepEqual(india.field('phoneNumber', '09876543210'), { ok: true, value: '+919876543210' });
    assert.deepEqual(india.field('email', null), { ok: true, value: null });
  });
});
