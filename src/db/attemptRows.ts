/** The contact rows the write functions answer with: their columns may be null where a row stands for no contact. */
import type { LinkedContact } from '../identity/contact.js';

export type NullableContact = { [Key in keyof LinkedContact]: LinkedContact[Key] | null };

/** A row that stands for a contact, as one; a row without an id is a broken answer. */
export function linkedContact({ id, email, phoneNumber, linkedId, linkPrecedence }: NullableContact): LinkedContact {
  if (id === null || linkPrecedence === null) throw new Error('a write function returned a row without an id');
  return { id, email, phoneNumber, linkedId, linkPrecedence };
}
