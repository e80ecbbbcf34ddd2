/**
 * The block commands' pure parts: which option combinations make a rule (checked and normalised
 * as the service stores rules) and what each refusal says (never the value); what the output
 * shows of a block that split thousands of customers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockRequestFrom, formatBlock } from '../../src/maintenance/blockCommand.js';
import { formatTable } from '../../src/maintenance/table.js';

describe('block options', () => {
  it('make one normalised rule with its reason, or a preset', () => {
    assert.deepEqual(blockRequestFrom({ phone: '+1 (555) 010-9999', reason: ' a shop phone ' }), {
      ok: true,
      value: { kind: 'rule', rule: { field: 'phoneNumber', match: 'exact', value: '+15550109999' }, reason: 'a shop phone' },
    });
    assert.deepEqual(blockRequestFrom({ domain: '@Example.COM', reason: 'r' }), {
      ok: true,
      value: { kind: 'rule', rule: { field: 'email', match: 'domain', value: 'example.com' }, reason: 'r' },
    });
    assert.deepEqual(blockRequestFrom({ pattern: '^0+$', field: 'phoneNumber', reason: 'r' }), {
      ok: true,
      value: { kind: 'rule', rule: { field: 'phoneNumber', match: 'pattern', value: '^0+$' }, reason: 'r' },
    });
    assert.deepEqual(blockRequestFrom({ preset: 'recommended' }), { ok: true, value: { kind: 'preset', preset: 'recommended' } });
  });

  it('are refused with a message that names the flag, never the value', () => {
    for (const [options, message] of [
      [{}, 'give exactly one of --email, --phone, --domain, --pattern or --preset.'],
      [{ email: 'a@x.io', domain: 'x.io', reason: 'r' }, 'give exactly one of --email, --phone, --domain, --pattern or --preset.'],
      [{ email: 'a@x.io', field: 'email', reason: 'r' }, '--field goes with --pattern only.'],
      [{ pattern: '^a' }, '--pattern needs --field email or --field phoneNumber.'],
      [{ email: 'a@x.io', reason: '   ' }, '--reason must say why, in 1 to 500 characters.'],
      [{ email: 'a@x.io', reason: 'x'.repeat(501) }, '--reason must say why, in 1 to 500 characters.'],
      [{ preset: 'recommended', reason: 'r' }, "a preset's rules carry their own reasons: drop --reason."],
      [{ email: 'secret', reason: 'r' }, '--email: value must be a valid email.'],
      [{ domain: 'secret_', reason: 'r' }, '--domain: value must be a domain such as example.com.'],
    ] as const) {
      assert.deepEqual(blockRequestFrom(options), { ok: false, message }, JSON.stringify(options));
    }
  });
});

describe('block output', () => {
  it('shows the first 20 customers split and the first 20 parts of each, and how many in all', () => {
    const rule = {
      id: 7,
      field: 'email',
      match: 'exact',
      value: 'test@test.com',
      reason: 'junk',
      addedBy: 'cli:ops',
      createdAt: new Date(0),
    } as const;
    const splits = Array.from({ length: 25 }, (_, i) => ({
      ownerId: i + 1,
      into: i === 0 ? Array.from({ length: 1_819 }, (_, j) => j + 1) : [i + 1, 100 + i],
    }));
    const lines = formatBlock({ rule, created: true, splits }).split('\n');
    assert.equal(lines[0], 'rule 7 added: email exact test@test.com (junk)');
    assert.equal(lines[1], '25 customers split (the customer -> the primaries of its parts):');
    assert.equal(lines[2], `  1 -> ${Array.from({ length: 20 }, (_, j) => j + 1).join(', ')}, … (1,819 in all)`);
    assert.equal(lines[22], '  … and 5 more');
  });

  it('tables pad columns, align numbers right, and escape control characters so a row stays one line', () => {
    assert.deepEqual(
      formatTable(
        [{ header: 'value' }, { header: 'rows', align: 'right' }],
        [
          ['a\nb', '1,000'],
          ['c', '2'],
        ],
      ),
      ['value      rows', 'a\\u000ab  1,000', 'c             2'],
    );
  });
});
