/** The explorer's search box language and URL hash (web/src/search.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeQuery,
  describeSearched,
  fromHash,
  inferKind,
  parseSearch,
  toHash,
  toSearchText,
  type SearchQuery,
} from '../../web/src/search.js';

describe('explorer search: the kind control follows the text', () => {
  it('picks Email for an @ and Contact id for a leading #, whatever was chosen', () => {
    for (const current of ['email', 'phone', 'id'] as const) {
      assert.equal(inferKind('doc@hillvalley.edu', current), 'email');
      assert.equal(inferKind(' #23', current), 'id');
    }
  });

  it("turns Email into Phone for phone-like text, and otherwise keeps the person's choice", () => {
    assert.equal(inferKind('+1 (555) 010-9999', 'email'), 'phone');
    assert.equal(inferKind('lorraine', 'email'), 'email', 'an email being typed, before its @');
    assert.equal(inferKind('23', 'id'), 'id');
    assert.equal(inferKind('23', 'phone'), 'phone');
    assert.equal(inferKind('', 'email'), 'email');
  });
});

describe('explorer search: parsing', () => {
  it('reads one identifier as the chosen kind, trimmed; the API normalises and validates it', () => {
    assert.deepEqual(parseSearch('  Doc@HillValley.EDU ', 'email'), {
      ok: true,
      query: { by: 'identifiers', email: 'Doc@HillValley.EDU' },
    });
    assert.deepEqual(parseSearch('+1 (555) 010-9999', 'phone'), {
      ok: true,
      query: { by: 'identifiers', phoneNumber: '+1 (555) 010-9999' },
    });
    assert.deepEqual(parseSearch('#23', 'id'), { ok: true, query: { by: 'id', id: '23' } });
    assert.deepEqual(parseSearch('23', 'id'), { ok: true, query: { by: 'id', id: '23' } });
    assert.deepEqual(parseSearch('abc', 'id'), { ok: true, query: { by: 'id', id: 'abc' } }, 'the API says what is wrong with it');
  });

  it('reads "email, phone" in either order as both identifiers', () => {
    const both = { ok: true, query: { by: 'identifiers', email: 'doc@hillvalley.edu', phoneNumber: '123456' } };
    assert.deepEqual(parseSearch('doc@hillvalley.edu, 123456', 'email'), both);
    assert.deepEqual(parseSearch('123456 ,doc@hillvalley.edu', 'phone'), both);
  });

  it('refuses an empty search and pairs that are not one email and one phone number', () => {
    for (const [text, kind] of [
      ['', 'phone'],
      ['   ', 'email'],
      ['#', 'id'],
      [' , ', 'email'],
    ] as const) {
      assert.deepEqual(
        parseSearch(text, kind),
        { ok: false, message: 'Type an email, a phone number or a contact id.' },
        JSON.stringify(text),
      );
    }
    for (const text of ['a@x.io, b@x.io', '123, 456', 'a@x.io, 123, 456']) {
      const parsed = parseSearch(text, 'email');
      assert.equal(parsed.ok, false, text);
      assert.match(parsed.ok ? '' : parsed.message, /separate them with one comma/);
    }
  });
});

describe('explorer search: the URL hash', () => {
  const queries: SearchQuery[] = [
    { by: 'id', id: '23' },
    { by: 'identifiers', email: 'doc+shop@hillvalley.edu' },
    { by: 'identifiers', phoneNumber: '+1 (555) 010-9999' },
    { by: 'identifiers', email: 'doc@hillvalley.edu', phoneNumber: '123456' },
  ];

  it('links every query and reads it back', () => {
    assert.equal(toHash({ by: 'id', id: '23' }), 'id=23');
    assert.equal(
      toHash({ by: 'identifiers', email: 'doc@hillvalley.edu', phoneNumber: '123456' }),
      'email=doc%40hillvalley.edu&phone=123456',
    );
    for (const query of queries) assert.deepEqual(fromHash(`#${toHash(query)}`), query);
  });

  it('links to nothing for an empty or foreign hash', () => {
    for (const hash of ['', '#', '#contacts', '#email=&phone=']) assert.equal(fromHash(hash), null, hash);
  });

  it('fills the form so that searching again gives the same query', () => {
    for (const query of queries) {
      const { text, kind } = toSearchText(query);
      assert.deepEqual(parseSearch(text, kind), { ok: true, query });
    }
  });

  it('says the query in words', () => {
    assert.equal(describeQuery({ by: 'id', id: '23' }), 'contact 23');
    assert.equal(describeQuery({ by: 'identifiers', email: 'doc@hillvalley.edu', phoneNumber: '123456' }), 'doc@hillvalley.edu and 123456');
  });
});

describe('explorer search: what the service says it searched for', () => {
  it('names the fields it looked up, in their normal form, and nothing when it said nothing', () => {
    assert.equal(describeSearched({ email: null, phoneNumber: '+919876543210' }), 'Searched for phone +919876543210');
    assert.equal(
      describeSearched({ email: 'firstlast@gmail.com', phoneNumber: '+919876543210' }),
      'Searched for email firstlast@gmail.com and phone +919876543210',
    );
    assert.equal(describeSearched({ email: null, phoneNumber: null }), null);
    assert.equal(describeSearched(undefined), null);
  });
});
