/**
 * A found customer: the summary, the identity graph, the contacts table, the details panel and the
 * history. Choosing a contact in the table or in the graph shows its row in the panel, marks it in
 * both, and offers to explain why it belongs. With an admin key, the details panel offers to erase
 * the chosen contact and the history to undo each merge (adminActions.ts does them).
 */
import { createContactsTable } from './contactsTable.js';
import { showContactDetails } from './contactDetails.js';
import { byId, h } from './dom.js';
import { createExplainView } from './explainView.js';
import { NONE } from './format.js';
import { createGraphView } from './graphView.js';
import { createHistoryView } from './historyView.js';
import { identityGraph } from './identityGraph.js';
import type { Contact, ContactEvent, CustomerDetails } from './types.js';

export interface CustomerView {
  /** `searched`: what the lookup looked for, in words (`describeSearched`); null for none. */
  show(customer: CustomerDetails, searched?: string | null): void;
  hide(): void;
  /** Shows or removes the admin controls, after the admin key was given or forgotten. */
  refreshAdminControls(): void;
}

/** The admin controls' hooks: whether to offer them, and what pressing one does. */
export interface CustomerAdmin {
  enabled(): boolean;
  erase(contact: Contact, customer: CustomerDetails, button: HTMLButtonElement): void;
  unmerge(event: ContactEvent, primaryContactId: number, button: HTMLButtonElement): void;
}

export function createCustomerView(admin: CustomerAdmin): CustomerView {
  const section = byId('customer', HTMLElement);
  const heading = byId('customer-heading', HTMLHeadingElement);
  const summary = byId('customer-summary', HTMLDListElement);
  const searchedLine = byId('customer-searched', HTMLParagraphElement);
  const detailsHint = byId('details-hint', HTMLParagraphElement);
  const detailsList = byId('details-list', HTMLDListElement);
  const table = createContactsTable(byId('contacts-body', HTMLTableSectionElement), select);
  const graph = createGraphView(byId('graph', HTMLDivElement), byId('graph-caption', HTMLElement), select);
  const explain = createExplainView(graph);
  const history = createHistoryView({ enabled: admin.enabled, unmerge: admin.unmerge });
  const contactAdmin = byId('contact-admin', HTMLDivElement);
  const eraseButton = byId('erase-button', HTMLButtonElement);
  let shown: CustomerDetails | null = null;
  let chosen: Contact | null = null;

  eraseButton.addEventListener('click', () => {
    if (shown !== null && chosen !== null) admin.erase(chosen, shown, eraseButton);
  });

  function refreshAdminControls(): void {
    contactAdmin.hidden = chosen === null || !admin.enabled();
    eraseButton.textContent = chosen === null ? 'Erase contact…' : `Erase contact #${chosen.id}…`;
    history.refreshAdminControls();
  }

  function select(contactId: number | null): void {
    const contact = shown?.contacts.find((candidate) => candidate.id === contactId);
    table.select(contact ? contact.id : null);
    graph.select(contact ? contact.id : null);
    detailsHint.hidden = contact !== undefined;
    detailsList.hidden = contact === undefined;
    if (contact)
      showContactDetails(
        detailsList,
        contact,
        shown?.links.find((link) => link.contactId === contact.id),
      );
    if (shown) explain.show(shown, contact ? contact.id : null);
    chosen = contact ?? null;
    refreshAdminControls();
  }

  return {
    show(customer, searched = null) {
      shown = customer;
      heading.textContent = `Customer ${customer.primaryContactId}`;
      searchedLine.textContent = searched ?? '';
      searchedLine.hidden = searched === null;
      summary.replaceChildren(
        ...entry('Primary contact', h('span', { class: 'primary-id' }, `#${customer.primaryContactId}`)),
        ...entry('Emails', list(customer.emails)),
        ...entry('Phone numbers', list(customer.phoneNumbers)),
        ...entry(
          'Secondary contacts',
          customer.secondaryContactIds.length > 0 ? customer.secondaryContactIds.map((id) => `#${id}`).join(', ') : NONE,
        ),
      );
      section.hidden = false; // before drawing: the graph measures its box
      table.show(customer.contacts);
      graph.show(identityGraph(customer), customer.primaryContactId);
      select(null);
      history.show(customer.primaryContactId);
    },
    hide() {
      section.hidden = true;
      shown = null;
      chosen = null;
      history.hide();
    },
    refreshAdminControls,
  };
}

function entry(term: string, value: Node | string): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)];
}

function list(values: readonly string[]): Node | string {
  return values.length > 0 ? h('ul', { class: 'values' }, ...values.map((value) => h('li', {}, value))) : NONE;
}
