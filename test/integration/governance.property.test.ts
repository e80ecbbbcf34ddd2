/**
 * Property: random sequences of checkouts, blocks and unblocks (and, with a small cap,
 * quarantines) through the real use cases on a real database give exactly the answers of a
 * reference model that simply drops blocked values and recomputes customers from scratch
 * (test/support/governedModel.ts), and leave the table as the model's customers.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Identifiers } from '../../src/identity/contact.js';
import { BlockedIdentifierError } from '../../src/identity/identifyService.js';
import type { IdentifierField } from '../../src/identity/normalise.js';
import { createServices, DEFAULT_GOVERNANCE } from '../../src/services.js';
import { identifiers } from '../support/arbitraries.js';
import { describeOnEachDatabase, type ScratchDatabase } from '../support/databases.js';
import { GovernedModel, type ModelAnswer } from '../support/governedModel.js';

const VALUES = { email: ['a@x.io', 'b@x.io', 'c@x.io'], phoneNumber: ['111', '222', '333'] };

type Operation =
  | { kind: 'identify'; request: Identifiers }
  | { kind: 'block'; field: IdentifierField; value: string }
  | { kind: 'unblock'; field: IdentifierField; value: string };

const field = fc.constantFrom<IdentifierField>('email', 'phoneNumber');
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 6, arbitrary: identifiers.map((request) => ({ kind: 'identify' as const, request })) },
  {
    weight: 1,
    arbitrary: field.chain((f) => fc.constantFrom(...VALUES[f]).map((value) => ({ kind: 'block' as const, field: f, value }))),
  },
  {
    weight: 1,
    arbitrary: field.chain((f) => fc.constantFrom(...VALUES[f]).map((value) => ({ kind: 'unblock' as const, field: f, value }))),
  },
);

async function runAgainstModel(scratch: ScratchDatabase, operations: Operation[], maxCustomerContacts: number): Promise<void> {
  await scratch.reset();
  const { identifyService, governance } = createServices(scratch.db, { ...DEFAULT_GOVERNANCE, maxCustomerContacts });
  if (!governance) throw new Error('governance is on');
  const model = new GovernedModel(maxCustomerContacts);
  for (const [step, op] of operations.entries()) {
    const where = `step ${step}: ${JSON.stringify(op)}`;
    if (op.kind === 'block') {
      await governance.block({ field: op.field, match: 'exact', value: op.value }, 'test', { addedBy: 'test' });
      model.block(op.field, op.value);
      continue;
    }
    if (op.kind === 'unblock') {
      const rule = (await governance.list()).rules.find((r) => r.field === op.field && r.value === op.value);
      if (rule) await governance.unblock(rule.id, { addedBy: 'test' });
      model.unblock(op.field, op.value);
      continue;
    }
    const expected: ModelAnswer = model.identify(op.request);
    const actual: ModelAnswer = await identifyService.identify(op.request).then(
      ({ customer, ignored }) => ({ kind: 'customer', customer, ignored }),
      (error: unknown) => {
        if (error instanceof BlockedIdentifierError) return { kind: 'blocked', fields: [...error.fields] };
        throw error;
      },
    );
    assert.deepEqual(actual, expected, where);
  }
  const table = await scratch.db.query<{ id: number; linkedId: number | null }>('SELECT "id", "linkedId" FROM "Contact" ORDER BY "id"');
  assert.deepEqual(new Map(table.map((row) => [row.id, row.linkedId ?? row.id])), model.primaries(), 'the table afterwards');
}

describeOnEachDatabase('governance against the reference model', (scratch) => {
  it('answers checkouts as the model does with values blocked and unblocked between them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), (operations) => runAgainstModel(scratch(), operations, 0)),
      { numRuns: 40 },
    );
  });

  it('answers as the model does with a customer-size cap of 3, quarantines included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), (operations) => runAgainstModel(scratch(), operations, 3)),
      { numRuns: 40 },
    );
  });
});
