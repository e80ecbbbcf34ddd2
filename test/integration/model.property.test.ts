/**
 * Property: random request sequences over a small pool of identifiers, sent through the whole
 * stack (HTTP, service, SQL, real database), get exactly the reference model's answers.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { postIdentify, useTestApp } from '../support/app.js';
import { requestSequence } from '../support/arbitraries.js';
import { describeOnEachDatabase } from '../support/databases.js';
import { ReferenceModel } from '../support/referenceModel.js';

describeOnEachDatabase('the real service against the reference model', (scratch) => {
  const testApp = useTestApp(scratch);

  it('answers every request of every random sequence as the model does', async () => {
    await fc.assert(
      fc.asyncProperty(requestSequence(20), async (requests) => {
        await scratch().reset();
        const model = new ReferenceModel();
        for (const request of requests) {
          const response = await postIdentify(testApp(), request);
          assert.equal(response.statusCode, 200, response.body);
          const { id, ...customer } = response.json().customer;
          const expected = model.identify(request);
          assert.deepEqual(customer, expected, `after ${JSON.stringify(request)}`);
          assert.equal(id, expected.primaryContactId);
        }
      }),
      { numRuns: 100 },
    );
  });
});
