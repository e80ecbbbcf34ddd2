/** The details panel: one contact's full row, and in words why it belongs to the customer. */
import { h, timestamp } from './dom.js';
import { NONE } from './format.js';
import type { Contact, ContactLink } from './types.js';

const FIELD_NAMES = { email: 'email', phoneNumber: 'phone number' } as const;

export function showContactDetails(list: HTMLDListElement, contact: Contact, link: ContactLink | undefined): void {
  const entries: [string, Node | string][] = [
    ['Contact id', `#${contact.id}`],
    ['Email', contact.email ?? NONE],
    ['Phone number', contact.phoneNumber ?? NONE],
    ['Precedence', contact.linkPrecedence],
    ['Linked to', contact.linkedId === null ? NONE : `#${contact.linkedId}`],
    ['Created', timestamp(contact.createdAt)],
    ['Updated', timestamp(contact.updatedAt)],
    ['Why it belongs', whyItBelongs(contact, link)],
  ];
  list.replaceChildren(...entries.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

function whyItBelongs(contact: Contact, link: ContactLink | undefined): string {
  if (contact.linkPrecedence === 'primary') return 'It is the primary: the oldest contact of this customer.';
  if (link === undefined) return `It is a secondary of #${contact.linkedId}.`;
  if (link.reason === 'merged') {
    return `Merged: it was the primary of another customer until a request carrying identifiers of both joined it to #${link.linkedId}. It shares no email or phone number with older contacts.`;
  }
  return link.shared.map(({ field, value, contactId }) => `It shares ${FIELD_NAMES[field]} ${value} with #${contactId}.`).join(' ');
}
