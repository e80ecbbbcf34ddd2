/**
 * providerForm: an email in today's normal form (NFC, trimmed, lower case, shape-checked by
 * normalise.ts — so no row here has capitals or a decomposed accent the caller would not have
 * composed) becomes the form its provider documents as the same mailbox.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { domainForm, EMAIL_CANONICAL_FORMS, PROVIDERS, providerForm } from '../../src/identity/emailForms.js';

interface Row {
  name: string;
  email: string;
  expected: string;
}

function check(rows: Row[]) {
  for (const { name, email, expected } of rows) {
    it(`${name}: ${email} → ${expected}`, () => {
      assert.equal(providerForm(email), expected);
    });
  }
}

describe('Gmail: dots are ignored, a +tag is dropped, googlemail.com is gmail.com', () => {
  check([
    { name: 'dots in the local part', email: 'first.last@gmail.com', expected: 'firstlast@gmail.com' },
    { name: 'dots anywhere, doubled too', email: 'f.i.r.s.t..last.@gmail.com', expected: 'firstlast@gmail.com' },
    { name: 'a +tag', email: 'firstlast+shop@gmail.com', expected: 'firstlast@gmail.com' },
    { name: 'dots and a +tag', email: 'first.last+shop@gmail.com', expected: 'firstlast@gmail.com' },
    { name: 'everything from the first +, dots in the tag too', email: 'first.last+a.b+c@gmail.com', expected: 'firstlast@gmail.com' },
    { name: 'googlemail.com is written gmail.com', email: 'firstlast@googlemail.com', expected: 'firstlast@gmail.com' },
    { name: 'googlemail.com with dots and a tag', email: 'first.last+shop@googlemail.com', expected: 'firstlast@gmail.com' },
    { name: 'already canonical', email: 'firstlast@gmail.com', expected: 'firstlast@gmail.com' },
  ]);
});

describe('providers that document plus addressing: the +tag is dropped, dots stay', () => {
  check([
    { name: 'Outlook.com', email: 'first.last+shop@outlook.com', expected: 'first.last@outlook.com' },
    { name: 'Hotmail', email: 'first.last+shop@hotmail.com', expected: 'first.last@hotmail.com' },
    { name: 'Live', email: 'name+news@live.com', expected: 'name@live.com' },
    { name: 'MSN', email: 'name+news@msn.com', expected: 'name@msn.com' },
    { name: 'Proton (proton.me)', email: 'first.last+shop@proton.me', expected: 'first.last@proton.me' },
    { name: 'Proton (protonmail.com)', email: 'name+shop@protonmail.com', expected: 'name@protonmail.com' },
    { name: 'Proton (protonmail.ch)', email: 'name+shop@protonmail.ch', expected: 'name@protonmail.ch' },
    { name: 'Proton (pm.me)', email: 'name+shop@pm.me', expected: 'name@pm.me' },
    { name: 'Proton domains stay apart', email: 'name@pm.me', expected: 'name@pm.me' },
    { name: 'Fastmail (fastmail.com)', email: 'first.last+hiking@fastmail.com', expected: 'first.last@fastmail.com' },
    { name: 'Fastmail (fastmail.fm)', email: 'name+hiking@fastmail.fm', expected: 'name@fastmail.fm' },
    { name: 'everything from the first +', email: 'name+a+b@outlook.com', expected: 'name@outlook.com' },
    { name: 'no tag: unchanged', email: 'first.last@outlook.com', expected: 'first.last@outlook.com' },
  ]);
});

describe('every other domain keeps its local part', () => {
  check([
    { name: 'a domain not in the table', email: 'first.last+tag@example.com', expected: 'first.last+tag@example.com' },
    {
      name: 'a Google Workspace domain keeps its dots and its +',
      email: 'first.last+tag@company.example',
      expected: 'first.last+tag@company.example',
    },
    { name: 'Yahoo: its -keyword addresses are not derivable', email: 'base-keyword+x@yahoo.com', expected: 'base-keyword+x@yahoo.com' },
    { name: 'iCloud: not in the table', email: 'first.last+tag@icloud.com', expected: 'first.last+tag@icloud.com' },
    {
      name: 'a subdomain of a provider is not the provider',
      email: 'first.last+tag@mail.gmail.com',
      expected: 'first.last+tag@mail.gmail.com',
    },
    { name: 'gmail.com with a trailing dot is not in the table', email: 'first.last@gmail.com.', expected: 'first.last@gmail.com.' },
    { name: 'an Object.prototype name as a domain', email: 'a.b+c@constructor', expected: 'a.b+c@constructor' },
    { name: '__proto__ as a domain', email: 'a.b+c@__proto__', expected: 'a.b+c@__proto__' },
  ]);
});

describe('a local part the rules would empty is left as it was', () => {
  check([
    { name: 'only a tag', email: '+tag@gmail.com', expected: '+tag@gmail.com' },
    { name: 'only dots', email: '...@gmail.com', expected: '...@gmail.com' },
    { name: 'dots then a tag', email: '.+tag@gmail.com', expected: '.+tag@gmail.com' },
    { name: 'googlemail.com stays googlemail.com then', email: '+tag@googlemail.com', expected: '+tag@googlemail.com' },
    { name: 'only a tag at Outlook.com', email: '+tag@outlook.com', expected: '+tag@outlook.com' },
    { name: 'only a + at Proton', email: '+@proton.me', expected: '+@proton.me' },
  ]);
});

describe('internationalised domains are compared in one form: Unicode, NFC, lower case', () => {
  check([
    { name: 'punycode becomes Unicode', email: 'anna@xn--bcher-kva.example', expected: 'anna@bücher.example' },
    { name: 'Unicode stays Unicode', email: 'anna@bücher.example', expected: 'anna@bücher.example' },
    {
      name: 'a decomposed ü (which the caller composes first anyway) is composed',
      email: 'anna@bu\u0308cher.example',
      expected: 'anna@bücher.example',
    },
    { name: 'a punycode Hindi domain', email: 'a@xn--11b5bs3a9aj6g.xn--i1b6b1a6a2e', expected: 'a@परीक्षा.संगठन' },
    { name: 'a punycode emoji domain', email: 'a@xn--ls8h.la', expected: 'a@💩.la' },
    { name: 'ß is kept (nontransitional UTS #46)', email: 'a@xn--fa-hia.de', expected: 'a@faß.de' },
    { name: 'full-width letters are the ASCII domain', email: 'first.last@ｇｍａｉｌ.ｃｏｍ', expected: 'firstlast@gmail.com' },
    { name: 'the local part is not converted', email: 'xn--bcher-kva@xn--bcher-kva.example', expected: 'xn--bcher-kva@bücher.example' },
    { name: 'a lookalike with a dotless ı is not Gmail', email: 'a+b@xn--gmal-nza.com', expected: 'a+b@gmaıl.com' },
    { name: 'a domain that fails conversion is kept', email: 'a@999.999.999.999', expected: 'a@999.999.999.999' },
    { name: 'a punycode label that is not valid is kept', email: 'a@xn--a.com', expected: 'a@xn--a.com' },
    { name: 'a punycode label decoding to plain ASCII is kept', email: 'a@xn--invalid-.com', expected: 'a@xn--invalid-.com' },
    { name: 'a / is not read as a URL path', email: 'a@x/y.com', expected: 'a@x/y.com' },
    { name: 'a %-escape is not decoded', email: 'a@a%2eb.com', expected: 'a@a%2eb.com' },
    { name: 'a number-like last label is not read as IPv4', email: 'a@0x7f.1', expected: 'a@0x7f.1' },
    { name: 'a domain literal is kept', email: 'a@[127.0.0.1]', expected: 'a@[127.0.0.1]' },
    { name: 'an underscore is kept', email: 'a@a_b.example', expected: 'a@a_b.example' },
  ]);
});

describe('not an address', () => {
  check([
    { name: 'no @', email: 'first.last', expected: 'first.last' },
    { name: 'two @', email: 'a@b@gmail.com', expected: 'a@b@gmail.com' },
    { name: 'empty local part', email: '@gmail.com', expected: '@gmail.com' },
    { name: 'empty domain', email: 'a.b@', expected: 'a.b@' },
    { name: 'empty', email: '', expected: '' },
  ]);
});

describe('the table', () => {
  it('names the two forms', () => {
    assert.deepEqual([...EMAIL_CANONICAL_FORMS], ['none', 'provider']);
  });

  it('keys every provider by a domain already in its one form, with a why', () => {
    for (const [domain, rule] of Object.entries(PROVIDERS)) {
      assert.equal(domainForm(domain), domain);
      assert.ok(rule.why.length > 20, domain);
      assert.ok(rule.ignoresDots || rule.dropsPlusTag, domain);
      if (rule.domain !== undefined) assert.ok(Object.hasOwn(PROVIDERS, rule.domain), `${domain} is written as a listed domain`);
    }
  });
});

describe('properties', () => {
  const SHAPE = /^[^\s@]+@[^\s@]+$/;
  const local = fc.string({ unit: fc.constantFrom('a', 'b', '.', '+', '-', '_', 'é', '1'), minLength: 1, maxLength: 10 });
  const domain = fc.oneof(
    fc.constantFrom(
      ...Object.keys(PROVIDERS),
      'example.com',
      'xn--bcher-kva.example',
      'bücher.example',
      'ｇｍａｉｌ.ｃｏｍ',
      'xn--invalid-.com',
    ),
    fc.constantFrom(...Object.keys(PROVIDERS)).map((listed) => listed.toUpperCase()),
    fc.domain(),
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  );
  const email = fc.oneof(
    fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`),
    fc.emailAddress(),
    fc.string(),
    fc.string({ unit: 'binary' }),
  );

  it('never throws and is idempotent', () => {
    fc.assert(
      fc.property(email, (address) => {
        const once = providerForm(address);
        assert.equal(providerForm(once), once);
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps the caller's shape: one @, no blanks, neither side empty", () => {
    fc.assert(
      fc.property(email, (address) => {
        if (SHAPE.test(address)) assert.match(providerForm(address), SHAPE);
      }),
      { numRuns: 3000 },
    );
  });
});
