/**
 * identity_apply_plan's answer, read: its rows, and what they say about the attempt. The batch of
 * plans (identity_apply_plans) answers each request with the same rows.
 */
import type { LinkedContact } from '../identity/contact.js';
import type { PlanAttempt } from '../identity/store.js';

type NullableContact = { [Key in keyof LinkedContact]: LinkedContact[Key] | null };

export type AttemptRow = { applied: boolean; blocklistVersion: string | null } & NullableContact;

/**
 * Applied (with the inserted row, if any); refused without rows: a lock out of order (no version)
 * or a changed block list (the version); otherwise stale, with the customers as they are now.
 */
export function attemptOf(rows: readonly AttemptRow[]): PlanAttempt {
  const [first] = rows;
  if (first?.applied) return { kind: 'applied', inserted: first.id === null ? null : linkedContact(first) };
  if (first !== undefined && first.id === null)
    return first.blocklistVersion === null ? { kind: 'outOfOrder' } : { kind: 'blocklistChanged' };
  return { kind: 'stale', rows: rows.map(linkedContact) };
}

/** A row that stands for a contact, as one. */
export function linkedContact({ id, email, phoneNumber, linkedId, linkPrecedence }: NullableContact): LinkedContact {
  if (id === null || linkPrecedence === null) throw new Error('a row without an id where a contact was expected');
  return { id, email, phoneNumber, linkedId, linkPrecedence };
}
