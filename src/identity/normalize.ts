/**
 * Turns the raw `email` / `phoneNumber` of a request into the canonical form that is matched and
 * stored, or says exactly what is wrong with it. Pure: the HTTP layer maps failures to 400s.
 */
import type { Identifiers } from './contact.js';

export type InputErrorCode = 'INVALID_EMAIL' | 'INVALID_PHONE_NUMBER' | 'MISSING_IDENTIFIER';

export type Normalised =
  | { ok: true; value: Identifiers }
  | { ok: false; code: InputErrorCode; message: string };

export const MAX_EMAIL_LENGTH = 254;
export const MIN_PHONE_DIGITS = 3;
export const MAX_PHONE_DIGITS = 20;

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;
const PHONE_SEPARATORS = /[\s\-.()]/g;
const PHONE_SHAPE = /^\+?\d+$/;

export function normaliseIdentifiers(raw: { email?: unknown; phoneNumber?: unknown }): Normalised {
  const email = normaliseEmail(raw.email);
  if (typeof email === 'object' && email !== null) return email;
  const phoneNumber = normalisePhoneNumber(raw.phoneNumber);
  if (typeof phoneNumber === 'object' && phoneNumber !== null) return phoneNumber;
  if (email === null && phoneNumber === null) {
    return fail('MISSING_IDENTIFIER', 'Provide an email, a phoneNumber, or both.');
  }
  return { ok: true, value: { email, phoneNumber } };
}

type Failure = Extract<Normalised, { ok: false }>;

function normaliseEmail(value: unknown): string | null | Failure {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return fail('INVALID_EMAIL', 'email must be a string or null.');
  const email = value.trim().toLowerCase();
  if (email === '') return null;
  if (email.length > MAX_EMAIL_LENGTH) {
    return fail('INVALID_EMAIL', `email must be at most ${MAX_EMAIL_LENGTH} characters.`);
  }
  if (!EMAIL_SHAPE.test(email)) return fail('INVALID_EMAIL', 'email must look like name@domain.');
  return email;
}

function normalisePhoneNumber(value: unknown): string | null | Failure {
  if (value === undefined || value === null) return null;
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      return fail('INVALID_PHONE_NUMBER', 'A numeric phoneNumber must be a non-negative integer.');
    }
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return fail('INVALID_PHONE_NUMBER', 'phoneNumber must be a string, an integer or null.');
  }
  if (text === '') return null;
  const phone = text.replace(PHONE_SEPARATORS, '');
  if (!PHONE_SHAPE.test(phone)) {
    return fail('INVALID_PHONE_NUMBER', 'phoneNumber may hold only digits, an optional leading +, spaces, dashes, dots and parentheses.');
  }
  const digits = phone.startsWith('+') ? phone.length - 1 : phone.length;
  if (digits < MIN_PHONE_DIGITS || digits > MAX_PHONE_DIGITS) {
    return fail('INVALID_PHONE_NUMBER', `phoneNumber must have ${MIN_PHONE_DIGITS} to ${MAX_PHONE_DIGITS} digits.`);
  }
  return phone;
}

function fail(code: InputErrorCode, message: string): Failure {
  return { ok: false, code, message };
}
