/**
 * The recommended preset: values that shop forms collect when a shopper (or a tester) has no
 * real one to give, and that would otherwise glue strangers into one customer. Opt-in
 * (BLOCKLIST_PRESET=recommended or `identity-service block --preset recommended`); documented in
 * docs/governance.md, which lists the same rules.
 */
import type { BlockRuleSpec } from './blocklist.js';

export interface PresetRule extends BlockRuleSpec {
  reason: string;
}

const placeholderEmails = [
  'test@test.com',
  'test@example.com',
  'a@a.com',
  'abc@abc.com',
  'email@email.com',
  'no@email.com',
  'noemail@noemail.com',
  'none@none.com',
  'na@na.com',
  'noreply@noreply.com',
];

/** RFC 2606 / RFC 6761 reserve these for examples and tests: no shopper has a mailbox there. */
const reservedDomains = ['example.com', 'example.net', 'example.org', 'test.com'];

export const RECOMMENDED_PRESET: readonly PresetRule[] = [
  ...placeholderEmails.map((value) => ({ field: 'email' as const, match: 'exact' as const, value, reason: 'placeholder email' })),
  ...reservedDomains.map((value) => ({ field: 'email' as const, match: 'domain' as const, value, reason: 'reserved example domain' })),
  {
    field: 'email',
    match: 'pattern',
    value: '@([a-z0-9-]+\\.)*(test|example|invalid|localhost)$',
    reason: 'reserved top-level domain (RFC 2606)',
  },
  {
    field: 'phoneNumber',
    match: 'pattern',
    value: '^\\+?(0{6,}|1{6,}|2{6,}|3{6,}|4{6,}|5{6,}|6{6,}|7{6,}|8{6,}|9{6,})$',
    reason: 'one digit repeated',
  },
  {
    field: 'phoneNumber',
    match: 'pattern',
    value: '^\\+?(0?123456789|1234567890|9876543210?|0987654321)$',
    reason: 'sequential digits',
  },
];

export const PRESETS = { recommended: RECOMMENDED_PRESET } as const;

export type PresetName = keyof typeof PRESETS;
