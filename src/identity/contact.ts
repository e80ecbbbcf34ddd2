/** One live row of the `Contact` table, as the reconciliation logic sees it. */
export interface Contact {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  linkedId: number | null;
  linkPrecedence: 'primary' | 'secondary';
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A row reduced to what linking needs. The decision and the answer use nothing else, so the hot
 * read fetches only these columns (no timestamps to transfer and parse).
 */
export type LinkedContact = Pick<Contact, 'id' | 'email' | 'phoneNumber' | 'linkedId' | 'linkPrecedence'>;

/** A request after normalisation: at least one identifier is present. */
export interface Identifiers {
  email: string | null;
  phoneNumber: string | null;
}

/** The whole customer, as `/identify` answers it. */
/** The two identifier fields of a request and a row. */
export type IdentifierField = 'email' | 'phoneNumber';

export interface Customer {
  primaryContactId: number;
  emails: string[];
  phoneNumbers: string[];
  secondaryContactIds: number[];
}

/** The id of the customer (primary contact) a row belongs to. */
export function primaryIdOf(row: Pick<Contact, 'id' | 'linkedId'>): number {
  return row.linkedId ?? row.id;
}
