/**
 * The read API's view of a customer: the `/identify` answer, every live row, and for each
 * secondary why it belongs — the identifiers it shares with older rows, or, when it shares none,
 * that it was merged in (it was the primary of a customer that a request joined to this one, and
 * the link is the only record of that). Pure: rows in, view out.
 */
import type { Contact, Customer } from './contact.js';
import { toCustomer } from './reconcile.js';

export type IdentifierField = 'email' | 'phoneNumber';

const IDENTIFIER_FIELDS: readonly IdentifierField[] = ['email', 'phoneNumber'];

/** An identifier a secondary shares with older rows, and the oldest row that has it. */
export interface SharedIdentifier {
  field: IdentifierField;
  value: string;
  contactId: number;
}

export interface ContactLink {
  contactId: number;
  linkedId: number;
  /** `shared`: it shares `shared` with older rows. `merged`: it shares nothing with them. */
  reason: 'shared' | 'merged';
  shared: SharedIdentifier[];
}

export interface CustomerDetails extends Customer {
  /** Every live row of the customer, in row order (createdAt, id). */
  contacts: Contact[];
  /** One per secondary, in row order. */
  links: ContactLink[];
}

/** `rows`: one customer's live rows in row order, as `identity_customer_rows` returns them. */
export function describeCustomer(rows: readonly Contact[]): CustomerDetails {
  // The oldest row with each value; a row's own value does not count until it has been seen.
  const firstWith = new Map<string, number>();
  const links: ContactLink[] = [];
  for (const row of rows) {
    const shared = IDENTIFIER_FIELDS.flatMap((field): SharedIdentifier[] => {
      const value = row[field];
      if (value === null) return [];
      const contactId = firstWith.get(identifierKey(field, value));
      return contactId === undefined ? [] : [{ field, value, contactId }];
    });
    if (row.linkedId !== null)
      links.push({ contactId: row.id, linkedId: row.linkedId, reason: shared.length > 0 ? 'shared' : 'merged', shared });
    for (const field of IDENTIFIER_FIELDS) {
      const value = row[field];
      if (value !== null && !firstWith.has(identifierKey(field, value))) firstWith.set(identifierKey(field, value), row.id);
    }
  }
  return { ...toCustomer(rows), contacts: [...rows], links };
}

function identifierKey(field: IdentifierField, value: string): string {
  return `${field}:${value}`;
}

/** The most contacts one answer of the read API carries; a bigger customer comes in pages. */
export const MAX_CONTACTS_PAGE = 1000;

export interface ContactsPage {
  offset: number;
  limit: number;
  /** Every live contact of the customer. */
  total: number;
  /** Where the next page starts, or null on the last one. */
  nextOffset: number | null;
}

/**
 * The customer with only `limit` of its contacts from `offset` (row order), and the links of
 * those contacts. The summary (emails, phones, secondary ids) stays whole, as /identify answers it.
 */
export function pageOfContacts(details: CustomerDetails, offset: number, limit: number): CustomerDetails & { page: ContactsPage } {
  const contacts = details.contacts.slice(offset, offset + limit);
  const onPage = new Set(contacts.map((contact) => contact.id));
  const total = details.contacts.length;
  return {
    ...details,
    contacts,
    links: details.links.filter((link) => onPage.has(link.contactId)),
    page: { offset, limit, total, nextOffset: offset + limit < total ? offset + limit : null },
  };
}
