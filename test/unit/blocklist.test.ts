/** The block list's rules: what each kind of rule matches, which rules it refuses, and screening a request. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Blocklist, checkRule, MAX_PATTERN_LENGTH, screen, type BlockRule, type BlockRuleSpec } from '../../src/identity/blocklist.js';
import { RECOMMENDED_PRESET } from '../../src/identity/blocklistPreset.js';

let ids = 0;
function rule(spec: BlockRuleSpec): BlockRule {
  const checked = checkRule(spec);
  if (!checked.ok) throw new Error(checked.message);
  return { ...checked.rule, id: ++ids, reason: 'test', addedBy: 'test', createdAt: new Date() };
}
const list = (...specs: BlockRuleSpec[]) => new Blocklist(1, specs.map(rule));

describe('block rules', () => {
  it('an exact rule is stored in normal form, so it blocks what requests normalise to', () => {
    const checked = checkRule({ field: 'email', match: 'exact', value: ' Test@Test.COM ' });
    assert.deepEqual(checked, { ok: true, rule: { field: 'email', match: 'exact', value: 'test@test.com' } });
    assert.equal(list({ field: 'phoneNumber', match: 'exact', value: '(000) 000-0000' }).isBlocked('phoneNumber', '0000000000'), true);
  });

  it('an exact rule with a value that is no email or phone is refused, the message not repeating it', () => {
    const checked = checkRule({ field: 'email', match: 'exact', value: 'no-at-sign' });
    assert.equal(checked.ok, false);
    assert.doesNotMatch(JSON.stringify(checked), /no-at-sign/);
  });

  it('a domain rule blocks that domain exactly, not its look-alikes or subdomains', () => {
    const blocked = list({ field: 'email', match: 'domain', value: '@Example.com' });
    assert.equal(blocked.isBlocked('email', 'x@example.com'), true);
    assert.equal(blocked.isBlocked('email', 'x@example.community'), false);
    assert.equal(blocked.isBlocked('email', 'x@mail.example.com'), false);
  });

  it('a domain rule is for emails and for domains only', () => {
    assert.equal(checkRule({ field: 'phoneNumber', match: 'domain', value: 'example.com' }).ok, false);
    assert.equal(checkRule({ field: 'email', match: 'domain', value: 'not a domain' }).ok, false);
  });

  it('a pattern is a regular expression matched against the normal form', () => {
    const blocked = list({ field: 'phoneNumber', match: 'pattern', value: '^0+$' });
    assert.equal(blocked.isBlocked('phoneNumber', '0000'), true);
    assert.equal(blocked.isBlocked('phoneNumber', '0100'), false);
    assert.equal(blocked.isBlocked('email', '0000'), false, 'a rule blocks its own field only');
  });

  it(`a pattern longer than ${MAX_PATTERN_LENGTH} characters is refused`, () => {
    assert.equal(checkRule({ field: 'email', match: 'pattern', value: 'a'.repeat(MAX_PATTERN_LENGTH + 1) }).ok, false);
  });

  it('a pattern with syntax the two engines read differently (lookaround, backreferences, \\b, \\w) is refused', () => {
    for (const value of ['(?=a)a', '(a)\\1', '\\bfoo', '\\w+@x', 'a\\sb']) {
      assert.equal(checkRule({ field: 'email', match: 'pattern', value }).ok, false, value);
    }
  });

  it('a pattern that backtracks catastrophically elsewhere ends quickly here: the linear engine takes over', () => {
    const blocked = list({ field: 'email', match: 'pattern', value: '^(a+)+$' });
    assert.equal(blocked.isBlocked('email', `${'a'.repeat(240)}!@x.io`), false);
  });
});

describe('screening a request', () => {
  const blocked = list({ field: 'email', match: 'exact', value: 'test@test.com' }, { field: 'phoneNumber', match: 'exact', value: '000' });

  it('drops a blocked value and says which field it was', () => {
    assert.deepEqual(screen({ email: 'test@test.com', phoneNumber: '111' }, blocked), {
      usable: { email: null, phoneNumber: '111' },
      ignored: ['email'],
    });
  });

  it('leaves nothing usable when every identifier is blocked', () => {
    assert.deepEqual(screen({ email: 'test@test.com', phoneNumber: '000' }, blocked), { usable: null, ignored: ['email', 'phoneNumber'] });
  });

  it('passes a request with nothing blocked through unchanged', () => {
    const request = { email: 'a@x.io', phoneNumber: null };
    assert.deepEqual(screen(request, blocked), { usable: request, ignored: [] });
    assert.deepEqual(screen(request, Blocklist.empty()), { usable: request, ignored: [] });
  });
});

describe('the recommended preset', () => {
  const preset = new Blocklist(
    1,
    RECOMMENDED_PRESET.map(({ reason, ...spec }) => ({ ...rule(spec), reason })),
  );

  it('holds only rules the block list accepts', () => {
    for (const { reason: _reason, ...spec } of RECOMMENDED_PRESET) assert.equal(checkRule(spec).ok, true, JSON.stringify(spec));
  });

  it('blocks the documented junk', () => {
    for (const email of ['test@test.com', 'x@example.org', 'qa@shop.test', 'a@b.invalid'])
      assert.equal(preset.isBlocked('email', email), true, email);
    for (const phone of ['0000000000', '+1111111', '1234567890', '9876543210'])
      assert.equal(preset.isBlocked('phoneNumber', phone), true, phone);
  });

  it("leaves real-looking values and the seed's own examples alone", () => {
    for (const email of ['lorraine@hillvalley.edu', 'tester@testing.com']) assert.equal(preset.isBlocked('email', email), false, email);
    for (const phone of ['123456', '919191', '9876543211', '00000']) assert.equal(preset.isBlocked('phoneNumber', phone), false, phone);
  });
});
