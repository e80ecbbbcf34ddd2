/**
 * One batch in flight (src/db/perTurn.ts, oneBatchInFlight): what the plans of one process wait
 * for before their statement goes, and what stops a slow statement from holding the rest back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { oneBatchInFlight, type Settle, type Waiting } from '../../src/db/perTurn.js';

/**
 * A statement sender whose statements answer when the test says: each batch's items, in sending
 * order, and in `log` every sending and every caller settled, in the order they happened.
 */
function controlledSender() {
  const batches: number[][] = [];
  const log: string[] = [];
  const pending: { answer(): void; fail(): void }[] = [];
  const send = (batch: Waiting<number, string>[]) =>
    new Promise<Settle>((resolve) => {
      batches.push(batch.map(({ item }) => item));
      log.push(`sent ${batch.map(({ item }) => item).join(',')}`);
      pending.push({
        answer: () =>
          resolve(() =>
            batch.forEach(({ item, resolve: settle }) => {
              log.push(`settled ${item}`);
              settle(`answer ${item}`);
            }),
          ),
        fail: () => resolve(() => batch.forEach(({ reject: settle }) => settle(new Error('connection lost')))),
      });
    });
  return { send, batches, pending, log };
}

/** Lets the event loop run the turns scheduled so far (setImmediate callbacks and their promises). */
const nextTurns = () => sleep(1);

describe('one batch in flight', () => {
  it('calls made in one turn go as one batch at its end', async () => {
    const { send, batches, pending } = controlledSender();
    const call = oneBatchInFlight(send, { max: 16, patienceMs: 1000 });
    const answers = [call(1), call(2), call(3)];
    assert.deepEqual(batches, []);
    await nextTurns();
    assert.deepEqual(batches, [[1, 2, 3]]);
    pending[0]?.answer();
    assert.deepEqual(await Promise.all(answers), ['answer 1', 'answer 2', 'answer 3']);
  });

  it('calls made while a batch is in flight wait for its answer, then go together as the next batch', async () => {
    const { send, batches, pending } = controlledSender();
    const call = oneBatchInFlight(send, { max: 16, patienceMs: 1000 });
    const first = call(1);
    await nextTurns();
    const later = [call(2), call(3)];
    await nextTurns();
    const last = call(4);
    await nextTurns();
    assert.deepEqual(batches, [[1]], 'nothing else is sent while the first batch runs');
    pending[0]?.answer();
    assert.equal(await first, 'answer 1');
    await nextTurns();
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
    pending[1]?.answer();
    assert.deepEqual(await Promise.all([...later, last]), ['answer 2', 'answer 3', 'answer 4']);
  });

  it("the next batch goes as soon as the last one answers, before that one's callers are settled", async () => {
    const { send, pending, log } = controlledSender();
    const call = oneBatchInFlight(send, { max: 16, patienceMs: 1000 });
    const first = call(1);
    await nextTurns();
    const second = call(2);
    await nextTurns();
    pending[0]?.answer();
    assert.equal(await first, 'answer 1');
    assert.deepEqual(log, ['sent 1', 'sent 2', 'settled 1'], 'batch 2 was sent before answer 1 was handed out');
    pending[1]?.answer();
    assert.equal(await second, 'answer 2');
  });

  it('more calls waiting than a statement takes go as several statements at once, and the next batch waits for all of them', async () => {
    const { send, batches, pending } = controlledSender();
    const call = oneBatchInFlight(send, { max: 2, patienceMs: 1000 });
    const answers = [1, 2, 3, 4, 5].map(call);
    await nextTurns();
    assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
    const next = call(6);
    pending[0]?.answer();
    pending[1]?.answer();
    await nextTurns();
    assert.equal(batches.length, 3, 'one of the three statements still runs');
    pending[2]?.answer();
    await nextTurns();
    assert.deepEqual(batches.at(-1), [6]);
    pending[3]?.answer();
    assert.deepEqual(
      await Promise.all([...answers, next]),
      [1, 2, 3, 4, 5, 6].map((n) => `answer ${n}`),
    );
  });

  it('a batch slower than the patience stops holding the next back; its late answer releases nothing twice', async () => {
    const { send, batches, pending } = controlledSender();
    const call = oneBatchInFlight(send, { max: 16, patienceMs: 200 });
    const stuck = call(1);
    await nextTurns();
    const waiting = call(2);
    await nextTurns();
    assert.deepEqual(batches, [[1]]);
    while (batches.length < 2) await nextTurns();
    assert.deepEqual(batches, [[1], [2]], 'the second went while the first still ran');
    // Within the second's own patience from here on.
    const third = call(3);
    pending[0]?.answer();
    await nextTurns();
    assert.deepEqual(batches, [[1], [2]], "the stuck batch's answer does not let the third past the second");
    pending[1]?.answer();
    await nextTurns();
    assert.deepEqual(batches, [[1], [2], [3]]);
    pending[2]?.answer();
    assert.deepEqual(await Promise.all([stuck, waiting, third]), ['answer 1', 'answer 2', 'answer 3']);
  });

  it("an answer that cannot be handed out fails that batch's callers and still lets the next batch go", async () => {
    const sent: { batch: Waiting<number, string>[]; answer(settle: Settle): void }[] = [];
    const send = (batch: Waiting<number, string>[]) => new Promise<Settle>((answer) => sent.push({ batch, answer }));
    const call = oneBatchInFlight(send, { max: 16, patienceMs: 1000 });
    const unreadable = [call(1), call(2)];
    await nextTurns();
    const next = call(3);
    sent[0]?.answer(() => {
      throw new Error('a row without an id where a contact was expected');
    });
    for (const answer of unreadable) await assert.rejects(answer, /a row without an id/);
    await nextTurns();
    assert.deepEqual(
      sent.map(({ batch }) => batch.map(({ item }) => item)),
      [[1, 2], [3]],
    );
    sent[1]?.answer(() => sent[1]?.batch.forEach(({ item, resolve }) => resolve(`answer ${item}`)));
    assert.equal(await next, 'answer 3');
  });

  it('a failed batch frees the way as an answered one does', async () => {
    const { send, batches, pending } = controlledSender();
    const call = oneBatchInFlight(send, { max: 16, patienceMs: 1000 });
    const failing = call(1);
    await nextTurns();
    const next = call(2);
    pending[0]?.fail();
    await assert.rejects(failing, /connection lost/);
    await nextTurns();
    assert.deepEqual(batches, [[1], [2]]);
    pending[1]?.answer();
    assert.equal(await next, 'answer 2');
  });
});
