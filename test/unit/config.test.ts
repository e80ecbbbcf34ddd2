import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const load = (env: Record<string, string>) => loadConfig(env, false);

describe('configuration', () => {
  it('defaults to embedded PGlite under ./data on 0.0.0.0:3000', () => {
    const config = load({});
    assert.deepEqual(config.database, { kind: 'pglite', dataDir: './data' });
    assert.deepEqual([config.host, config.port, config.responseFormat, config.migrateOnStart], ['0.0.0.0', 3000, 'customer', true]);
  });

  it('keeps PGlite in memory with DATABASE_URL=memory://', () => {
    assert.deepEqual(load({ DATABASE_URL: 'memory://' }).database, { kind: 'pglite', dataDir: null });
  });

  it('uses PostgreSQL from DATABASE_URL with the configured pool size', () => {
    assert.deepEqual(load({ DATABASE_URL: 'postgresql://u@db:5432/shop', DB_POOL_SIZE: '25' }).database, {
      kind: 'postgres',
      connectionString: 'postgresql://u@db:5432/shop',
      poolSize: 25,
      poolWaitMs: 5000,
      transactionPooler: false,
    });
  });

  it('talks to a transaction-mode pooler with DB_TRANSACTION_POOLER=true', () => {
    const target = load({ DATABASE_URL: 'postgresql://u@pgbouncer:6432/shop', DB_TRANSACTION_POOLER: 'true' }).database;
    assert.equal(target.kind === 'postgres' && target.transactionPooler, true);
  });

  it("builds a PostgreSQL URL from the seed's DB_* settings, escaping the password", () => {
    const target = load({ DB_HOST: 'db', DB_PORT: '6543', DB_USER: 'shop', DB_PASSWORD: 'p@ss/word', DB_NAME: 'fluxkart' }).database;
    assert.equal(target.kind, 'postgres');
    const url = new URL(target.kind === 'postgres' ? target.connectionString : '');
    assert.deepEqual(
      [url.hostname, url.port, url.username, decodeURIComponent(url.password), url.pathname],
      ['db', '6543', 'shop', 'p@ss/word', '/fluxkart'],
    );
  });

  it('switches the answer shape with RESPONSE_FORMAT and migrations with MIGRATE_ON_START', () => {
    const config = load({ RESPONSE_FORMAT: 'bitespeed', MIGRATE_ON_START: 'false' });
    assert.deepEqual([config.responseFormat, config.migrateOnStart], ['bitespeed', false]);
  });

  it('runs one HTTP process by default and WEB_CONCURRENCY workers on PostgreSQL', () => {
    assert.equal(load({}).workers, 1);
    assert.equal(load({ DATABASE_URL: 'postgresql://u@db/shop', WEB_CONCURRENCY: '4' }).workers, 4);
  });

  for (const [name, env] of [
    ['several workers on embedded PGlite, which one process owns', { WEB_CONCURRENCY: '2' }],
    ['zero workers', { DATABASE_URL: 'postgresql://u@db/shop', WEB_CONCURRENCY: '0' }],
    ['a non-numeric PORT', { PORT: 'abc' }],
    ['an unknown RESPONSE_FORMAT', { RESPONSE_FORMAT: 'xml' }],
    ['a DATABASE_URL of another database', { DATABASE_URL: 'mysql://x/y' }],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['a zero pool size', { DB_POOL_SIZE: '0' }],
  ] as const) {
    it(`rejects ${name} with one clear line`, () => {
      assert.throws(
        () => load(env),
        (error: unknown) => error instanceof ConfigError && !error.message.includes('\n'),
      );
    });
  }

  describe('governance', () => {
    it("keeps the seed's rules but for the size cap: nothing blocked, no preset, a cap of 1000, the admin API closed", () => {
      const config = load({});
      assert.deepEqual(config.governance, { enabled: true, maxCustomerContacts: 1000, preset: null });
      assert.deepEqual([config.http.adminApiKeys, config.http.adminApiOpen], [[], false]);
    });

    it('reads the cap, the preset, admin keys and the bench-only switch', () => {
      const config = load({
        MAX_CUSTOMER_CONTACTS: '0',
        BLOCKLIST_PRESET: 'recommended',
        ADMIN_API_KEYS: 'admin-0123456789abcdef',
        GOVERNANCE: 'off',
      });
      assert.deepEqual(config.governance, { enabled: false, maxCustomerContacts: 0, preset: 'recommended' });
      assert.deepEqual(config.http.adminApiKeys, ['admin-0123456789abcdef']);
    });

    it('refuses a short admin key, an admin key that is also an API key, a negative cap and an unknown preset', () => {
      assert.throws(() => load({ ADMIN_API_KEYS: 'short' }), ConfigError);
      assert.throws(() => load({ API_KEYS: 'same-key-0123456789', ADMIN_API_KEYS: 'same-key-0123456789' }), /keys of their own/);
      assert.throws(() => load({ MAX_CUSTOMER_CONTACTS: '-1' }), ConfigError);
      assert.throws(() => load({ BLOCKLIST_PRESET: 'everything' }), ConfigError);
    });
  });
});

describe('configuration: the normal-form rules', () => {
  it("defaults to the seed's rules: no phone region, no email canonical form", () => {
    assert.deepEqual(load({}).normalForm, { phoneRegion: null, emailCanonicalForm: 'none' });
  });

  it('takes DEFAULT_PHONE_REGION in any case and EMAIL_CANONICAL_FORM=provider', () => {
    assert.deepEqual(load({ DEFAULT_PHONE_REGION: ' in ', EMAIL_CANONICAL_FORM: 'provider' }).normalForm, {
      phoneRegion: 'IN',
      emailCanonicalForm: 'provider',
    });
    assert.equal(load({ DEFAULT_PHONE_REGION: '' }).normalForm.phoneRegion, null);
  });

  it('refuses a region with no phone numbering rules, and an unknown canonical form, in one line', () => {
    assert.throws(
      () => load({ DEFAULT_PHONE_REGION: 'XX' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /DEFAULT_PHONE_REGION must be an ISO 3166 country code/.test(error.message) &&
        !error.message.includes('\n'),
    );
    assert.throws(
      () => load({ EMAIL_CANONICAL_FORM: 'gmail' }),
      (error: unknown) => error instanceof ConfigError && /EMAIL_CANONICAL_FORM/.test(error.message),
    );
  });
});
