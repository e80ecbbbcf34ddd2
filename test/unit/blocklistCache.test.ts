/** The process's copy of the block list: shared loads, never older, reloaded when old for the read API. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Blocklist } from '../../src/identity/blocklist.js';
import { BlocklistCache } from '../../src/identity/governance.js';

function controlledLoads() {
  const pending: ((list: Blocklist) => void)[] = [];
  let loads = 0;
  const load = () =>
    new Promise<Blocklist>((resolve) => {
      loads += 1;
      pending.push(resolve);
    });
  return { load, finish: (version: number) => pending.shift()?.(Blocklist.empty(version)), loads: () => loads };
}

describe('the block list cache', () => {
  it('many requests asking at once cost one load', async () => {
    const loads = controlledLoads();
    const cache = new BlocklistCache(loads.load);
    const answers = Promise.all([cache.current(), cache.current(), cache.refresh()]);
    loads.finish(1);
    await new Promise((resolve) => setImmediate(resolve));
    loads.finish(1);
    assert.deepEqual(
      (await answers).map((list) => list.version),
      [1, 1, 1],
    );
    assert.ok(loads.loads() <= 2);
  });

  it('a refresh asked for while a load runs gets a load that starts after it (that one may have read too early)', async () => {
    const loads = controlledLoads();
    const cache = new BlocklistCache(loads.load);
    const first = cache.refresh();
    const second = cache.refresh();
    const third = cache.refresh();
    loads.finish(1);
    assert.equal((await first).version, 1);
    await new Promise((resolve) => setImmediate(resolve));
    loads.finish(2);
    assert.equal((await second).version, 2);
    assert.equal(await third, await second, 'the waiting callers share one load');
    assert.equal(loads.loads(), 2);
  });

  it('never goes back to an older version', async () => {
    let version = 5;
    const cache = new BlocklistCache(async () => Blocklist.empty(version));
    await cache.refresh();
    version = 3;
    assert.equal((await cache.refresh()).version, 5);
  });

  it('loads again when the copy is older than maxAgeMs, and not before', async () => {
    let now = 0;
    let loads = 0;
    const cache = new BlocklistCache(
      async () => {
        loads += 1;
        return Blocklist.empty(loads);
      },
      1_000,
      () => now,
    );
    await cache.current();
    now = 999;
    await cache.current();
    assert.equal(loads, 1);
    now = 1_000;
    assert.equal((await cache.current()).version, 2);
  });

  it('latest() keeps the loaded list however old: /identify checks the version in its own statements', async () => {
    let now = 0;
    let loads = 0;
    const cache = new BlocklistCache(
      async () => Blocklist.empty(++loads),
      1_000,
      () => now,
    );
    assert.equal((await cache.latest()).version, 1, 'loaded the first time');
    now = 60_000;
    assert.equal((await cache.latest()).version, 1);
    assert.equal(loads, 1);
  });
});
