/**
 * `block`, `block --preset` and `unblock`: changes to the block list from the command line. They
 * go through the governance use cases, as the admin API does, so each regroups the customers it
 * affects in one transaction under the governance lock. What they print names the rule (the
 * operator's own input) and customers by id. A refused value is never repeated: it may be
 * someone's email.
 */
import { checkRule, MAX_REASON_LENGTH, type BlockRule, type BlockRuleSpec } from '../identity/blocklist.js';
import type { PresetName } from '../identity/blocklistPreset.js';
import type { BlockOutcome, ChangeContext, GovernanceService, UnblockOutcome } from '../identity/governance.js';
import type { IdentifierField } from '../identity/normalise.js';
import { count, printable } from './table.js';

/** The command line's options, as commander gives them. */
export interface BlockOptions {
  email?: string;
  phone?: string;
  domain?: string;
  pattern?: string;
  field?: IdentifierField;
  reason?: string;
  preset?: PresetName;
}

export type BlockRequest = { kind: 'rule'; rule: BlockRuleSpec; reason: string } | { kind: 'preset'; preset: PresetName };

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const RULE_FLAGS = { email: '--email', phone: '--phone', domain: '--domain', pattern: '--pattern', preset: '--preset' } as const;

/**
 * What the options ask for, checked and normalised as the service stores rules (`checkRule`), or
 * a one-line message saying what is wrong with them, without the value.
 */
export function blockRequestFrom(options: BlockOptions): Parsed<BlockRequest> {
  const given = (Object.keys(RULE_FLAGS) as (keyof typeof RULE_FLAGS)[]).filter((name) => options[name] !== undefined);
  if (given.length !== 1) return fail('give exactly one of --email, --phone, --domain, --pattern or --preset.');
  if (options.field !== undefined && options.pattern === undefined) return fail('--field goes with --pattern only.');
  if (options.preset !== undefined) {
    if (options.reason !== undefined) return fail("a preset's rules carry their own reasons: drop --reason.");
    return { ok: true, value: { kind: 'preset', preset: options.preset } };
  }
  const flag = RULE_FLAGS[given[0] as keyof typeof RULE_FLAGS];
  let spec: BlockRuleSpec;
  if (options.email !== undefined) spec = { field: 'email', match: 'exact', value: options.email };
  else if (options.phone !== undefined) spec = { field: 'phoneNumber', match: 'exact', value: options.phone };
  else if (options.domain !== undefined) spec = { field: 'email', match: 'domain', value: options.domain };
  else if (options.field === undefined) return fail('--pattern needs --field email or --field phoneNumber.');
  else spec = { field: options.field, match: 'pattern', value: options.pattern as string };
  const reason = options.reason?.trim() ?? '';
  if (reason.length === 0 || reason.length > MAX_REASON_LENGTH)
    return fail(`--reason must say why, in 1 to ${MAX_REASON_LENGTH} characters.`);
  const checked = checkRule(spec);
  if (!checked.ok) return fail(`${flag}: ${checked.message}`);
  return { ok: true, value: { kind: 'rule', rule: checked.rule, reason } };
}

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}

type Out = Pick<NodeJS.WritableStream, 'write'>;

/** Adds the rule (or the preset's missing rules) and prints what it did; the exit status. */
export async function runBlock(governance: GovernanceService, request: BlockRequest, context: ChangeContext, out: Out): Promise<number> {
  if (request.kind === 'rule') {
    out.write(formatBlock(await governance.block(request.rule, request.reason, context)));
    return 0;
  }
  out.write(formatPreset(request.preset, await governance.applyPreset(request.preset, context)));
  return 0;
}

/** Removes rule `id` and prints the customers joined again; 1 when there is no such rule. */
export async function runUnblock(
  governance: GovernanceService,
  id: number,
  context: ChangeContext,
  { out, err }: { out: Out; err: Out },
): Promise<number> {
  const outcome = await governance.unblock(id, context);
  if (outcome === null) {
    err.write(`unblock: no block rule has id ${id} (\`identity-service blocked\` lists them)\n`);
    return 1;
  }
  out.write(formatUnblock(outcome));
  return 0;
}

/** `email exact test@test.com`: what a rule blocks. */
export function describeRule(rule: BlockRuleSpec): string {
  return `${rule.field} ${rule.match} ${printable(rule.value)}`;
}

export function formatBlock({ rule, created, splits }: BlockOutcome): string {
  if (!created) return `rule ${rule.id} already blocks ${describeRule(rule)}: nothing changed\n`;
  return `${ruleAdded(rule)}\n${formatSplits(splits)}`;
}

export function formatPreset(preset: PresetName, outcomes: readonly BlockOutcome[]): string {
  const lines = outcomes.map(({ rule, created }) =>
    created ? ruleAdded(rule) : `rule ${rule.id} was there already: ${describeRule(rule)}`,
  );
  const added = outcomes.filter((outcome) => outcome.created).length;
  lines.push(`preset ${preset}: ${count(added)} of ${count(outcomes.length)} rules added`);
  return `${lines.join('\n')}\n${formatSplits(outcomes.flatMap((outcome) => outcome.splits))}`;
}

export function formatUnblock({ rule, merges }: UnblockOutcome): string {
  const lines = [`rule ${rule.id} removed: ${describeRule(rule)} (${printable(rule.reason)})`];
  if (merges.length === 0) lines.push('no customers share it: none joined');
  else {
    lines.push(`${plural(merges.length, 'customer')} joined again (survivor <- the customers it absorbed):`);
    lines.push(...shown(merges.map((merge) => `  ${merge.survivorId} <- ${ids(merge.absorbedOwnerIds)}`)));
  }
  return `${lines.join('\n')}\n`;
}

function ruleAdded(rule: BlockRule): string {
  return `rule ${rule.id} added: ${describeRule(rule)} (${printable(rule.reason)})`;
}

export function formatSplits(splits: BlockOutcome['splits']): string {
  if (splits.length === 0) return 'no customer was held together by it: none split\n';
  const lines = [`${plural(splits.length, 'customer')} split (the customer -> the primaries of its parts):`];
  lines.push(...shown(splits.map((split) => `  ${split.ownerId} -> ${ids(split.into)}`)));
  return `${lines.join('\n')}\n`;
}

/** How many lines of splits or merges, and ids in one, are printed: a junk value can hold thousands. */
const SHOWN = 20;

function shown(lines: string[]): string[] {
  return lines.length <= SHOWN ? lines : [...lines.slice(0, SHOWN), `  … and ${count(lines.length - SHOWN)} more`];
}

function ids(values: readonly number[]): string {
  if (values.length <= SHOWN) return values.join(', ');
  return `${values.slice(0, SHOWN).join(', ')}, … (${count(values.length)} in all)`;
}

function plural(value: number, noun: string): string {
  return `${count(value)} ${noun}${value === 1 ? '' : 's'}`;
}
