/**
 * The pure replay (src/identity/replay.ts) against the governed reference model: random histories
 * of timed checkouts, with blocked values and a small size cap, give the model's table when fed in
 * time order — on an empty table, and on a table holding an earlier part of the history (made by
 * the replay itself, then replayed again with the rest).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Blocklist, type BlockRule } from '../../src/identity/blocklist.js';
import { Separations } from '../../src/identity/separations.js';
import { replay, type ExistingRow, type ImportedCheckout, type ReplayResult } from '../../src/identity/replay.js';
import { identifiers } from '../support/arbitraries.js';
import { GovernedModel } from '../support/governedModel.js';

/** Checkouts at a few distinct times, so that ties (ordered by line) are common. */
const history = fc.array(fc.record({ request: identifiers, at: fc.integer({ min: 1, max: 12 }) }), { minLength: 1, maxLength: 30 });
const blocked = fc.subarray(['a@x.io', '111'], { maxLength: 2 });

function blocklistOf(values: readonly string[]): Blocklist {
  const rules = values.map((value, index): BlockRule => ({
    id: index + 1,
    field: value.includes('@') ? 'email' : 'phoneNumber',
    match: 'exact',
    value,
    reason: 'test',
    addedBy: 'test',
    createdAt: new Date(0),
  }));
  return new Blocklist(1, rules);
}

/**
 * The model fed every checkout in (time, line) order — on ties, those already in the table
 * (`first`) before the file's: its rows with their checkout's time, and primaries by position.
 */
function modelTable(checkouts: readonly ImportedCheckout[], blockedValues: readonly string[], cap: number, first = new Set<number>()) {
  const model = new GovernedModel(cap);
  for (const value of blockedValues) model.block(value.includes('@') ? 'email' : 'phoneNumber', value);
  const createdAt: number[] = [];
  const rank = (checkout: ImportedCheckout) => (first.has(checkout.line) ? 0 : 1);
  for (const checkout of [...checkouts].sort((a, b) => a.createdAt - b.createdAt || rank(a) - rank(b) || a.line - b.line)) {
    const before = model.table().length;
    model.identify({ email: checkout.email, phoneNumber: checkout.phoneNumber });
    if (model.table().length > before) createdAt.push(checkout.createdAt);
  }
  return model.table().map((row, index) => ({
    email: row.email,
    phoneNumber: row.phoneNumber,
    createdAt: createdAt[index] as number,
    primary: row.primaryId - 1,
  }));
}

/** The live rows of a replay, with primaries by position among them. */
function liveTable(result: ReplayResult) {
  const live = result.rows.filter((row) => !row.redundant);
  const position = new Map(result.rows.map((row, index) => [index, live.indexOf(row)]));
  return live.map((row) => ({
    email: row.email,
    phoneNumber: row.phoneNumber,
    createdAt: row.createdAt,
    primary: position.get(row.primary) as number,
  }));
}

/** A replay's live rows as a table holds them: ids in row order, links to primaries. */
function asExistingRows(result: ReplayResult): ExistingRow[] {
  const live = result.rows.filter((row) => !row.redundant);
  return live.map((row, index) => {
    const primary = live.indexOf(result.rows[row.primary] as (typeof live)[number]);
    return {
      id: index + 1,
      email: row.email,
      phoneNumber: row.phoneNumber,
      createdAt: row.createdAt,
      linkedId: primary === index ? null : primary + 1,
      linkPrecedence: primary === index ? 'primary' : 'secondary',
    };
  });
}

const asCheckouts = (
  entries: readonly { request: ImportedCheckout | { email: string | null; phoneNumber: string | null }; at: number }[],
) =>
  entries.map(({ request, at }, index): ImportedCheckout => ({
    email: request.email,
    phoneNumber: request.phoneNumber,
    createdAt: at,
    line: index + 2,
    // Ids are reserved in line order, after every row a table of these tests holds.
    id: 1000 + index,
  }));

