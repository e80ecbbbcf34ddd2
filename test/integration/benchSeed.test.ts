/** The benchmark's seed builds a table the service accepts as its own: no invariant broken. */
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { BIG_CUSTOMER_EMAIL, emailOf, phoneOf, seed, seedBigCustomer } from '../../bench/seed.js';
import { checkInvariants, totalViolations } from '../../src/db/invariants.js';
import { identifyStore } from '../../src/db/identifyStore.js';
import { createIdentifyService } from '../../src/identity/identifyService.js';
import { describeOnEachDatabase } from '../support/databases.js';

describeOnEachDatabase('the benchmark seed', (scratch) => {
  beforeEach(() => scratch().reset());

  it('seeds 1 to 5 rows per customer, about 2.2 on average, breaking no invariant', async () => {
    const { rows } = await seed(scratch().db, 1_000);
    assert.equal(rows, 2_200);
    assert.equal(totalViolations(await checkInvariants(scratch().db)), 0);
  });

  it('makes every customer findable by the identifiers the workloads send, and answers lookups unchanged', async () => {
    await seed(scratch().db, 1_000);
    const service = createIdentifyService(identifyStore(scratch().db));
    for (const customer of [2, 10, 11, 997]) {
      const result = await service.identify({ email: emailOf(customer), phoneNumber: phoneOf(customer) });
      assert.equal(result.outcome, 'unchanged');
      assert.equal(result.customer.primaryContactId, customer);
    }
  });

  it('adds a customer of a given size, answered whole', async () => {
    await seed(scratch().db, 1_000);
    await seedBigCustomer(scratch().db, 50);
    const { customer } = await createIdentifyService(identifyStore(scratch().db)).identify({
      email: BIG_CUSTOMER_EMAIL,
      phoneNumber: null,
    });
    assert.equal(customer.secondaryContactIds.length, 49);
    assert.equal(customer.phoneNumbers.length, 50);
    assert.equal(totalViolations(await checkInvariants(scratch().db)), 0);
  });
});
