/**
 * The contacts table. Each row's first cell is a button, so rows are reachable with Tab and
 * chosen with Enter or Space like any control; a click anywhere on a row chooses it too.
 */
import { h, timestamp } from './dom.js';
import { NONE } from './format.js';
import type { Contact } from './types.js';

export interface ContactsTable {
  show(contacts: readonly Contact[]): void;
  /** Marks the contact's row as the current one, or none for null. */
  select(contactId: number | null): void;
}

export function createContactsTable(body: HTMLTableSectionElement, onSelectContact: (contactId: number) => void): ContactsTable {
  body.addEventListener('click', (event) => {
    const row = (event.target as Element).closest<HTMLTableRowElement>('tr[data-contact-id]');
    if (row) onSelectContact(Number(row.dataset.contactId));
  });
  return {
    show(contacts) {
      body.replaceChildren(...contacts.map(contactRow));
    },
    select(contactId) {
      for (const row of body.rows) {
        const current = row.dataset.contactId === String(contactId);
        row.classList.toggle('current', current);
        const button = row.querySelector('button');
        if (current) button?.setAttribute('aria-current', 'true');
        else button?.removeAttribute('aria-current');
      }
    },
  };
}

function contactRow(contact: Contact): HTMLTableRowElement {
  const primary = contact.linkPrecedence === 'primary';
  return h(
    'tr',
    { 'data-contact-id': String(contact.id), class: primary ? 'primary' : 'secondary' },
    h(
      'th',
      { scope: 'row' },
      h('button', { type: 'button', class: 'contact-button' }, h('span', { class: 'visually-hidden' }, 'Contact '), `#${contact.id}`),
    ),
    h('td', {}, contact.email ?? NONE),
    h('td', {}, contact.phoneNumber ?? NONE),
    h('td', {}, h('span', { class: `precedence ${contact.linkPrecedence}` }, contact.linkPrecedence)),
    h('td', {}, contact.linkedId === null ? NONE : `#${contact.linkedId}`),
    h('td', {}, timestamp(contact.createdAt)),
    h('td', {}, timestamp(contact.updatedAt)),
  );
}
