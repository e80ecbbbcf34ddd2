/** The line in front of the API, on a fake clock: turns, order, the learnt length, expiry, stalls. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission, SMALLEST_LINE, TICK_MS, type ShedReason } from '../../src/http/plugins/overload.js';

function setUp(maxInFlight: number, maxWaitMs: number) {
  const clock = { now: 0 };
  const admission = new Admission({ maxInFlight, maxWaitMs }, () => clock.now);
  const started: number[] = [];
  const refused: [number, ShedReason][] = [];
  const leave = new Map<number, () => void>();
  let next = 0;
  const ask = () => {
    const id = next++;
    leave.set(
      id,
      admission.request(
        () => started.push(id),
        (reason) => refused.push([id, reason]),
      ),
    );
    return id;
  };
  const tick = (ms = TICK_MS) => {
    clock.now += ms;
    admission.tick();
  };
  return { admission, clock, started, refused, leave, ask, tick };
}

describe('admission', () => {
  it('starts up to maxInFlight at once; the rest wait and start in arrival order as turns free up', () => {
    const { admission, started, ask } = setUp(2, 1_000);
    for (let i = 0; i < 5; i++) ask();
    assert.deepEqual(started, [0, 1]);
    assert.equal(admission.queued, 3);
    admission.finish(true);
    assert.deepEqual(started, [0, 1, 2]);
    admission.finish(true);
    admission.finish(true);
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    assert.equal(admission.inFlight, 2);
    assert.equal(admission.queued, 0);
  });

  it('refuses at once past the line (at first four times maxInFlight); the line doubles every tick it was full while requests were answered and nobody waited too long', () => {
    const { admission, refused, ask, tick } = setUp(2, 1_000);
    for (let i = 0; i < 2 + 2 * SMALLEST_LINE; i++) ask();
    assert.deepEqual(refused, []);
    const late = ask();
    assert.deepEqual(refused, [[late, 'line_full']]);
    admission.finish(true);
    tick();
    assert.equal(admission.lineLimit, 4 * SMALLEST_LINE);
    tick(); // nobody refused in this tick: the line stays
    assert.equal(admission.lineLimit, 4 * SMALLEST_LINE);
    for (let i = 0; i < 2 * SMALLEST_LINE + 1; i++) ask();
    assert.equal(refused.length, 1);
    assert.equal(admission.queued, 4 * SMALLEST_LINE);
  });

  it('does not grow the line while nothing but 503s is answered (a database that fails every query)', () => {
    const { admission, refused, ask, tick } = setUp(1, 1_000);
    for (let i = 0; i < 2 + SMALLEST_LINE; i++) ask();
    assert.equal(refused.length, 1);
    admission.finish(false);
    tick();
    assert.equal(admission.lineLimit, SMALLEST_LINE);
  });

  it('refuses a request that has waited maxWaitMs, and halves the line, never below its first length', () => {
    const { admission, refused, ask, tick } = setUp(1, 1_000);
    ask();
    for (let i = 0; i < 1 + SMALLEST_LINE; i++) ask(); // four wait, one is refused
    assert.deepEqual(refused, [[1 + SMALLEST_LINE, 'line_full']]);
    for (let t = 0; t < 1_000 - TICK_MS; t += TICK_MS) tick();
    assert.equal(admission.queued, SMALLEST_LINE);
    tick(); // 1,000 ms
    assert.deepEqual(
      refused.filter(([, reason]) => reason === 'waited_too_long').map(([id]) => id),
      [1, 2, 3, 4],
    );
    assert.equal(admission.queued, 0);
    assert.equal(admission.lineLimit, SMALLEST_LINE);
  });

  it('refuses new requests while every turn is taken and nothing but 503s has been answered for a quarter of maxWaitMs; an answer ends that', () => {
    const { admission, refused, ask, tick } = setUp(2, 1_000);
    ask();
    ask();
    tick(200);
    ask();
    assert.deepEqual(refused, []);
    tick(100); // 300 ms without a completion
    const stalled = ask();
    assert.deepEqual(refused, [[stalled, 'stalled']]);
    admission.finish(false); // a 503, and the waiting one gets the turn: still stalled
    assert.equal(admission.queued, 0);
    const stillStalled = ask();
    assert.deepEqual(refused.at(-1), [stillStalled, 'stalled']);
    admission.finish(true); // an answer
    ask(); // takes the free turn
    ask(); // waits
    assert.equal(refused.length, 2);
    assert.deepEqual([admission.inFlight, admission.queued], [2, 1]);
  });

  it('drops a waiter whose client left; its turn goes to the next', () => {
    const { admission, started, leave, ask } = setUp(1, 1_000);
    ask();
    const gone = ask();
    const next = ask();
    leave.get(gone)?.();
    assert.equal(admission.queued, 1);
    admission.finish(true);
    assert.deepEqual(started, [0, next]);
  });

  it('with maxWaitMs 0 lines up everyone for as long as it takes; with maxInFlight 0 starts everyone at once', () => {
    const unbounded = setUp(1, 0);
    for (let i = 0; i < 1_000; i++) unbounded.ask();
    unbounded.tick(60_000);
    assert.deepEqual(unbounded.refused, []);
    assert.equal(unbounded.admission.queued, 999);
    const open = setUp(0, 1_000);
    for (let i = 0; i < 1_000; i++) open.ask();
    assert.equal(open.started.length, 1_000);
  });
});
