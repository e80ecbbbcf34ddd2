/**
 * A stored email or phone judged by the rules requests are normalised by (`normalise.ts`, the
 * one definition): in normal form; fixable, its normal form being different (`Foo@X.com`,
 * `(555) 010-9999`, a blank that means absent); or invalid, with no normal form at all (an email
 * without `@`, a phone with letters). `check` (N1, N2) and `repair` judge rows with this alone.
 */
import { PLAIN_NORMALISER, type IdentifierField, type InputErrorCode, type Normaliser } from './normalise.js';

export const IDENTIFIER_FIELDS: readonly IdentifierField[] = ['email', 'phoneNumber'];

export type StoredVerdict =
  | { kind: 'normal' }
  /** `value` is the normal form: what a request would look up (null: absent). */
  | { kind: 'fixable'; value: string | null }
  | { kind: 'invalid'; code: InputErrorCode };

const NORMAL: StoredVerdict = { kind: 'normal' };

export function judgeStoredValue(field: IdentifierField, stored: string | null, normaliser: Normaliser = PLAIN_NORMALISER): StoredVerdict {
  if (stored === null) return NORMAL;
  const normalised = normaliser.field(field, stored);
  if (!normalised.ok) return { kind: 'invalid', code: normalised.code };
  return normalised.value === stored ? NORMAL : { kind: 'fixable', value: normalised.value };
}
