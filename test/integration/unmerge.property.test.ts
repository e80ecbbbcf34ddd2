/**
 * Property: random sequences of checkouts, unmerges (by a logged merge's event id) and removals of
 * separations through the real use cases on a real database give exactly the answers of a
 * reference model that keeps no links (test/support/unmergeModel.ts), and leave the table as the
 * model's customers, with its invariants holding.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { checkInvariants, totalViolations } from '../../src/db/invariants.js';
import type { Identifiers } from '../../src/identity/contact.js';
import { StillLinkedError, UnmergeNotFoundError, type UnmergeService } from '../../src/identity/unmerge.js';
import { createServices } from '../../src/services.js';
import { identifiers } from '../support/arbitraries.js';
import { describeOnEachDatabase, type ScratchDatabase } from '../support/databases.js';
import { UnmergeModel, type UnmergeAnswer } from '../support/unmergeModel.js';

type Operation =
  { kind: 'identify'; request: Identifiers } | { kind: 'unmerge'; merge: number } | { kind: 'removeSeparation'; separation: number };

/** A small pool, mostly both identifiers: customers meet and merge often, so there is much to unmerge. */
const request: fc.Arbitrary<Identifiers> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      email: fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'),
      phoneNumber: fc.constantFrom('111', '222', '333', '444'),
    }),
  },
  { weight: 1, arbitrary: identifiers },
);

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 6, arbitrary: request.map((r) => ({ kind: 'identify' as const, request: r })) },
  { weight: 2, arbitrary: fc.nat({ max: 3 }).map((merge) => ({ kind: 'unmerge' as const, merge })) },
  { weight: 1, arbitrary: fc.nat({ max: 2 }).map((separation) => ({ kind: 'removeSeparation' as const, separation })) },
);

async function serviceUnmerge(unmerge: UnmergeService, scratch: ScratchDatabase, index: number): Promise<UnmergeAnswer> {
  // The index-th merge a request made (in the log's order), on the customer of its survivor.
  const merges = await scratch.db.query<{ eventId: string; survivor: number }>(
    `SELECT "id"::text AS "eventId", "customerIds"[1] AS "survivor" FROM "ContactEvent"
      WHERE "type" = 'customer.merged' AND "email" IS NOT NULL AND "phoneNumber" IS NOT NULL ORDER BY "id"`,
  );
  const merge = merges[index];
  if (merge === undefined) return { kind: 'notFound' };
  return unmerge.unmerge(merge.survivor, { mergeEventId: Number(merge.eventId) }, { addedBy: 'test' }).then(
    (outcome) => ({ kind: 'split', into: outcome.into }),
    (error: unknown) => {
      if (error instanceof UnmergeNotFoundError) return { kind: 'notFound' };
      if (error instanceof StillLinkedError) return { kind: 'stillLinked' };
      throw error;
    },
  );
}

async function runAgainstModel(scratch: ScratchDatabase, operations: Operation[]): Promise<void> {
  await scratch.reset();
  const { identifyService, unmerge } = createServices(scratch.db);
  if (!unmerge) throw new Error('governance is on');
  const model = new UnmergeModel();
  for (const [step, op] of operations.entries()) {
    const where = `step ${step}: ${JSON.stringify(op)}`;
    if (op.kind === 'unmerge') {
      const expected = model.unmerge(op.merge);
      assert.deepEqual(await serviceUnmerge(unmerge, scratch, op.merge), expected, where);
      continue;
    }
    if (op.kind === 'removeSeparation') {
      const expected = model.removeSeparation(op.separation);
      const removed = await unmerge.removeSeparation(op.separation + 1, { addedBy: 'test' });
      assert.equal(removed !== null, expected, where);
      continue;
    }
    const expected = model.identify(op.request);
    const { customer, ignored } = await identifyService.identify(op.request);
    assert.deepEqual({ customer, ignored }, expected, where);
  }
  const table = await scratch.db.query<{ id: number; linkedId: number | null }>('SELECT "id", "linkedId" FROM "Contact" ORDER BY "id"');
  assert.deepEqual(new Map(table.map((row) => [row.id, row.linkedId ?? row.id])), model.primaries(), 'the table afterwards');
  assert.equal(totalViolations(await checkInvariants(scratch.db)), 0, 'the invariants hold');
}

describeOnEachDatabase('unmerge against the reference model', (scratch) => {
  it('answers checkouts, unmerges and removals of separations as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 10, maxLength: 40 }), (operations) => runAgainstModel(scratch(), operations)),
      { numRuns: 60 },
    );
  });
});
