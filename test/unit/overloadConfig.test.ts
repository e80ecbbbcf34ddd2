/** The overload and connection settings: defaults derived from the pool and the open-files limit. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, openFilesLimit } from '../../src/config.js';
import { defaultMaxConnections, defaultMaxInFlight } from '../../src/http/settings.js';

const load = (env: Record<string, string>) => loadConfig(env, false);

describe('overload and connection settings', () => {
  it('reads the open-files limit from /proc/self/limits, and falls back to 1024 where it cannot', () => {
    const limits = (soft: string) => () =>
      `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 4096                 files\n`;
    assert.equal(openFilesLimit(limits('256')), 256);
    assert.equal(openFilesLimit(limits('unlimited')), Number.MAX_SAFE_INTEGER);
    assert.equal(
      openFilesLimit(() => 'nothing here'),
      1024,
    );
    assert.equal(
      openFilesLimit(() => {
        throw new Error('ENOENT');
      }),
      1024,
    );
  });

  it('caps connections at four fifths of the open-files limit less the pool, and at most 10,000', () => {
    assert.equal(defaultMaxConnections(256, 10), 194);
    assert.equal(defaultMaxConnections(1024, 10), 809);
    assert.equal(defaultMaxConnections(1_048_576, 10), 10_000);
    assert.equal(defaultMaxConnections(8, 100), 1);
    const config = load({ DATABASE_URL: 'postgresql://u@db/shop', DB_POOL_SIZE: '20' });
    assert.equal(config.http.maxConnections, defaultMaxConnections(openFilesLimit(), 20));
    assert.equal(load({ MAX_CONNECTIONS: '300' }).http.maxConnections, 300);
  });

  it('works on four times the pool at once (at least 8), waits in line up to 2 s, and takes both from the environment', () => {
    assert.equal(load({ DATABASE_URL: 'postgresql://u@db/shop', DB_POOL_SIZE: '10' }).http.maxInFlight, 20);
    assert.equal(load({ DATABASE_URL: 'memory://' }).http.maxInFlight, defaultMaxInFlight(1));
    assert.equal(defaultMaxInFlight(1), 8);
    const defaults = load({}).http;
    assert.deepEqual([defaults.maxWaitMs, defaults.maxEventLoopDelayMs], [2_000, 1_000]);
    const set = load({ OVERLOAD_MAX_IN_FLIGHT: '5', OVERLOAD_MAX_WAIT_MS: '0', OVERLOAD_EVENT_LOOP_DELAY_MS: '0' }).http;
    assert.deepEqual([set.maxInFlight, set.maxWaitMs, set.maxEventLoopDelayMs], [5, 0, 0]);
  });

  it('refuses OVERLOAD_POOL_WAITING, which no longer exists, naming what replaced it', () => {
    assert.throws(
      () => load({ OVERLOAD_POOL_WAITING: '200' }),
      (error: unknown) => error instanceof ConfigError && /OVERLOAD_MAX_IN_FLIGHT/.test(error.message),
    );
  });
});
