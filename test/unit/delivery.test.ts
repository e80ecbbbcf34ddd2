/**
 * The pure parts of change events: the payload of each event type, the Standard Webhooks
 * signature (the scheme's own test vector), the backoff, and the WEBHOOK_* settings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { backoffMs } from '../../src/delivery/deliverer.js';
import { toPayload, type LoggedEvent } from '../../src/delivery/events.js';
import { newSecret, sign, signingKey, webhookHeaders } from '../../src/delivery/signature.js';
import { changeEventCheck } from '../support/delivery.js';

const AT = new Date('2026-11-25T17:02:56.789Z');
const invalid = changeEventCheck();

function logged(type: string, fields: Partial<LoggedEvent> = {}): LoggedEvent {
  return { id: '7', at: AT, type, customerIds: [1], contactIds: [], detail: {}, contact: null, ...fields };
}

describe('the payload of each event type', () => {
  const cases: [string, Partial<LoggedEvent>, unknown][] = [
    ['customer.created', { contactIds: [1] }, { customerId: 1, contactId: 1 }],
    [
      'customer.updated',
      { contactIds: [2], detail: { new: ['email', 'phoneNumber'] }, contact: { email: 'mcfly@hillvalley.edu', phoneNumber: '555' } },
      { customerId: 1, contactId: 2, new: ['email', 'phoneNumber'], email: 'mcfly@hillvalley.edu', phoneNumber: '555' },
    ],
    [
      'customer.updated',
      { contactIds: [2], detail: { new: ['phoneNumber'] }, contact: { email: 'known@hillvalley.edu', phoneNumber: '555' } },
      { customerId: 1, contactId: 2, new: ['phoneNumber'], phoneNumber: '555' },
    ],
    ['customer.merged', { customerIds: [1, 4], detail: { survivor: 1, absorbed: [4] } }, { survivorId: 1, absorbedIds: [4] }],
    [
      'customer.merged',
      { customerIds: [1, 4], detail: { survivor: 1, absorbed: [4], cause: 'identifier.unblocked' } },
      { survivorId: 1, absorbedIds: [4], cause: 'identifier.unblocked' },
    ],
    [
      'customer.relinked',
      { customerIds: [3, 1], contactIds: [4], detail: { promoted: true } },
      { customerId: 3, previousOwnerIds: [1], promoted: true },
    ],
    [
      'customer.split',
      { customerIds: [1, 3], detail: { into: [1, 3], cause: 'identifier.blocked' } },
      { ownerId: 1, into: [1, 3], cause: 'identifier.blocked' },
    ],
    [
      'customer.split',
      { customerIds: [2, 3, 1], detail: { into: [2, 3], cause: 'identifier.quarantined' } },
      { ownerId: 1, into: [2, 3], cause: 'identifier.quarantined' },
    ],
    ['contact.erased', { customerIds: [1], contactIds: [2, 3] }, { contactIds: [2, 3] }],
    [
      'identifier.blocked',
      { detail: { ruleId: 4, field: 'email', match: 'domain', reason: 'test domain' } },
      { ruleId: 4, field: 'email', match: 'domain', reason: 'test domain' },
    ],
    [
      'identifier.quarantined',
      { detail: { ruleId: 5, field: 'phoneNumber', match: 'exact', reason: 'over-merge' } },
      { ruleId: 5, field: 'phoneNumber', match: 'exact', reason: 'over-merge' },
    ],
    ['something.new', { detail: { anything: 'else' } }, {}],
  ];
  for (const [type, fields, data] of cases) {
    it(`${type}: ${JSON.stringify(data)}`, () => {
      const payload = toPayload(logged(type, fields));
      assert.deepEqual(payload.data, data);
      assert.equal(payload.id, '7');
      assert.equal(payload.at, '2026-11-25T17:02:56.789Z');
      assert.equal(invalid(payload), null);
    });
  }

  it('customer.updated: no values once the contact row no longer holds them (erased, or no longer live)', () => {
    const payload = toPayload(logged('customer.updated', { contactIds: [2], detail: { new: ['email'] }, contact: null }));
    assert.deepEqual(payload.data, { customerId: 1, contactId: 2, new: ['email'] });
    const erased = toPayload(
      logged('customer.updated', { contactIds: [2], detail: { new: ['email'] }, contact: { email: null, phoneNumber: null } }),
    );
    assert.deepEqual(erased.data, { customerId: 1, contactId: 2, new: ['email'] });
  });

  it("never carries a merge's request identifiers (the log keeps them for explain, not for receivers)", () => {
    const payload = toPayload(logged('customer.merged', { detail: { survivor: 1, absorbed: [2] } }));
    assert.deepEqual(Object.keys(payload).sort(), ['at', 'contactIds', 'customerIds', 'data', 'id', 'type']);
  });
});

describe('the Standard Webhooks signature', () => {
  it("matches the scheme's test vector (standard-webhooks, libraries/javascript/src/webhook.test.ts)", () => {
    const key = signingKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    assert.equal(
      sign(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it("takes a secret without the whsec_ prefix as its bytes (the libraries' raw format)", () => {
    assert.deepEqual(signingKey('plain-secret-0123456789'), Buffer.from('plain-secret-0123456789'));
  });

  it('signs "<id>.<timestamp>.<body>" with the attempt\'s time in Unix seconds', () => {
    const key = signingKey(newSecret());
    const headers = webhookHeaders(key, '42', '{"a":1}', 1_700_000_000_999);
    assert.equal(headers['webhook-timestamp'], '1700000000');
    assert.equal(headers['webhook-id'], '42');
    assert.equal(headers['webhook-signature'], sign(key, '42', 1_700_000_000, '{"a":1}'));
    assert.equal(headers['content-type'], 'application/json');
  });

  it('makes new secrets of 32 random bytes in the whsec_ form', () => {
    const [a, b] = [newSecret(), newSecret()];
    assert.notEqual(a, b);
    assert.equal(signingKey(a).length, 32);
  });
});

describe('the backoff (full jitter)', () => {
  const settings = { backoffBaseMs: 1_000, backoffCapMs: 600_000 };
  it('waits a random time up to base × 2^(attempt−1)', () => {
    assert.equal(
      backoffMs(1, settings, () => 0),
      0,
    );
    assert.equal(
      backoffMs(1, settings, () => 0.999999),
      999,
    );
    assert.equal(
      backoffMs(4, settings, () => 0.5),
      4_000,
    );
  });
  it('never above the cap, however many attempts', () => {
    assert.equal(
      backoffMs(30, settings, () => 0.999999),
      599_999,
    );
    assert.equal(
      backoffMs(10_000, settings, () => 0.5),
      300_000,
    );
  });
});

describe('WEBHOOK_* settings', () => {
  const load = (env: Record<string, string>) => loadConfig({ ...env }, false);
  it('are off by default: no URLs, 10 s per attempt, 24 h of retries, 1 s to 10 min backoff, 30 s leases, a 250 ms poll', () => {
    assert.deepEqual(load({}).delivery, {
      urls: [],
      secret: null,
      timeoutMs: 10_000,
      retryWindowMs: 86_400_000,
      backoffBaseMs: 1_000,
      backoffCapMs: 600_000,
      leaseMs: 30_000,
      pollMs: 250,
    });
  });
  it('read a comma-separated list of URLs (once each) and fractions of an hour', () => {
    const { delivery } = load({
      WEBHOOK_URLS: 'https://a.example.com/x, http://127.0.0.1:9000/y,https://a.example.com/x',
      WEBHOOK_SECRET: 'a-secret-of-16-chars',
      WEBHOOK_RETRY_HOURS: '0.001',
    });
    assert.deepEqual(delivery.urls, ['https://a.example.com/x', 'http://127.0.0.1:9000/y']);
    assert.equal(delivery.retryWindowMs, 3_600);
  });
  it('refuse URLs without a secret, a secret under 16 characters, a URL that is not http(s), and a lease shorter than two attempts', () => {
    assert.throws(() => load({ WEBHOOK_URLS: 'https://a.example.com' }), /WEBHOOK_URLS needs WEBHOOK_SECRET/);
    assert.throws(() => load({ WEBHOOK_URLS: 'https://a.example.com', WEBHOOK_SECRET: 'short' }), /at least 16 characters/);
    assert.throws(() => load({ WEBHOOK_URLS: 'ftp://a.example.com', WEBHOOK_SECRET: 'a-secret-of-16-chars' }), ConfigError);
    assert.throws(() => load({ WEBHOOK_TIMEOUT_MS: '20000' }), /WEBHOOK_LEASE_MS must be at least twice/);
  });
});
