/**
 * The unmerge's pure decision (`planUnmerge`, `findJoiningMerge`) and the regroup's `mergesAfter`,
 * by named cases and by property against a slow, obvious reference: components of the rows where
 * two rows are joined when they share a value, or when a logged merge (not the one undone) carried
 * a value of each.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Blocklist, type BlockRule } from '../../src/identity/blocklist.js';
import type { LinkedContact } from '../../src/identity/contact.js';
import type { MergeRecord } from '../../src/identity/linkGraph.js';
import { regroup } from '../../src/identity/regroup.js';
import { findJoiningMerge, planUnmerge } from '../../src/identity/unmerge.js';

const row = (id: number, email: string | null, phoneNumber: string | null, linkedId: number | null = 1): LinkedContact => ({
  id,
  email,
  phoneNumber,
  linkedId: id === linkedId ? null : linkedId,
  linkPrecedence: id === linkedId || linkedId === null ? 'primary' : 'secondary',
});
const merge = (eventId: number, email: string, phoneNumber: string): MergeRecord => ({ eventId, email, phoneNumber });
const nothing = Blocklist.empty(1);
const blocking = (field: 'email' | 'phoneNumber', value: string) =>
  new Blocklist(2, [{ id: 1, field, match: 'exact', value, reason: 't', addedBy: 't', createdAt: new Date() } as BlockRule]);

// George (1: george, 919191) and Biff (2: biffsucks, 717171; 3: biff, 717171) joined by order-4
// (george's email with biff's phone): event 4.
const GEORGE_AND_BIFF = [row(1, 'george@x.io', '919191'), row(2, 'biffsucks@x.io', '717171'), row(3, 'biff@x.io', '717171')];
const ORDER_4 = merge(4, 'george@x.io', '717171');

describe('regroup with mergesAfter', () => {
  it('splits along a merge the graph afterwards leaves out, each side under its oldest row', () => {
    const result = regroup({ rows: GEORGE_AND_BIFF, merges: [ORDER_4], before: nothing, after: nothing, mergesAfter: [] });
    assert.deepEqual(result.customers, [[1], [2, 3]]);
    assert.deepEqual(result.writes, [
      { id: 2, linkedId: null },
      { id: 3, linkedId: 2 },
    ]);
    assert.deepEqual(result.splits, [{ ownerId: 1, into: [1, 2] }]);
  });

  it('is the usual regroup when absent (the merges before are the merges after)', () => {
    const result = regroup({ rows: GEORGE_AND_BIFF, merges: [ORDER_4], before: nothing, after: nothing });
    assert.deepEqual(result, { writes: [], customers: [[1, 2, 3]], splits: [], merges: [] });
  });

  it('keeps together what the graph before did not connect either (joined before the log)', () => {
    const result = regroup({ rows: GEORGE_AND_BIFF, merges: [], before: nothing, after: nothing, mergesAfter: [] });
    assert.deepEqual(result.customers, [[1, 2, 3]]);
  });
});

describe('planUnmerge', () => {
  it('splits the two sides a merge joined when nothing else holds them', () => {
    const plan = planUnmerge({ rows: GEORGE_AND_BIFF, merges: [ORDER_4], blocklist: nothing, mergeEventId: 4, sides: [1, 2] });
    assert.equal(plan.kind, 'split');
    assert.deepEqual(plan.kind === 'split' && plan.pieces, [1, 2]);
  });

  it('names the pieces by their primaries, whichever contacts of the sides are given', () => {
    const plan = planUnmerge({ rows: GEORGE_AND_BIFF, merges: [ORDER_4], blocklist: nothing, mergeEventId: 4, sides: [3, 1] });
    assert.deepEqual(plan.kind === 'split' && plan.pieces, [2, 1]);
  });

  it('refuses when the sides share an identifier, naming the field and the contacts, never the value', () => {
    // Contact 5 holds biff's email and george's phone.
    const withShared = [...GEORGE_AND_BIFF, row(5, 'biff@x.io', '919191')];
    const plan = planUnmerge({ rows: withShared, merges: [ORDER_4], blocklist: nothing, mergeEventId: 4, sides: [1, 2] });
    assert.deepEqual(plan, {
      kind: 'stillLinked',
      links: [
        { field: 'phoneNumber', contactIds: [1, 5] },
        { field: 'email', contactIds: [5, 3] },
        { field: 'phoneNumber', contactIds: [3, 2] },
      ],
    });
  });

  it('refuses when another logged merge joins them too', () => {
    const plan = planUnmerge({
      rows: GEORGE_AND_BIFF,
      merges: [ORDER_4, merge(9, 'george@x.io', '717171')],
      blocklist: nothing,
      mergeEventId: 4,
      sides: [1, 2],
    });
    assert.deepEqual(plan, {
      kind: 'stillLinked',
      links: [{ field: 'merge', contactIds: [1, 2], mergeEventId: 9 }],
    });
  });

  it('does not count a blocked value as a link: sides that share only a blocked phone split', () => {
    const rows = [row(1, 'george@x.io', '000'), row(2, 'biffsucks@x.io', '717171'), row(3, 'biffsucks@x.io', '000')];
    const plan = planUnmerge({ rows, merges: [ORDER_4], blocklist: blocking('phoneNumber', '000'), mergeEventId: 4, sides: [1, 2] });
    assert.deepEqual(plan.kind === 'split' && plan.result.customers, [[1], [2, 3]]);
  });
});

describe('findJoiningMerge', () => {
  it('finds the merge whose removal parts two contacts, the newest of a chain', () => {
    const rows = [row(1, 'a@x.io', '1'), row(2, 'b@x.io', '2'), row(3, 'c@x.io', '3')];
    const merges = [merge(4, 'a@x.io', '2'), merge(6, 'b@x.io', '3')];
    assert.equal(findJoiningMerge(rows, merges, nothing, [1, 3]), 6);
    assert.equal(findJoiningMerge(rows, merges, nothing, [1, 2]), 4);
  });

  it('finds none when the contacts share a value, or two merges join them side by side', () => {
    const sharing = [row(1, 'a@x.io', '1'), row(2, 'a@x.io', '2')];
    assert.equal(findJoiningMerge(sharing, [merge(4, 'a@x.io', '2')], nothing, [1, 2]), null);
    assert.equal(findJoiningMerge(GEORGE_AND_BIFF, [ORDER_4, merge(9, 'george@x.io', '717171')], nothing, [1, 2]), null);
  });
});

const EMAILS = ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'];
const PHONES = ['111', '222', '333', '444'];
const value = <T>(values: T[]) => fc.option(fc.constantFrom(...values), { freq: 4 });

/** One customer: its rows (row 1 primary), logged merges, and the merge to undo. */
const customer = fc
  .record({
    rows: fc.array(fc.record({ email: value(EMAILS), phoneNumber: value(PHONES) }), { minLength: 2, maxLength: 9 }),
    merges: fc.array(fc.record({ email: fc.constantFrom(...EMAILS), phoneNumber: fc.constantFrom(...PHONES) }), {
      minLength: 1,
      maxLength: 4,
    }),
    undo: fc.nat(),
  })
  .map(({ rows, merges, undo }) => ({
    rows: rows.map((r, index) => row(index + 1, r.email, r.phoneNumber)),
    merges: merges.map((m, index) => merge(index + 1, m.email, m.phoneNumber)),
    undo: (undo % merges.length) + 1,
  }));

