/**
 * The canonical forms an email can be matched in. `none` is today's normal form (normalise.ts: NFC,
 * trimmed, lower case, shape-checked); `provider` is that, with the equivalences the mailbox
 * providers themselves document applied (`providerForm`), so that `first.last+shop@gmail.com` and
 * `firstlast@googlemail.com` are one identifier. Pure; never throws.
 */
import { domainToASCII, domainToUnicode } from 'node:url';

export const EMAIL_CANONICAL_FORMS = ['none', 'provider'] as const;
export type EmailCanonicalForm = (typeof EMAIL_CANONICAL_FORMS)[number];

export interface ProviderRule {
  /** Whose documentation the rule is read from. */
  provider: string;
  /** Every `.` in the local part is ignored: `f.i.r.s.t` is `first`. */
  ignoresDots: boolean;
  /** Everything from the first `+` of the local part is a tag (subaddressing): `first+shop` is `first`. */
  dropsPlusTag: boolean;
  /** The domain all of the provider's domains are written as, when they are one mailbox (googlemail.com → gmail.com). */
  domain?: string;
  /** The provider's documentation the rule rests on, in one line. */
  why: string;
}

const GMAIL: ProviderRule = {
  provider: 'Google Gmail',
  ignoresDots: true,
  dropsPlusTag: true,
  domain: 'gmail.com',
  why: "Gmail Help, \"Dots don't matter in Gmail addresses\" (gmail.com accounts; work and school addresses keep their dots), and Gmail's documented username+anything addresses; googlemail.com is the same accounts' other domain.",
};
const MICROSOFT: ProviderRule = {
  provider: 'Microsoft Outlook.com',
  ignoresDots: false,
  dropsPlusTag: true,
  why: 'Microsoft Learn, "Plus addressing in Exchange Online" (local-part+tag@domain reaches local-part@domain); Outlook.com, Hotmail, Live and MSN mailboxes have taken name+tag since 2013.',
};
const PROTON: ProviderRule = {
  provider: 'Proton Mail',
  ignoresDots: false,
  dropsPlusTag: true,
  why: 'Proton Support, "Email addresses and aliases": +aliases, unlimited extra addresses made by adding + and any text after the username, on every Proton domain.',
};
const FASTMAIL: ProviderRule = {
  provider: 'Fastmail',
  ignoresDots: false,
  dropsPlusTag: true,
  why: 'Fastmail Help, "Plus addressing and subdomain addressing": mail to username+anything@domain is delivered to username@domain.',
};

/**
 * The providers whose equivalences `providerForm` applies, by domain (the domain's one form: Unicode,
 * NFC, lower case). Only what each provider documents for its own domains: Google Workspace and
 * other custom domains are not here (their dots matter, their + may be a real character). Left out:
 * Yahoo (its disposable addresses are `base-keyword`, and the base cannot be told from the address);
 * Apple iCloud (icloud.com, me.com, mac.com deliver name+tag, but Apple's iCloud documentation
 * describes aliases and Hide My Email, not plus addressing).
 */
export const PROVIDERS: Readonly<Record<string, ProviderRule>> = Object.freeze({
  'gmail.com': GMAIL,
  'googlemail.com': GMAIL,
  'outlook.com': MICROSOFT,
  'hotmail.com': MICROSOFT,
  'live.com': MICROSOFT,
  'msn.com': MICROSOFT,
  'proton.me': PROTON,
  'protonmail.com': PROTON,
  'protonmail.ch': PROTON,
  'pm.me': PROTON,
  'fastmail.com': FASTMAIL,
  'fastmail.fm': FASTMAIL,
});

/**
 * The `provider` form of an email already in today's normal form: its domain in one form (see
 * `domainForm`), then, for a domain in PROVIDERS, the provider's documented equivalences —
 * `first.last+shop@googlemail.com` → `firstlast@gmail.com`, `name+tag@outlook.com` → `name@outlook.com`.
 * An address the rules would leave with an empty local part (`+tag@gmail.com`, `...@gmail.com`)
 * keeps its local part and domain as they were. Anything that is not `local@domain` is returned as
 * it is. Idempotent: `providerForm(providerForm(x)) === providerForm(x)`.
 */
export function providerForm(email: string): string {
  if (typeof email !== 'string') return email;
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@') || at === email.length - 1) return email;
  const local = email.slice(0, at);
  const domain = domainForm(email.slice(at + 1));
  const rule = Object.hasOwn(PROVIDERS, domain) ? PROVIDERS[domain] : undefined;
  if (rule === undefined) return `${local}@${domain}`;
  let canonical = local;
  if (rule.dropsPlusTag) {
    const plus = canonical.indexOf('+');
    if (plus >= 0) canonical = canonical.slice(0, plus);
  }
  if (rule.ignoresDots) canonical = canonical.replaceAll('.', '');
  if (canonical === '') return `${local}@${domain}`;
  return `${canonical}@${rule.domain ?? domain}`;
}

/** What the WHATWG host parser would read differently from a mail domain: a path, query, fragment, port or %-escape. */
const URL_SYNTAX = /[/\\?#%:@\s]/;
/** A last label the host parser would take for an IPv4 address (`127.1`, `0x7f.1`) and rewrite. */
const ENDS_IN_A_NUMBER = /(?:^|\.)(?:\d+|0x[\da-f]*)\.?$/i;

/**
 * A domain's one form, so that `xn--bcher-kva.example`, `BÜCHER.example` and `bücher.example` are one:
 * `domainToUnicode` (UTS #46), then NFC and lower case. The domain is kept as it was when the
 * conversion fails (returns ''), when the URL host parser would read it as something else than a
 * mail domain (`x/y.com` would become `x`, `a%2eb.com` `a.b.com`, `127.1` `127.0.0.1`), when the
 * result does not name the same ASCII host (`xn--invalid-.com` decodes to `invalid.com`), or when
 * the result is not its own form — so that converting twice is converting once.
 */
export function domainForm(domain: string): string {
  if (URL_SYNTAX.test(domain)) return domain;
  const converted = toUnicode(domain);
  if (converted === '' || converted === domain) return domain;
  if (URL_SYNTAX.test(converted) || ENDS_IN_A_NUMBER.test(converted)) return domain;
  const ascii = toASCII(domain);
  if (ascii === '' || toASCII(converted) !== ascii) return domain;
  return toUnicode(converted) === converted ? converted : domain;
}

function toUnicode(domain: string): string {
  try {
    return domainToUnicode(domain).normalize('NFC').toLowerCase();
  } catch {
    return '';
  }
}

function toASCII(domain: string): string {
  try {
    return domainToASCII(domain);
  } catch {
    return '';
  }
}
