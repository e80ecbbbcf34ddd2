/**
 * Blocked identifiers: values that match nothing and are never stored (a shop's placeholder
 * `test@test.com`, a store's own phone). A rule blocks one field's values: `exact` (one value in
 * normal form), `domain` (every email at a domain) or `pattern` (a regular expression).
 *
 * Patterns are matched here, on every request, and by PostgreSQL in `check` (the SQL function
 * `identity_is_blocked`, migrations/0004). So a pattern must mean the same to both engines and
 * must not let a hostile value make matching slow: it is limited to a subset of the syntax that
 * JavaScript and PostgreSQL's advanced regular expressions read alike (no lookaround, no
 * backreferences, no character-class escapes but `\d`), at most MAX_PATTERN_LENGTH characters, and
 * accepted only if V8's linear-time engine can run it (the `l` flag). Matching runs V8's usual
 * backtracking engine, four times faster on the patterns of the preset, and a match that
 * backtracks too much (V8's bound, 50,000 backtracks) is run again by the linear engine: so no value
 * makes matching slow (a test feeds `^(a+)+$` its worst case).
 */
import { setFlagsFromString } from 'node:v8';
import type { Identifiers } from './contact.js';
import { PLAIN_NORMALISER, type IdentifierField, type Normaliser } from './normalise.js';
import { Separations } from './separations.js';

// V8's linear-time regular expression engine: RegExps with the `l` flag use it, and any RegExp
// that backtracks too much falls back to it.
setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

export type BlockMatch = 'exact' | 'domain' | 'pattern';

export interface BlockRuleSpec {
  field: IdentifierField;
  match: BlockMatch;
  value: string;
}

export interface BlockRule extends BlockRuleSpec {
  id: number;
  reason: string;
  addedBy: string;
  createdAt: Date;
}

/** The reason a rule added by the customer-size cap carries. */
export const OVER_MERGE_REASON = 'over-merge';

export const MAX_PATTERN_LENGTH = 100;
export const MAX_REASON_LENGTH = 500;

