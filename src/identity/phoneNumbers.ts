/**
 * The international (E.164) form of a phone number as a shopper typed it, for a default region:
 * `internationalForm('098765 43210', 'IN') === '+919876543210'`, or `null` when the text is not a
 * valid number. Pure; never throws. The caller (normalise.ts) keeps today's digits-only form for
 * what this returns `null` for.
 *
 * Metadata: libphonenumber-js's `max` set, because the rule is "convert only a VALID number, not a
 * merely possible one", and with the default `min` set `isValid()` checks a country's one general
 * pattern and the lengths, not the patterns of its number types (fixed line, mobile, toll free…).
 * Measured with `npx tsx bench/phoneParse.ts` (Node 20, libphonenumber-js 1.13.16, 2 vCPUs, two
 * runs): of 20 000 random 10-digit national numbers, min / max call valid IN 18 157 / 12 613,
 * DE 19 815 / 15 591, US 7 542 / 7 215, GB 5 662 / 5 650 — with `min`, some 5 500 numbers in IN
 * (4 200 in DE) that no numbering plan assigns would become an E.164 "identifier". The price: a
 * parse + validate takes 12 µs instead of 6 µs with region IN, 16 µs instead of 13.5 µs with US
 * (the mean over ten typical inputs); the metadata is 157 kB (39 kB gzipped) instead of 83 kB
 * (19 kB); the import costs about 350 KiB more heap (2 070 KiB against 1 721 KiB) and takes 50–60 ms
 * either way (the runs' noise is larger than the difference), once per process. The `mobile` set
 * is no option: it calls landlines invalid (201 of the 20 000 in DE). The table is in
 * docs/normal-forms.md.
 */
import parsePhoneNumber, { getCountries, type CountryCode } from 'libphonenumber-js/max';
import { LRUCache } from 'lru-cache';

/** An ISO 3166-1 alpha-2 region code, upper case, that the phone metadata knows (`'IN'`, `'US'`…). */
export type PhoneRegion = CountryCode;

/** Every region `internationalForm` accepts as a default (245 of them, including AC, TA and XK). */
export const SUPPORTED_PHONE_REGIONS: readonly PhoneRegion[] = Object.freeze([...getCountries()]);

const SUPPORTED = new Set<string>(SUPPORTED_PHONE_REGIONS);

/** Strict: `'IN'` is a region, `'in'`, `'001'` and `'__proto__'` are not (configuration upper-cases first). */
export function isPhoneRegion(code: string): code is PhoneRegion {
  return SUPPORTED.has(code);
}

/** Longer text than this is not a phone number (the library itself gives up at 250 characters). */
const MAX_TYPED_LENGTH = 250;
/**
 * A trailing extension — `ext. 12`, `ext 12`, `extn 12`, `extension 12`, `x12`, `#12`, `;ext=12` —
 * is dropped: E.164 has no extension, and the line, not the desk, is the identifier. Only these
 * markers: the library knows fuzzier ones (`~12`, `,,12`, `int 12`, `- 12#`) that are not taken.
 */
const EXTENSION = /\s*(?:;\s*ext=|(?:ext(?:ension|n)?|x)\s*[.:]?|#)\s*\d{1,20}#?$/i;
/** Today's separators and shape (normalise.ts): ASCII digits only, one optional leading `+`. */
const SEPARATORS = /[\s\-.()]/g;
const SHAPE = /^\+?\d+$/;
const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * The E.164 form of `typed` when it is a VALID number: either in the national format of `region`'s
 * numbering plan (with or without the trunk prefix, e.g. the leading 0 in IN, GB and DE; also with
 * the country code but no `+`, e.g. `919876543210`, when the library reads it so), or international
 * (a leading `+`, the region's own international prefix such as US `011`, or `00` in any region).
 * Countries that share a calling code share a plan: a Canadian number typed with region US is its
 * `+1…`, an Isle of Man one typed with GB is its `+44…`. `null` for everything else: too short or
 * long, unassigned ranges (`0000000000`, `1111111111` in US), short codes (`112`), letters other than
 * an extension marker, digits of other scripts, a `+` that is not leading, blank text.
 */
export function internationalForm(typed: string, region: PhoneRegion): string | null {
  // A JavaScript caller could pass anything: refuse rather than throw.
  if (typeof typed !== 'string' || typeof region !== 'string' || !isPhoneRegion(region)) return null;
  if (typed.length > MAX_TYPED_LENGTH) return null;
  const key = `${region} ${typed}`;
  const remembered = recentForms.get(key);
  if (remembered !== undefined) return remembered === NOT_VALID ? null : remembered;
  const form = readInternationalForm(typed, region);
  recentForms.set(key, form ?? NOT_VALID);
  return form;
}

/**
 * The forms of the phones typed most recently. Validation costs about 12 µs a phone, half of it
 * in libphonenumber-js building a RegExp from its metadata on every pattern it tries; a returning
 * shopper's phone is typed the same way again and again, and the answer is a pure function of the
 * text and the region. Bounded by count: at most ~10 MB (about 100 bytes an entry), the least
 * recently used forgotten first; lru-cache because it is the well-kept one (it ships with npm).
 */
const RECENT_FORMS = 100_000;
const NOT_VALID = '';
const recentForms = new LRUCache<string, string>({ max: RECENT_FORMS });

function readInternationalForm(typed: string, region: PhoneRegion): string | null {
  const compact = typed.trim().replace(EXTENSION, '').replace(SEPARATORS, '');
  if (!SHAPE.test(compact)) return null;
  const asTyped = validE164(compact, region);
  if (asTyped !== null) return asTyped;
  // `00` is the international prefix of most of the world, and shoppers use it in regions where it
  // is not (US dials 011): read it as `+` when the region's own reading gives no valid number.
  // Tried second, so a region whose prefix merely starts with 00 (AU 0011) keeps its own reading.
  return compact.startsWith('00') ? validE164(`+${compact.slice(2)}`, region) : null;
}

function validE164(compact: string, region: PhoneRegion): string | null {
  try {
    const parsed = parsePhoneNumber(compact, { defaultCountry: region, extract: false });
    if (parsed === undefined || !parsed.isValid()) return null;
    return E164.test(parsed.number) ? parsed.number : null;
  } catch {
    // parsePhoneNumberFromString returns undefined rather than throwing; this is belt and braces.
    return null;
  }
}
