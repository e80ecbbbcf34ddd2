/** Block lists for the pure functions' tests: rules as an operator would write them, checked and normalised as the service stores them. */
import { Blocklist, checkRule, type BlockRuleSpec } from '../../src/identity/blocklist.js';

export function blocklistOf(...specs: BlockRuleSpec[]): Blocklist {
  return new Blocklist(
    1,
    specs.map((spec, index) => {
      const checked = checkRule(spec);
      if (!checked.ok) throw new Error(`not a rule: ${checked.message}`);
      return { ...checked.rule, id: index + 1, reason: 'test', addedBy: 'test', createdAt: new Date(0) };
    }),
  );
}