/** Literals and the operators both engines read alike; `\` only before these escapes. */
const PATTERN_CHARACTERS = /^[A-Za-z0-9@._%+\-^$*?|()[\]{},\\/!#&'=~]*$/;
const PATTERN_ESCAPES = /\\(?![d.+\-*?()[\]{}^$|\\/])/;
const DOMAIN_SHAPE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

export type RuleCheck = { ok: true; rule: BlockRuleSpec } | { ok: false; message: string };

/**
 * A rule as it is stored: exact values in normal form (`Test@Test.com` blocks what requests
 * normalise to `test@test.com`), domains lower-cased, patterns as given if both engines can run
 * them. Messages never repeat the value (it may be someone's email).
 */
export function checkRule(spec: BlockRuleSpec, normaliser: Normaliser = PLAIN_NORMALISER): RuleCheck {
  if (spec.match === 'exact') {
    const normalised = normaliser.field(spec.field, spec.value);
    if (!normalised.ok || normalised.value === null) return { ok: false, message: `value must be a valid ${fieldName(spec.field)}.` };
    return { ok: true, rule: { ...spec, value: normalised.value } };
  }
  if (spec.match === 'domain') {
    const domain = spec.value.trim().toLowerCase().replace(/^@/, '');
    if (spec.field !== 'email') return { ok: false, message: 'a domain rule blocks emails: field must be email.' };
    if (domain.length > 253 || !DOMAIN_SHAPE.test(domain)) return { ok: false, message: 'value must be a domain such as example.com.' };
    // Stored as the table's rules write the domains of emails (`provider`: googlemail.com is
    // gmail.com, a punycode domain its Unicode form), so that it matches them.
    const canonical = normaliser.field('email', `x@${domain}`);
    const value = canonical.ok && canonical.value !== null ? canonical.value.slice(canonical.value.lastIndexOf('@') + 1) : domain;
    return { ok: true, rule: { ...spec, value } };
  }
  if (spec.value.length === 0 || spec.value.length > MAX_PATTERN_LENGTH) {
    return { ok: false, message: `a pattern must have 1 to ${MAX_PATTERN_LENGTH} characters.` };
  }
  if (!PATTERN_CHARACTERS.test(spec.value) || PATTERN_ESCAPES.test(spec.value) || spec.value.includes('(?')) {
    return {
      ok: false,
      message:
        'a pattern may use letters, digits, @ . _ % + - and the operators ^ $ . * + ? | ( ) [ ] {m,n}, escaping with \\ only \\d and operator characters.',
    };
  }
  try {
    new RegExp(spec.value, LINEAR);
  } catch {
    return { ok: false, message: 'the pattern is not a regular expression that can be matched in linear time.' };
  }
  return { ok: true, rule: spec };
}

/** The linear-time engine's flag (V8's own; the standard library and lint do not know it). */
const LINEAR = 'l';

/** A checked pattern (`checkRule`): the linear engine can run it, so the fallback is always there. */
function compilePattern(pattern: string): RegExp {
  return new RegExp(pattern);
}

const fieldName = (field: IdentifierField) => (field === 'email' ? 'email' : 'phone number');

/** The rules in force, compiled for matching, and the version of the list they came from. */
export class Blocklist {
  private readonly exact: Record<IdentifierField, Set<string>> = { email: new Set(), phoneNumber: new Set() };
  private readonly domains = new Set<string>();
  private readonly patterns: Record<IdentifierField, RegExp[]> = { email: [], phoneNumber: [] };

  constructor(
    readonly version: number,
    readonly rules: readonly BlockRule[],
    /** The separations of the same version (unmerge): loaded and cached with the rules. */
    readonly separations: Separations = Separations.none,
  ) {
    for (const rule of rules) {
      if (rule.match === 'exact') this.exact[rule.field].add(rule.value);
      else if (rule.match === 'domain') this.domains.add(rule.value);
      else this.patterns[rule.field].push(compilePattern(rule.value));
    }
  }

  /** An empty list: governance that blocks nothing. */
  static empty(version = 0): Blocklist {
    return new Blocklist(version, []);
  }

  get isEmpty(): boolean {
    return this.rules.length === 0;
  }

  /** `value` in normal form, as stored or as a request normalised it. */
  isBlocked(field: IdentifierField, value: string | null): boolean {
    if (value === null) return false;
    if (this.exact[field].has(value)) return true;
    if (field === 'email' && this.domains.has(value.slice(value.lastIndexOf('@') + 1))) return true;
    return this.patterns[field].some((pattern) => pattern.test(value));
  }
}

export interface ScreenedRequest {
  /** The identifiers that may link; null when every identifier of the request is blocked. */
  usable: Identifiers | null;
  /** Fields the request carried whose value is blocked, email first. */
  ignored: readonly IdentifierField[];
}

const NOTHING_IGNORED: readonly IdentifierField[] = Object.freeze([]);

/** Drops blocked values from a request: they are treated as absent. */
export function screen(request: Identifiers, blocklist: Blocklist): ScreenedRequest {
  if (blocklist.isEmpty) return { usable: request, ignored: NOTHING_IGNORED };
  const emailBlocked = blocklist.isBlocked('email', request.email);
  const phoneBlocked = blocklist.isBlocked('phoneNumber', request.phoneNumber);
  // Nearly every request: nothing to drop, nothing allocated.
  if (!emailBlocked && !phoneBlocked) return { usable: request, ignored: NOTHING_IGNORED };
  const ignored: IdentifierField[] = [];
  if (emailBlocked) ignored.push('email');
  if (phoneBlocked) ignored.push('phoneNumber');
  const usable = {
    email: ignored.includes('email') ? null : request.email,
    phoneNumber: ignored.includes('phoneNumber') ? null : request.phoneNumber,
  };
  return { usable: usable.email === null && usable.phoneNumber === null ? null : usable, ignored };
}
