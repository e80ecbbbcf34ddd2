import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRetryable } from '../../src/db/errors.js';
import { withRetry } from '../../src/identity/retry.js';

const sqlError = (code: string) => Object.assign(new Error(code), { code });

describe('retrying aborted transactions', () => {
  for (const code of ['40P01', '40001']) {
    it(`runs the work again after ${code} and returns its result`, async () => {
      let calls = 0;
      const retried: number[] = [];
      const result = await withRetry(
        async () => {
          if (++calls < 3) throw sqlError(code);
          return 'done';
        },
        { attempts: 5, isRetryable, onRetry: (_error, attempt) => retried.push(attempt) },
      );
      assert.equal(result, 'done');
      assert.deepEqual(retried, [1, 2]);
    });
  }

  it('does not retry other errors', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw sqlError('23505');
        },
        { attempts: 5, isRetryable },
      ),
      /23505/,
    );
    assert.equal(calls, 1);
  });

  it('gives up after the configured number of attempts', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw sqlError('40P01');
        },
        { attempts: 3, isRetryable },
      ),
      /40P01/,
    );
    assert.equal(calls, 3);
  });
});
