/** How long a dead webhook delivery thread waits before it is started again (src/deliveryThread.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restartDelayMs } from '../../src/deliveryThread.js';

describe('restartDelayMs', () => {
  it('waits the first delay after a first death', () => {
    assert.equal(restartDelayMs(1, 1_000), 1_000);
  });

  it('doubles the wait for each further death in a row', () => {
    assert.deepEqual(
      [2, 3, 4, 5].map((deaths) => restartDelayMs(deaths, 1_000)),
      [2_000, 4_000, 8_000, 16_000],
    );
  });

  it('never waits longer than the cap, however many deaths', () => {
    assert.equal(restartDelayMs(7, 1_000), 60_000);
    assert.equal(restartDelayMs(10_000, 1_000), 60_000);
    assert.equal(restartDelayMs(3, 50, 120), 120);
  });

  it('reads no death (or a nonsense count) as the first', () => {
    assert.equal(restartDelayMs(0, 1_000), 1_000);
    assert.equal(restartDelayMs(-3, 1_000), 1_000);
  });
});
