/**
 * Property: driving the pure decision over an in-memory table gives, for every random request
 * sequence, the same answers as the link-free reference model.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Identifiers, LinkedContact } from '../../src/identity/contact.js';
import { rowsAfter, decide, toCustomer } from '../../src/identity/reconcile.js';
import { contact, rowsOfInvolvedCustomers } from '../support/contacts.js';
import { ReferenceModel } from '../support/referenceModel.js';
import { requestSequence } from '../support/arbitraries.js';

function identifyInMemory(table: LinkedContact[], request: Identifiers): { table: LinkedContact[]; answer: ReturnType<typeof toCustomer> } {
  const involved = rowsOfInvolvedCustomers(table, request);
  const plan = decide(request, involved);
  if (plan.kind === 'brokenLinks' || plan.kind === 'quarantine') throw new Error('the service never writes broken links; no cap here');
  const inserted =
    plan.insert === null
      ? null
      : contact(table.length + 1, plan.insert.email, plan.insert.phoneNumber, plan.kind === 'update' ? plan.survivorId : null);
  const after = rowsAfter(involved, plan, inserted);
  const changed = new Map(after.map((row) => [row.id, row]));
  const next = table.map((row) => changed.get(row.id) ?? row);
  if (inserted) next.push(inserted);
  return { table: next, answer: toCustomer(after) };
}

it('the pure decision agrees with the reference model on random request sequences', () => {
  fc.assert(
    fc.property(requestSequence(), (requests) => {
      const model = new ReferenceModel();
      let table: LinkedContact[] = [];
      for (const request of requests) {
        const result = identifyInMemory(table, request);
        table = result.table;
        assert.deepEqual(result.answer, model.identify(request));
        // No chains: every secondary points at a primary.
        for (const row of table) {
          if (row.linkedId !== null) assert.equal(table.find((r) => r.id === row.linkedId)?.linkedId, null);
        }
      }
    }),
    { numRuns: 2000 },
  );
});