describe('the pure replay', () => {
  it('equals the governed model fed in time order, on an empty table, with blocked values and caps', () => {
    fc.assert(
      fc.property(history, blocked, fc.constantFrom(0, 2, 3), (entries, blockedValues, cap) => {
        const checkouts = asCheckouts(entries);
        const result = replay({
          rows: [],
          merges: [],
          checkouts,
          blocklist: blocklistOf(blockedValues),
          limits: { maxCustomerContacts: cap },
        });
        assert.deepEqual(liveTable(result), modelTable(checkouts, blockedValues, cap));
      }),
      { numRuns: 400 },
    );
  });

  // With a cap, a table's past quarantines are in its block list for the whole replay, while the
  // model quarantines as it goes: exact on empty tables only (docs/import.md).
  it('equals the model on a table that holds part of the history (blocked values, no cap): older, newer and tied rows', () => {
    fc.assert(
      fc.property(
        history,
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        blocked,
        fc.constant(0),
        (entries, inTable, blockedValues, cap) => {
          const checkouts = asCheckouts(entries);
          const list = blocklistOf(blockedValues);
          const existingPart = checkouts.filter((_, index) => inTable[index]);
          const importedPart = checkouts.filter((_, index) => !inTable[index]);
          const table = replay({ rows: [], merges: [], checkouts: existingPart, blocklist: list, limits: { maxCustomerContacts: cap } });
          // The table's block list holds what its own history quarantined.
          const quarantined = table.quarantined.map(({ value }) => value);
          const result = replay({
            rows: asExistingRows(table),
            merges: table.merges.map((merge) => ({
              email: merge.email,
              phoneNumber: merge.phoneNumber,
              at: merge.createdAt,
              order: 999.5,
            })),
            checkouts: importedPart,
            blocklist: blocklistOf([...blockedValues, ...quarantined]),
            limits: { maxCustomerContacts: cap },
          });
          const first = new Set(existingPart.map((checkout) => checkout.line));
          // An existing row keeps the values it stores; a value the replay quarantined links nothing
          // in it (docs/import.md). So the tables are compared with blocked values left out.
          const final = blocklistOf([...blockedValues, ...quarantined, ...result.quarantined.map(({ value }) => value)]);
          const linking = (rows: ReturnType<typeof liveTable>) =>
            rows.map((row) => ({
              ...row,
              email: final.isBlocked('email', row.email) ? null : row.email,
              phoneNumber: final.isBlocked('phoneNumber', row.phoneNumber) ? null : row.phoneNumber,
            }));
          assert.deepEqual(linking(liveTable(result)), linking(modelTable(checkouts, blockedValues, cap, first)));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('is idempotent: importing the same lines again changes nothing', () => {
    fc.assert(
      fc.property(history, (entries) => {
        const checkouts = asCheckouts(entries);
        const list = Blocklist.empty();
        const once = replay({ rows: [], merges: [], checkouts, blocklist: list, limits: { maxCustomerContacts: 0 } });
        const again = replay({
          rows: asExistingRows(once),
          merges: once.merges.map((merge) => ({ email: merge.email, phoneNumber: merge.phoneNumber, at: merge.createdAt, order: 999.5 })),
          checkouts,
          blocklist: list,
          limits: { maxCustomerContacts: 0 },
        });
        assert.ok(again.rows.every((row) => row.source.kind === 'existing' && !row.redundant));
        assert.deepEqual(again.merges, []);
        assert.deepEqual(liveTable(again), liveTable(once));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps separated customers apart: a checkout bridging them is narrowed to its email, as /identify does', () => {
    const separations = new Separations([{ id: 1, contactIds: [1, 2], mergeEventId: null, addedBy: 'test', createdAt: new Date(0) }]);
    const rows: ExistingRow[] = [
      { id: 1, email: 'a@x.io', phoneNumber: '111', linkedId: null, linkPrecedence: 'primary', createdAt: 10 },
      { id: 2, email: 'b@x.io', phoneNumber: '222', linkedId: null, linkPrecedence: 'primary', createdAt: 20 },
    ];
    const result = replay({
      rows,
      merges: [],
      checkouts: [{ line: 2, email: 'a@x.io', phoneNumber: '222', createdAt: 30, id: 3 }],
      blocklist: new Blocklist(1, [], separations),
      limits: { maxCustomerContacts: 0 },
    });
    assert.deepEqual(result.separatedLines, [2]);
    assert.deepEqual(result.merges, []);
    assert.deepEqual(
      result.rows.map((row) => [row.source, row.primary, row.redundant]),
      [
        [{ kind: 'existing', id: 1 }, 0, false],
        [{ kind: 'existing', id: 2 }, 1, false],
      ],
    );
  });
});
