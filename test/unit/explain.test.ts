/**
 * Why two contacts are one customer (src/identity/explain.ts): the shortest chain of recorded
 * links — shared emails and phones, logged merges — and an explicit "unrecorded" when none joins them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Blocklist, type BlockRuleSpec } from '../../src/identity/blocklist.js';
import { explain, type Explanation } from '../../src/identity/explain.js';
import type { MergeRecord } from '../../src/identity/linkGraph.js';
import { contact } from '../support/contacts.js';

const c = (id: number) => ({ kind: 'contact' as const, id });
const email = (value: string) => ({ kind: 'identifier' as const, field: 'email' as const, value });
const phone = (value: string) => ({ kind: 'identifier' as const, field: 'phoneNumber' as const, value });
const merge = (eventId: number) => ({ kind: 'merge' as const, eventId });

function blocking(...specs: BlockRuleSpec[]): Blocklist {
  return new Blocklist(
    2,
    specs.map((spec, index) => ({ ...spec, id: index + 1, reason: 'test', addedBy: 'test', createdAt: new Date(0) })),
  );
}

function why(
  rows: ReturnType<typeof contact>[],
  from: number,
  to: number,
  { merges = [], blocklist = Blocklist.empty() }: { merges?: MergeRecord[]; blocklist?: Blocklist } = {},
): Explanation {
  return explain({ rows, merges, blocklist, from, to });
}

describe('explain', () => {
  it('two contacts sharing an email: contact, the email, contact', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'a@x.io', '222', 1)];
    assert.deepEqual(why(rows, 1, 2), { kind: 'path', steps: [c(1), email('a@x.io'), c(2)] });
  });

  it('two contacts sharing a phone number: contact, the phone, contact', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '111', 1)];
    assert.deepEqual(why(rows, 1, 2), { kind: 'path', steps: [c(1), phone('111'), c(2)] });
  });

  it('a chain of three contacts: each link is what the neighbours share', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '111', 1), contact(3, 'b@x.io', '333', 1)];
    assert.deepEqual(why(rows, 1, 3), { kind: 'path', steps: [c(1), phone('111'), c(2), email('b@x.io'), c(3)] });
    assert.deepEqual(why(rows, 3, 1), { kind: 'path', steps: [c(3), email('b@x.io'), c(2), phone('111'), c(1)] });
  });

  it('contacts that share nothing, joined by a request with the email of one and the phone of the other: the merge event', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222', 1)];
    const merges = [{ eventId: 7, email: 'a@x.io', phoneNumber: '222' }];
    assert.deepEqual(why(rows, 1, 2, { merges }), { kind: 'path', steps: [c(1), merge(7), c(2)] });
  });

  it('never goes through a blocked value: the way round it instead', () => {
    const rows = [
      contact(1, 'a@x.io', '111'),
      contact(2, 'a@x.io', '222', 1),
      contact(3, 'c@x.io', '111', 1),
      contact(4, 'c@x.io', '222', 1),
    ];
    const blocklist = blocking({ field: 'email', match: 'exact', value: 'a@x.io' });
    assert.deepEqual(why(rows, 1, 2), { kind: 'path', steps: [c(1), email('a@x.io'), c(2)] });
    assert.deepEqual(why(rows, 1, 2, { blocklist }), {
      kind: 'path',
      steps: [c(1), phone('111'), c(3), email('c@x.io'), c(4), phone('222'), c(2)],
    });
  });

  it('never goes through a merge made with a value that is blocked now', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222', 1)];
    const merges = [{ eventId: 7, email: 'a@x.io', phoneNumber: '222' }];
    const blocklist = blocking({ field: 'phoneNumber', match: 'exact', value: '222' });
    assert.deepEqual(why(rows, 1, 2, { merges, blocklist }), { kind: 'unrecorded', cause: 'blocked' });
  });

  it('of two ways, the shorter', () => {
    const rows = [
      contact(1, 'a@x.io', '111'),
      contact(2, 'b@x.io', '111', 1),
      contact(3, 'b@x.io', '333', 1),
      contact(4, 'a@x.io', '333', 1),
    ];
    assert.deepEqual(why(rows, 1, 4), { kind: 'path', steps: [c(1), email('a@x.io'), c(4)] });
  });

  it('of two equally short ways, always the same one: an email before a phone, older contacts first', () => {
    const both = [contact(1, 'a@x.io', '111'), contact(2, 'a@x.io', '111', 1)];
    assert.deepEqual(why(both, 1, 2), { kind: 'path', steps: [c(1), email('a@x.io'), c(2)] });
    const twoMiddles = [
      contact(1, 'a@x.io', '111'),
      contact(2, 'a@x.io', '222', 1),
      contact(3, 'a@x.io', '222', 1),
      contact(4, null, '222', 1),
    ];
    assert.deepEqual(why(twoMiddles, 1, 4), { kind: 'path', steps: [c(1), email('a@x.io'), c(2), phone('222'), c(4)] });
  });

  it('a contact and itself: the contact alone', () => {
    assert.deepEqual(why([contact(1, 'a@x.io', '111')], 1, 1), { kind: 'path', steps: [c(1)] });
  });

  it('one customer with no recorded link between the two (written before the event log): unrecorded, no path invented', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'b@x.io', '222', 1)];
    assert.deepEqual(why(rows, 1, 2), { kind: 'unrecorded', cause: 'noRecord' });
  });

  it('one customer whose only link is a value blocked now (kept together by the regroup): unrecorded, because of the block', () => {
    const rows = [contact(1, 'a@x.io', '111'), contact(2, 'a@x.io', '222', 1)];
    const blocklist = blocking({ field: 'email', match: 'domain', value: 'x.io' });
    assert.deepEqual(why(rows, 1, 2, { blocklist }), { kind: 'unrecorded', cause: 'blocked' });
  });

  it('refuses a contact that is not one of the rows', () => {
    assert.throws(() => why([contact(1, 'a@x.io', '111')], 1, 2), RangeError);
  });
});