/** The reference: rows joined pairwise by a shared value or a logged merge matching one of each; no graph. */
function referenceComponents(rows: readonly LinkedContact[], merges: readonly MergeRecord[]): number[][] {
  const label = new Map(rows.map((r) => [r.id, r.id]));
  const relabel = (from: number, to: number) => {
    for (const [id, l] of label) if (l === from) label.set(id, to);
  };
  const matches = (r: LinkedContact, m: MergeRecord) => r.email === m.email || r.phoneNumber === m.phoneNumber;
  for (const a of rows) {
    for (const b of rows) {
      const shares =
        (a.email !== null && a.email === b.email) ||
        (a.phoneNumber !== null && a.phoneNumber === b.phoneNumber) ||
        merges.some((m) => matches(a, m) && matches(b, m));
      if (shares) relabel(label.get(b.id) as number, label.get(a.id) as number);
    }
  }
  const groups = new Map<number, number[]>();
  for (const r of rows) groups.set(label.get(r.id) as number, [...(groups.get(label.get(r.id) as number) ?? []), r.id]);
  return [...groups.values()].sort((x, y) => (x[0] as number) - (y[0] as number));
}

describe('the unmerge, by property', () => {
  it('afterwards the customer is the components of its rows without the merge undone (when the graph before held it whole)', () => {
    fc.assert(
      fc.property(customer, ({ rows, merges, undo }) => {
        fc.pre(referenceComponents(rows, merges).length === 1);
        const after = merges.filter((m) => m.eventId !== undo);
        const result = regroup({ rows, merges, before: nothing, after: nothing, mergesAfter: after });
        assert.deepEqual(result.customers, referenceComponents(rows, after));
        // Every customer afterwards is linked straight to its oldest row.
        const linkOf = new Map(rows.map((r) => [r.id, r.linkedId]));
        for (const w of result.writes) linkOf.set(w.id, w.linkedId);
        for (const members of result.customers) {
          assert.equal(linkOf.get(members[0] as number), null);
          for (const id of members.slice(1)) assert.equal(linkOf.get(id), members[0]);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('planUnmerge splits exactly when the reference parts the two sides, and its links form a chain between them', () => {
    fc.assert(
      fc.property(customer, fc.nat(), fc.nat(), ({ rows, merges, undo }, x, y) => {
        fc.pre(referenceComponents(rows, merges).length === 1);
        const [a, b] = [(rows[x % rows.length] as LinkedContact).id, (rows[y % rows.length] as LinkedContact).id];
        fc.pre(a !== b);
        const plan = planUnmerge({ rows, merges, blocklist: nothing, mergeEventId: undo, sides: [a, b] });
        const parts = referenceComponents(
          rows,
          merges.filter((m) => m.eventId !== undo),
        );
        const apart = parts.find((members) => members.includes(a)) !== parts.find((members) => members.includes(b));
        assert.equal(plan.kind, apart ? 'split' : 'stillLinked');
        if (plan.kind === 'stillLinked') {
          assert.ok(plan.links.length > 0);
          assert.equal(plan.links[0]?.contactIds[0], a);
          assert.equal(plan.links.at(-1)?.contactIds[1], b);
          for (const [index, link] of plan.links.entries()) {
            if (index > 0) assert.equal(link.contactIds[0], plan.links[index - 1]?.contactIds[1]);
            if (link.field === 'merge') assert.notEqual(link.mergeEventId, undo);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
