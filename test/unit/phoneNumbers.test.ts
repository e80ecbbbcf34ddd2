/**
 * internationalForm: a phone as a shopper typed it, and the region it is read in, give its E.164
 * form when it is a valid number, and null otherwise. Every number below is one the `max` metadata
 * of libphonenumber-js calls valid (most are its own example numbers: IN +918123456789, US
 * +12015550123, GB +447400123456, DE +4915123456789); every null is a number it calls invalid.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { getExampleNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { internationalForm, isPhoneRegion, SUPPORTED_PHONE_REGIONS, type PhoneRegion } from '../../src/identity/phoneNumbers.js';

interface Row {
  name: string;
  typed: string;
  region: PhoneRegion;
  expected: string | null;
}

function check(rows: Row[]) {
  for (const { name, typed, region, expected } of rows) {
    it(`${name}: ${JSON.stringify(typed)} in ${region} → ${expected ?? 'null'}`, () => {
      assert.equal(internationalForm(typed, region), expected);
    });
  }
}

describe('a valid number written nationally or internationally gets its E.164 form', () => {
  describe('India (trunk prefix 0, international prefix 00)', () => {
    check([
      { name: 'a mobile as written nationally', typed: '98765 43210', region: 'IN', expected: '+919876543210' },
      { name: 'the example mobile with the trunk prefix', typed: '081234 56789', region: 'IN', expected: '+918123456789' },
      { name: 'the example mobile without the trunk prefix', typed: '81234 56789', region: 'IN', expected: '+918123456789' },
      { name: 'with the country code and no +', typed: '918123456789', region: 'IN', expected: '+918123456789' },
      { name: 'with +', typed: '+91 81234 56789', region: 'IN', expected: '+918123456789' },
      { name: 'with 00', typed: '0091 81234 56789', region: 'IN', expected: '+918123456789' },
      { name: 'with dashes', typed: '081234-56789', region: 'IN', expected: '+918123456789' },
      { name: 'with dots', typed: '81234.56789', region: 'IN', expected: '+918123456789' },
      { name: 'with brackets around the trunk prefix', typed: '(0) 81234 56789', region: 'IN', expected: '+918123456789' },
      { name: 'with a national prefix after the country code', typed: '+91 (0)81234 56789', region: 'IN', expected: '+918123456789' },
      { name: 'a Delhi landline: 011 is trunk 0 + area 11 here', typed: '011 2345 6789', region: 'IN', expected: '+911123456789' },
      { name: 'with an extension', typed: '+91 81234 56789 ext. 12', region: 'IN', expected: '+918123456789' },
      { name: 'already E.164', typed: '+918123456789', region: 'IN', expected: '+918123456789' },
      { name: 'all nines is a mobile in an allocated range, so valid', typed: '9999999999', region: 'IN', expected: '+919999999999' },
    ]);
  });

  describe('United States (trunk prefix 1, international prefix 011)', () => {
    check([
      { name: 'the example number with brackets and a dash', typed: '(201) 555-0123', region: 'US', expected: '+12015550123' },
      { name: 'with dashes', typed: '201-555-0123', region: 'US', expected: '+12015550123' },
      { name: 'with dots', typed: '201.555.0123', region: 'US', expected: '+12015550123' },
      { name: 'with the trunk prefix 1 (also the country code)', typed: '1 201 555 0123', region: 'US', expected: '+12015550123' },
      { name: 'with +1', typed: '+1 (201) 555-0123', region: 'US', expected: '+12015550123' },
      { name: 'with 00 although US dials 011', typed: '001 201 555 0123', region: 'US', expected: '+12015550123' },
      { name: "with the US's own international prefix 011", typed: '011 44 7400 123456', region: 'US', expected: '+447400123456' },
      { name: 'with 00 to another country', typed: '00 44 7400 123456', region: 'US', expected: '+447400123456' },
      { name: 'with an x extension', typed: '(201) 555-0123 x12', region: 'US', expected: '+12015550123' },
      { name: 'a toll-free number', typed: '1-800-555-0199', region: 'US', expected: '+18005550199' },
      {
        name: 'a 555-01XX "fictional" number with an area code is still valid to the library',
        typed: '(212) 555-0100',
        region: 'US',
        expected: '+12125550100',
      },
      { name: 'a Canadian number shares the +1 plan', typed: '(604) 555-0123', region: 'US', expected: '+16045550123' },
    ]);
  });

  describe('United Kingdom (trunk prefix 0, international prefix 00)', () => {
    check([
      { name: 'the example mobile with the trunk prefix', typed: '07400 123456', region: 'GB', expected: '+447400123456' },
      { name: 'the example mobile without the trunk prefix', typed: '7400 123456', region: 'GB', expected: '+447400123456' },
      { name: 'with the country code and no +', typed: '447400123456', region: 'GB', expected: '+447400123456' },
      { name: 'with + and the customary (0)', typed: '+44 (0) 7400 123456', region: 'GB', expected: '+447400123456' },
      { name: 'with 00', typed: '0044 7400 123456', region: 'GB', expected: '+447400123456' },
      { name: 'with dashes', typed: '07400-123-456', region: 'GB', expected: '+447400123456' },
      { name: 'a London landline', typed: '020 7946 0958', region: 'GB', expected: '+442079460958' },
      { name: 'with a #extension', typed: '020 7946 0958 #12', region: 'GB', expected: '+442079460958' },
      { name: 'an Isle of Man mobile shares the +44 plan', typed: '07624 369230', region: 'GB', expected: '+447624369230' },
    ]);
  });

  describe('Germany (trunk prefix 0, international prefix 00)', () => {
    check([
      { name: 'the example mobile with the trunk prefix', typed: '01512 3456789', region: 'DE', expected: '+4915123456789' },
      { name: 'the example mobile without the trunk prefix', typed: '1512 3456789', region: 'DE', expected: '+4915123456789' },
      { name: 'with +', typed: '+49 1512 3456789', region: 'DE', expected: '+4915123456789' },
      { name: 'with 00', typed: '0049 1512 3456789', region: 'DE', expected: '+4915123456789' },
      { name: 'with a dash', typed: '01512-3456789', region: 'DE', expected: '+4915123456789' },
      { name: 'a Berlin landline with brackets', typed: '(030) 1234567', region: 'DE', expected: '+49301234567' },
      { name: 'with an extension', typed: '030 1234567 extension 12', region: 'DE', expected: '+49301234567' },
      {
        name: 'the country code without + is read as national digits, which are valid in the open German plan',
        typed: '49 1512 3456789',
        region: 'DE',
        expected: '+494915123456789',
      },
    ]);
  });

  describe('another region with its own international prefix', () => {
    check([
      { name: "AU's own 0011 wins over reading 00 as +", typed: '0011 44 7400 123456', region: 'AU', expected: '+447400123456' },
      { name: 'AU with 00', typed: '00 44 7400 123456', region: 'AU', expected: '+447400123456' },
    ]);
  });
});

describe('an extension is dropped: E.164 has none, and the line is the identifier', () => {
  check([
    { name: 'ext.', typed: '201-555-0123 ext. 12', region: 'US', expected: '+12015550123' },
    { name: 'EXT in capitals', typed: '201-555-0123 EXT 12', region: 'US', expected: '+12015550123' },
    { name: 'extn', typed: '201-555-0123 extn 12', region: 'US', expected: '+12015550123' },
    { name: 'extension', typed: '201-555-0123 extension 12', region: 'US', expected: '+12015550123' },
    { name: 'ext:', typed: '201-555-0123 ext: 12', region: 'US', expected: '+12015550123' },
    { name: 'x stuck to the number', typed: '201-555-0123x12', region: 'US', expected: '+12015550123' },
    { name: 'X with a space', typed: '201-555-0123 X 12', region: 'US', expected: '+12015550123' },
    { name: '#', typed: '201-555-0123 #12', region: 'US', expected: '+12015550123' },
    { name: 'RFC 3966 ;ext=', typed: '+12015550123;ext=12', region: 'US', expected: '+12015550123' },
    { name: 'a marker with no digits is not an extension', typed: '201-555-0123 ext.', region: 'US', expected: null },
    { name: 'a lone #', typed: '201-555-0123 #', region: 'US', expected: null },
    { name: 'an extension alone', typed: 'x12', region: 'US', expected: null },
    { name: "the library's ~ marker is not taken", typed: '201-555-0123 ~12', region: 'US', expected: null },
  ]);
});

describe('what is not a valid number gives null (the caller keeps the digits-only form)', () => {
  check([
    { name: 'six digits', typed: '123456', region: 'IN', expected: null },
    { name: 'six digits', typed: '123456', region: 'US', expected: null },
    { name: 'six digits', typed: '123456', region: 'GB', expected: null },
    { name: 'six digits', typed: '123456', region: 'DE', expected: null },
    { name: 'the emergency short code', typed: '112', region: 'IN', expected: null },
    { name: 'the emergency short code', typed: '112', region: 'DE', expected: null },
    { name: 'the police short code', typed: '100', region: 'IN', expected: null },
    { name: 'the emergency short code', typed: '911', region: 'US', expected: null },
    { name: 'the emergency short code', typed: '999', region: 'GB', expected: null },
    { name: 'all zeros', typed: '0000000000', region: 'IN', expected: null },
    { name: 'all zeros', typed: '0000000000', region: 'US', expected: null },
    { name: 'all zeros', typed: '0000000000', region: 'GB', expected: null },
    { name: 'all zeros', typed: '0000000000', region: 'DE', expected: null },
    { name: 'all ones: no area code starts with 1', typed: '1111111111', region: 'US', expected: null },
    { name: 'all nines: area code 999 is not assigned', typed: '9999999999', region: 'US', expected: null },
    { name: 'all nines', typed: '9999999999', region: 'GB', expected: null },
    { name: 'all nines', typed: '9999999999', region: 'DE', expected: null },
    { name: 'a 555-0100 number without an area code is too short', typed: '555-0100', region: 'US', expected: null },
    {
      name: "in US, 011 is the international prefix, so Delhi's 011 number is not one",
      typed: '011 2345 6789',
      region: 'US',
      expected: null,
    },
    { name: 'an unassigned country code', typed: '+999 1234 5678', region: 'IN', expected: null },
    { name: 'letters in the number', typed: '98765 abc 43210', region: 'IN', expected: null },
    { name: 'words around it', typed: 'call 98765 43210', region: 'IN', expected: null },
    { name: 'a tel: URI', typed: 'tel:+919876543210', region: 'IN', expected: null },
    { name: 'a + that is not leading', typed: '+91 98765 43210+', region: 'IN', expected: null },
    { name: 'a slash, which is not one of the separators', typed: '98765/43210', region: 'IN', expected: null },
    { name: 'full-width digits', typed: '\uff19\uff18\uff17\uff16\uff15\uff14\uff13\uff12\uff11\uff10', region: 'IN', expected: null },
    { name: 'Arabic-Indic digits', typed: '\u0669\u0668\u0667\u0666\u0665\u0664\u0663\u0662\u0661\u0660', region: 'IN', expected: null },
    { name: 'a NUL inside', typed: '98765\u000043210', region: 'IN', expected: null },
    { name: 'empty', typed: '', region: 'IN', expected: null },
    { name: 'blank', typed: '  \t ', region: 'IN', expected: null },
    { name: 'a lone +', typed: '+', region: 'US', expected: null },
    { name: 'a lone 00', typed: '00', region: 'US', expected: null },
  ]);
});

describe('the region is only a default', () => {
  check([
    { name: 'a +44 number typed in IN is the GB number', typed: '+44 7400 123456', region: 'IN', expected: '+447400123456' },
    { name: 'a 0044 number typed in IN is the GB number', typed: '0044 7400 123456', region: 'IN', expected: '+447400123456' },
    { name: 'a +91 number typed in US is the IN number', typed: '+91 98765 43210', region: 'US', expected: '+919876543210' },
    { name: 'a (+44) in brackets: brackets are separators', typed: '(+44) 7400 123456', region: 'DE', expected: '+447400123456' },
    { name: 'the same ten digits in US', typed: '2079460958', region: 'US', expected: '+12079460958' },
    { name: 'the same ten digits in GB', typed: '2079460958', region: 'GB', expected: '+442079460958' },
    { name: 'the same ten digits in IN', typed: '2079460958', region: 'IN', expected: '+912079460958' },
    { name: 'the same ten digits in DE are not a valid number', typed: '2079460958', region: 'DE', expected: null },
  ]);

  it("every region's example mobile number, written nationally, gives its E.164 form (all 245 regions)", () => {
    for (const region of SUPPORTED_PHONE_REGIONS) {
      const example = getExampleNumber(region, examples);
      assert.ok(example, region);
      assert.equal(internationalForm(example.formatNational(), region), example.number, `${region} ${example.formatNational()}`);
      assert.equal(internationalForm(example.formatInternational(), 'US'), example.number, `${region} ${example.formatInternational()}`);
    }
  });
});

describe('a phone typed again (remembered: the answer is a pure function of the text and region)', () => {
  it('gives the right form the second time too, for valid and for not valid numbers (null, not the remembered marker)', () => {
    for (const [typed, region, expected] of [
      ['098765 43210', 'IN', '+919876543210'],
      ['0000000000', 'US', null],
      ['07400 123456', 'GB', '+447400123456'],
    ] as const) {
      for (const time of ['first', 'second']) assert.equal(internationalForm(typed, region), expected, `${time}: ${region} ${typed}`);
    }
  });

  it('remembers per region: the same text read in another region is read again', () => {
    assert.equal(internationalForm('2079460958', 'US'), '+12079460958');
    assert.equal(internationalForm('2079460958', 'DE'), null);
    assert.equal(internationalForm('2079460958', 'GB'), '+442079460958');
    assert.equal(internationalForm('2079460958', 'US'), '+12079460958');
  });
});

describe('regions', () => {
  it('accepts the upper-case ISO 3166-1 alpha-2 codes the metadata supports', () => {
    for (const code of ['IN', 'US', 'GB', 'DE', 'AU']) assert.ok(isPhoneRegion(code), code);
    assert.ok(SUPPORTED_PHONE_REGIONS.includes('IN'));
  });

  it('refuses lower case, unknown codes, non-geographic 001 and Object.prototype names', () => {
    for (const code of ['in', 'In', 'XX', 'UK', '001', '', 'IND', 'constructor', '__proto__', 'toString']) {
      assert.equal(isPhoneRegion(code), false, code);
    }
  });

  it('an unsupported region from an untyped caller gives null, not an exception', () => {
    assert.equal(internationalForm('98765 43210', 'in' as PhoneRegion), null);
    assert.equal(internationalForm(9876543210 as unknown as string, 'IN'), null);
  });
});

describe('properties', () => {
  const region = fc.constantFrom<PhoneRegion>('IN', 'US', 'GB', 'DE', 'AU', 'FR', 'BR', 'JP', 'CN', 'NG');
  const phoneish = fc.string({ unit: fc.constantFrom(...'0123456789', ' ', '-', '.', '(', ')', '+', '#', 'x', 'e', 't'), maxLength: 24 });
  const nationalDigits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 6, maxLength: 13 });
  const examplesWritten = fc
    .constantFrom(...SUPPORTED_PHONE_REGIONS)
    .map((code) => getExampleNumber(code, examples)?.formatNational() ?? '');
  const input = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), phoneish, nationalDigits, examplesWritten);

  /** The E.164 form, when there is one, is one, and every region reads it back unchanged. */
  function holds(typed: string, at: PhoneRegion) {
    const result = internationalForm(typed, at);
    if (result === null) return;
    assert.match(result, /^\+[1-9]\d{1,14}$/);
    assert.equal(internationalForm(result, at), result, 'idempotent');
    for (const other of SUPPORTED_PHONE_REGIONS) assert.equal(internationalForm(result, other), result, `read in ${other}`);
  }

  it('never throws; gives null or an E.164 string that is its own form in every region', () => {
    fc.assert(
      fc.property(input, region, (typed, at) => holds(typed, at)),
      { numRuns: 1000 },
    );
  });

  it('holds for the example numbers of all 245 regions, written in every way, read in their own region', () => {
    const written = fc
      .record({ code: fc.constantFrom(...SUPPORTED_PHONE_REGIONS), style: fc.constantFrom('national', 'international', 'digits') })
      .map(({ code, style }) => {
        const example = getExampleNumber(code, examples);
        const text =
          style === 'national'
            ? example?.formatNational()
            : style === 'international'
              ? example?.formatInternational()
              : example?.nationalNumber;
        return { text: text ?? '', code };
      });
    let valid = 0;
    fc.assert(
      fc.property(written, ({ text, code }) => {
        holds(text, code);
        if (internationalForm(text, code) !== null) valid++;
      }),
      { numRuns: 300 },
    );
    assert.ok(valid > 250, `only ${valid} of 300 inputs were valid numbers: the property tested little`);
  });
});
