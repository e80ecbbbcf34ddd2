/**
 * Turns the raw `email` / `phoneNumber` of a request into the canonical form that is matched and
 * stored, or says exactly what is wrong with it. Pure: the HTTP layer maps failures to 400s.
 * The one definition of the normal form: `check` and `repair` judge stored rows by the per-field
 * functions below, so a legacy `Foo@X.com` becomes what a request for it would look up.
 */
import type { IdentifierField, Identifiers } from './contact.js';
import { providerForm, type EmailCanonicalForm } from './emailForms.js';
import { MAX_EMAIL_LENGTH, MAX_PHONE_DIGITS, MIN_PHONE_DIGITS } from './identifierLimits.js';
import { internationalForm, type PhoneRegion } from './phoneNumbers.js';

export type InputErrorCode = 'INVALID_EMAIL' | 'INVALID_PHONE_NUMBER' | 'MISSING_IDENTIFIER';

export type Normalised = { ok: true; value: Identifiers } | { ok: false; code: InputErrorCode; message: string };

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;
/** C0 and C1 control characters, DEL, and NUL among them: PostgreSQL cannot store NUL at all. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
/** Half of a UTF-16 surrogate pair: the driver would store U+FFFD, a different string than the one decided on. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const PHONE_SEPARATORS = /[\s\-.()]/g;
const PHONE_SHAPE = /^\+?\d+$/;

/**
 * The raw identifiers of a request, already of the right types (the HTTP schemas check those, and
 * stored values are text): what is left to check are the rules only this module knows.
 */
export interface RawIdentifiers {
  email?: string | null;
  phoneNumber?: string | number | null;
}

/**
 * The rules beyond the seed's that a deployment may turn on (docs/normal-forms.md). They decide
 * which values are one identifier, so the table records the rules its values were written by.
 */
export interface NormalFormRules {
  /** `DEFAULT_PHONE_REGION`: valid numbers are stored in E.164; null: the seed's digits-only form. */
  phoneRegion: PhoneRegion | null;
  /** `EMAIL_CANONICAL_FORM`: `provider` applies the providers' documented equivalences. */
  emailCanonicalForm: EmailCanonicalForm;
}

/** The seed's rules: nothing beyond trimming, case, NFC and separators. */
export const PLAIN_RULES: NormalFormRules = { phoneRegion: null, emailCanonicalForm: 'none' };

export function sameRules(a: NormalFormRules, b: NormalFormRules): boolean {
  return a.phoneRegion === b.phoneRegion && a.emailCanonicalForm === b.emailCanonicalForm;
}

/** The rules as the settings that choose them, for messages and logs. */
export function describeRules(rules: NormalFormRules): string {
  return `DEFAULT_PHONE_REGION=${rules.phoneRegion ?? '(unset)'}, EMAIL_CANONICAL_FORM=${rules.emailCanonicalForm}`;
}

/**
 * The table's rules changed while this process ran (`repair --renormalize` finished): it would
 * look values up in a form the table no longer holds, so it answers nothing until restarted with
 * the table's settings.
 */
export class NormalFormChangedError extends Error {
  override name = 'NormalFormChangedError';
  constructor(
    readonly table: NormalFormRules,
    readonly process: NormalFormRules,
  ) {
    super(
      `the table's normal form is now ${describeRules(table)}; this process is set to ${describeRules(process)}: restart it with the table's settings`,
    );
  }
}

/** Normalisation by one set of rules: every request, stored value and block rule goes through one of these. */
export interface Normaliser {
  readonly rules: NormalFormRules;
  identifiers(raw: RawIdentifiers): Normalised;
  field(field: IdentifierField, value: string | null): NormalisedField;
}

