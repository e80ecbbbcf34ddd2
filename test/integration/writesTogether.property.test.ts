/**
 * Property: requests sent together, whose reads and writes the service batches (src/db/lookupBatch.ts,
 * src/db/planBatch.ts), leave the table one-at-a-time would have left, in the order their changes
 * took effect. That order is the event log's: every change is logged with its request's
 * x-request-id in the transaction that makes it; a request that changed nothing comes last (what
 * it found one customer stays one). The reference model replays the requests in that order and
 * must end with the same customers and the same rows, and answer every request that changed
 * something as the service did.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Customer, Identifiers } from '../../src/identity/contact.js';
import { checkInvariants, totalViolations } from '../../src/db/invariants.js';
import { useTestApp } from '../support/app.js';
import { identifiers, requestSequence } from '../support/arbitraries.js';
import { describeOnEachDatabase } from '../support/databases.js';
import { ReferenceModel } from '../support/referenceModel.js';

/** A customer without its ids (which of two rows made at once got the lower id is not the model's to say). */
const values = ({ emails, phoneNumbers }: Pick<Customer, 'emails' | 'phoneNumbers'>) => ({
  emails: [...emails].sort(),
  phoneNumbers: [...phoneNumbers].sort(),
});

interface StoredPair {
  email: string | null;
  phoneNumber: string | null;
}

/** Every customer as its rows' (email, phone) pairs, sorted: a table's content up to ids. `customerOf` names a row's customer. */
function customersOf<Row extends StoredPair>(rows: readonly Row[], customerOf: (row: Row) => number): string[][] {
  const byCustomer = new Map<number, string[]>();
  for (const row of rows) {
    const customer = customerOf(row);
    byCustomer.set(customer, [...(byCustomer.get(customer) ?? []), `${row.email}|${row.phoneNumber}`]);
  }
  return [...byCustomer.values()].map((pairs) => pairs.sort()).sort((a, b) => a.join().localeCompare(b.join()));
}

describeOnEachDatabase('requests sent together against the reference model', (scratch) => {
  const testApp = useTestApp(scratch);

  it('leave the table and answer as the model does, replayed in the order the event log shows', async () => {
    await fc.assert(
      fc.asyncProperty(requestSequence(6), fc.array(identifiers, { minLength: 2, maxLength: 12 }), async (before, together) => {
        await scratch().reset();
        const send = (request: Identifiers, id: string) =>
          testApp().inject({ method: 'POST', url: '/identify', payload: request, headers: { 'x-request-id': id } });
        for (const [index, request] of before.entries()) assert.equal((await send(request, `before-${index}`)).statusCode, 200);
        const responses = await Promise.all(together.map((request, index) => send(request, `together-${index}`)));
        for (const response of responses) assert.equal(response.statusCode, 200, response.body);

        const db = scratch().db;
        assert.equal(totalViolations(await checkInvariants(db)), 0);
        const firstEvents = await db.query<{ requestId: string }>(
          `SELECT "requestId" FROM "ContactEvent" WHERE "requestId" LIKE 'together-%' GROUP BY "requestId" ORDER BY min("id")`,
        );
        const changed = firstEvents.map((event) => Number(event.requestId.slice('together-'.length)));
        const unchanged = together.map((_, index) => index).filter((index) => !changed.includes(index));

        const model = new ReferenceModel();
        for (const request of before) model.identify(request);
        for (const index of changed) {
          const expected = model.identify(together[index] as Identifiers);
          const answer = responses[index]?.json().customer as Customer;
          assert.deepEqual(values(answer), values(expected), `request ${index}, ${JSON.stringify(together[index])}`);
        }
        for (const index of unchanged) model.identify(together[index] as Identifiers);
        const tableRows = await db.query<StoredPair & { id: number; linkedId: number | null }>(
          `SELECT "id", "email", "phoneNumber", "linkedId" FROM "Contact" WHERE "deletedAt" IS NULL`,
        );
        assert.deepEqual(
          customersOf(tableRows, (row) => row.linkedId ?? row.id),
          customersOf(model.snapshot(), (row) => row.customer),
        );
      }),
      { numRuns: 60 },
    );
  });
});
