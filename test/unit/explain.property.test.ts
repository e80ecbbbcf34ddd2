/**
 * Property: explain's chain is a shortest one, and exists exactly when one does. The reference is
 * the slow, obvious search: contacts are neighbours when they hold the same unblocked value, or
 * when one logged merge (both values unblocked) matched one of them by email or phone and the
 * other too; breadth-first over every pair of rows, no link graph.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { Blocklist } from '../../src/identity/blocklist.js';
import type { LinkedContact } from '../../src/identity/contact.js';
import { explain, type ExplainStep } from '../../src/identity/explain.js';
import type { MergeRecord } from '../../src/identity/linkGraph.js';

const EMAILS = ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'];
const PHONES = ['111', '222', '333', '444'];

const customer = fc
  .record({
    rows: fc.array(fc.record({ email: fc.option(fc.constantFrom(...EMAILS)), phoneNumber: fc.option(fc.constantFrom(...PHONES)) }), {
      minLength: 1,
      maxLength: 12,
    }),
    merges: fc.array(fc.record({ email: fc.option(fc.constantFrom(...EMAILS)), phoneNumber: fc.option(fc.constantFrom(...PHONES)) }), {
      maxLength: 4,
    }),
    blockedEmails: fc.subarray(EMAILS, { maxLength: 2 }),
    blockedPhones: fc.subarray(PHONES, { maxLength: 2 }),
    from: fc.nat(),
    to: fc.nat(),
  })
  .map(({ rows, merges, blockedEmails, blockedPhones, from, to }) => {
    const contacts: LinkedContact[] = rows.map((row, index) => ({
      id: index + 1,
      ...row,
      linkedId: index === 0 ? null : 1,
      linkPrecedence: index === 0 ? 'primary' : 'secondary',
    }));
    const rules = [
      ...blockedEmails.map((value) => ({ field: 'email' as const, value })),
      ...blockedPhones.map((value) => ({ field: 'phoneNumber' as const, value })),
    ].map((rule, index) => ({ ...rule, id: index + 1, match: 'exact' as const, reason: 'test', addedBy: 'test', createdAt: new Date(0) }));
    return {
      rows: contacts,
      merges: merges.map((merge, index): MergeRecord => ({ eventId: 100 + index, ...merge })),
      blocklist: new Blocklist(1, rules),
      from: (from % contacts.length) + 1,
      to: (to % contacts.length) + 1,
    };
  });

/** Every way `a` and `b` are directly linked, as the steps between them. */
function linksBetween(a: LinkedContact, b: LinkedContact, merges: readonly MergeRecord[], blocklist: Blocklist): ExplainStep[] {
  const links: ExplainStep[] = [];
  for (const field of ['email', 'phoneNumber'] as const) {
    const value = a[field];
    if (value !== null && value === b[field] && !blocklist.isBlocked(field, value)) links.push({ kind: 'identifier', field, value });
  }
  for (const merge of merges) {
    if (merge.email === null || merge.phoneNumber === null) continue;
    if (blocklist.isBlocked('email', merge.email) || blocklist.isBlocked('phoneNumber', merge.phoneNumber)) continue;
    const matched = (row: LinkedContact) => row.email === merge.email || row.phoneNumber === merge.phoneNumber;
    if (matched(a) && matched(b)) links.push({ kind: 'merge', eventId: merge.eventId });
  }
  return links;
}

/** Contact hops from `from` to `to`, or null: breadth-first over every pair of rows. */
function distance(
  rows: readonly LinkedContact[],
  merges: readonly MergeRecord[],
  blocklist: Blocklist,
  from: number,
  to: number,
): number | null {
  const hops = new Map([[from, 0]]);
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head] as number;
    const row = rows.find((candidate) => candidate.id === id) as LinkedContact;
    for (const other of rows) {
      if (hops.has(other.id) || linksBetween(row, other, merges, blocklist).length === 0) continue;
      hops.set(other.id, (hops.get(id) as number) + 1);
      queue.push(other.id);
    }
  }
  return hops.get(to) ?? null;
}

it('the chain is a real chain of unblocked links, as short as any, and found exactly when one exists', () => {
  fc.assert(
    fc.property(customer, ({ rows, merges, blocklist, from, to }) => {
      const answer = explain({ rows, merges, blocklist, from, to });
      const expected = distance(rows, merges, blocklist, from, to);
      if (answer.kind === 'unrecorded') {
        assert.equal(expected, null);
        const withoutBlocks = distance(rows, merges, Blocklist.empty(), from, to);
        assert.equal(answer.cause, withoutBlocks === null ? 'noRecord' : 'blocked');
        return;
      }
      const { steps } = answer;
      assert.equal((steps.length - 1) / 2, expected, 'as short as the reference');
      assert.deepEqual(steps[0], { kind: 'contact', id: from });
      assert.deepEqual(steps.at(-1), { kind: 'contact', id: to });
      const contactIds: number[] = [];
      for (let i = 0; i < steps.length; i += 2) {
        const step = steps[i] as ExplainStep;
        assert.equal(step.kind, 'contact');
        if (step.kind === 'contact') contactIds.push(step.id);
      }
      assert.equal(new Set(contactIds).size, contactIds.length, 'no contact twice');
      for (let i = 1; i < steps.length; i += 2) {
        const a = rows.find((row) => row.id === contactIds[(i - 1) / 2]) as LinkedContact;
        const b = rows.find((row) => row.id === contactIds[(i + 1) / 2]) as LinkedContact;
        assert.ok(
          linksBetween(a, b, merges, blocklist).some((link) => JSON.stringify(link) === JSON.stringify(steps[i])),
          `step ${i} links #${a.id} and #${b.id}`,
        );
      }
    }),
    { numRuns: 2000 },
  );
});

it('the same rows give the same chain, whatever order the merges come in', () => {
  fc.assert(
    fc.property(customer, ({ rows, merges, blocklist, from, to }) => {
      assert.deepEqual(
        explain({ rows, merges, blocklist, from, to }),
        explain({ rows, merges: [...merges].reverse(), blocklist, from, to }),
      );
    }),
    { numRuns: 500 },
  );
});