export function createNormaliser(rules: NormalFormRules): Normaliser {
  const { phoneRegion, emailCanonicalForm } = rules;
  const email =
    emailCanonicalForm === 'provider'
      ? (value: string | null | undefined) => mapValue(normaliseEmail(value), providerForm)
      : normaliseEmail;
  const phoneNumber =
    phoneRegion === null
      ? normalisePhoneNumber
      : (value: string | number | null | undefined): NormalisedField => {
          // A valid number in E.164, whatever way it was written; anything else (test numbers,
          // short codes, the seed's `123456`) keeps the seed's form, so nothing is newly refused.
          const international = value === null || value === undefined ? null : internationalForm(String(value), phoneRegion);
          return international !== null ? { ok: true, value: international } : normalisePhoneNumber(value);
        };
  return {
    rules,
    identifiers: (raw) => combine(email(raw.email), phoneNumber(raw.phoneNumber)),
    field: (field, value) => (field === 'email' ? email(value) : phoneNumber(value)),
  };
}

/** The seed's rules, for code that is handed no others. */
export const PLAIN_NORMALISER = createNormaliser(PLAIN_RULES);

/** A request's identifiers by the seed's rules. */
export function normaliseIdentifiers(raw: RawIdentifiers): Normalised {
  return combine(normaliseEmail(raw.email), normalisePhoneNumber(raw.phoneNumber));
}

function combine(email: NormalisedField, phoneNumber: NormalisedField): Normalised {
  if (!email.ok) return email;
  if (!phoneNumber.ok) return phoneNumber;
  if (email.value === null && phoneNumber.value === null) {
    return fail('MISSING_IDENTIFIER', 'Provide an email, a phoneNumber, or both.');
  }
  return { ok: true, value: { email: email.value, phoneNumber: phoneNumber.value } };
}

function mapValue(result: NormalisedField, change: (value: string) => string): NormalisedField {
  return result.ok && result.value !== null ? { ok: true, value: change(result.value) } : result;
}

export type NormalisationFailure = Extract<Normalised, { ok: false }>;

/** One identifier's normal form (`null`: absent — missing, null, or blank), or why it has none. */
export type NormalisedField = { ok: true; value: string | null } | NormalisationFailure;

export type { IdentifierField } from './contact.js';

/** The normal form of one identifier by the seed's rules. */
export function normaliseField(field: IdentifierField, value: string | null): NormalisedField {
  return PLAIN_NORMALISER.field(field, value);
}

export function normaliseEmail(value: string | null | undefined): NormalisedField {
  if (value === undefined || value === null) return absent;
  if (LONE_SURROGATE.test(value)) return fail('INVALID_EMAIL', 'email must be valid Unicode text.');
  // NFC, so that `josé` typed precomposed or as `jose` + U+0301 is one identifier. Blanks around
  // it (tabs and newlines too) are trimmed; a control character inside it is refused.
  const email = value.normalize('NFC').trim().toLowerCase();
  if (email === '') return absent;
  if (CONTROL_CHARACTERS.test(email)) return fail('INVALID_EMAIL', 'email must not contain control characters.');
  if (email.length > MAX_EMAIL_LENGTH) {
    return fail('INVALID_EMAIL', `email must be at most ${MAX_EMAIL_LENGTH} characters.`);
  }
  if (!EMAIL_SHAPE.test(email)) return fail('INVALID_EMAIL', 'email must look like name@domain.');
  return { ok: true, value: email };
}

/** A JSON number is its decimal string; the schema lets only non-negative safe integers through. */
export function normalisePhoneNumber(value: string | number | null | undefined): NormalisedField {
  if (value === undefined || value === null) return absent;
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (text === '') return absent;
  const phone = text.replace(PHONE_SEPARATORS, '');
  if (!PHONE_SHAPE.test(phone)) {
    return fail('INVALID_PHONE_NUMBER', 'phoneNumber may hold only digits, an optional leading +, spaces, dashes, dots and parentheses.');
  }
  const digits = phone.startsWith('+') ? phone.length - 1 : phone.length;
  if (digits < MIN_PHONE_DIGITS || digits > MAX_PHONE_DIGITS) {
    return fail('INVALID_PHONE_NUMBER', `phoneNumber must have ${MIN_PHONE_DIGITS} to ${MAX_PHONE_DIGITS} digits.`);
  }
  return { ok: true, value: phone };
}

const absent: NormalisedField = { ok: true, value: null };

function fail(code: InputErrorCode, message: string): NormalisationFailure {
  return { ok: false, code, message };
}
