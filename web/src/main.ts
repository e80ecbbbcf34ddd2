/**
 * The explorer page: a search goes into the URL hash (so it can be linked, and Back works), the
 * hash drives the lookup, and each outcome of the lookup gets its own state on the page. With an
 * admin key, a contact can be erased and a merge undone; the customer is then shown afresh, under
 * a notice of what the action did.
 */
import { createAdminActions } from './adminActions.js';
import { createAdminKeyControl } from './adminKeyControl.js';
import { lookUpCustomer, type LookupOutcome } from './api.js';
import { storedAdminKey, storedApiKey } from './apiKey.js';
import { createConfirmDialog } from './confirmDialog.js';
import { createCustomerView } from './customerView.js';
import { byId } from './dom.js';
import { count } from './format.js';
import { createKeyPrompt } from './keyPrompt.js';
import { createNotice, type NoticeAction, type NoticeTone } from './notice.js';
import { createSearchForm } from './searchForm.js';
import { describeQuery, describeSearched, fromHash, toHash, type ParsedSearch, type SearchQuery } from './search.js';

const status = byId('status', HTMLParagraphElement);
const results = byId('results', HTMLDivElement);
const notice = createNotice(byId('notice', HTMLElement), results);
const adminNotice = createNotice(byId('admin-notice', HTMLElement), results);
const adminKeyControl = createAdminKeyControl({
  onChange(hasKey) {
    customerView.refreshAdminControls();
    announce(hasKey ? 'Admin key given: erase and unmerge are offered.' : 'The admin key is forgotten.');
  },
});
const adminActions = createAdminActions({
  confirm: createConfirmDialog(results),
  notice: adminNotice,
  announce,
  reload: showAfterAdminAction,
  askAdminKey: () => adminKeyControl.ask(),
});
const customerView = createCustomerView({
  enabled: () => storedAdminKey() !== null,
  erase: (contact, customer, button) => void adminActions.erase(contact, customer, button),
  unmerge: (event, primaryContactId, button) => void adminActions.unmerge(event, primaryContactId, button),
});
const searchForm = createSearchForm(search);
const keyPrompt = createKeyPrompt({ focusAfter: results, onKey: retry, onForget: () => announce('The API key is forgotten.') });

let lastQuery: SearchQuery | null = null;
let inFlight: AbortController | null = null;
/**
 * Set by an admin action for the lookup that shows its outcome: the admin notice stays, and this
 * goes before the status line's words about the customer. Any other lookup clears the notice.
 */
let afterAdminAction: string | null = null;

function announce(text: string): void {
  status.textContent = text;
}

function search(parsed: ParsedSearch): void {
  if (!parsed.ok) {
    cancelLookUp();
    showNotice('error', 'Check the search', parsed.message);
    return;
  }
  navigateTo(parsed.query);
}

/** Puts `query` in the hash; the hashchange that follows runs it (the same hash fires none). */
function navigateTo(query: SearchQuery): void {
  const hash = toHash(query);
  if (location.hash.slice(1) === hash) void lookUp(query);
  else location.hash = hash;
}

function followHash(): void {
  const query = fromHash(location.hash);
  if (query === null) {
    notice.hide();
    customerView.hide();
    return;
  }
  searchForm.fill(query);
  void lookUp(query);
}

/** After an admin action: the customer of `contactId` afresh, by id (an erased email may have been the search). */
function showAfterAdminAction(contactId: number | null, said: string): void {
  afterAdminAction = said;
  if (contactId !== null) return navigateTo({ by: 'id', id: String(contactId) });
  afterAdminAction = null;
  cancelLookUp();
  notice.hide();
  customerView.hide();
  announce(said);
}

function retry(): void {
  if (lastQuery !== null) void lookUp(lastQuery);
}

/** A newer search (or a bad one) wins: an older answer must not overwrite what it shows. */
function cancelLookUp(): void {
  inFlight?.abort();
  inFlight = null;
  results.removeAttribute('aria-busy');
}

async function lookUp(query: SearchQuery): Promise<void> {
  cancelLookUp();
  const controller = new AbortController();
  inFlight = controller;
  lastQuery = query;
  if (afterAdminAction === null) adminNotice.hide();
  results.setAttribute('aria-busy', 'true');
  showNotice('loading', 'Searching', `Looking up ${describeQuery(query)}…`);
  let outcome: LookupOutcome;
  try {
    outcome = await lookUpCustomer(query, { apiKey: storedApiKey(), signal: controller.signal });
  } catch {
    return; // aborted by a newer search
  }
  if (controller.signal.aborted) return;
  results.removeAttribute('aria-busy');
  const said = afterAdminAction;
  afterAdminAction = null;
  render(outcome, query);
  if (said) announce(`${said} ${status.textContent ?? ''}`);
}

function render(outcome: LookupOutcome, query: SearchQuery): void {
  switch (outcome.kind) {
    case 'found': {
      const { customer } = outcome;
      // Lookups by contact id look for no identifier, so they never say what they searched for.
      const searched = query.by === 'identifiers' ? describeSearched(outcome.searched) : null;
      notice.hide();
      customerView.show(customer, searched);
      announce(
        `Customer ${customer.primaryContactId}: ${count(customer.page.total, 'contact')}` +
          `${customer.page.nextOffset === null ? '' : ` (the first ${customer.contacts.length.toLocaleString('en-US')} shown)`}, ` +
          `${count(customer.emails.length, 'email')}, ${count(customer.phoneNumbers.length, 'phone number')}.` +
          (searched === null ? '' : ` ${searched}.`),
      );
      return;
    }
    case 'notFound':
      return showNotice('info', 'No customer found', outcome.message);
    case 'badInput':
      return showNotice('error', 'Check the search', outcome.message);
    case 'differentCustomers':
      return showNotice(
        'info',
        'Two different customers',
        `${describeQuery(query)} belong to two different customers. A lookup never merges them; open either one.`,
        outcome.primaryContactIds.map((id) => ({ label: `Open customer #${id}`, run: () => navigateTo({ by: 'id', id: String(id) }) })),
      );
    case 'unauthorized':
      notice.hide();
      keyPrompt.ask(
        storedApiKey() === null ? 'This service needs an API key for lookups.' : 'The service did not accept that API key; type another.',
      );
      return announce('An API key is needed.');
    case 'rateLimited':
      return showNotice('error', 'Too many requests', outcome.message, [{ label: 'Try again', run: retry }]);
    case 'failed':
      return showNotice('error', 'The lookup failed', outcome.message, [{ label: 'Try again', run: retry }]);
  }
}

/** Every outcome but a customer: the notice box, and the same words for screen readers. */
function showNotice(tone: NoticeTone, title: string, message: string, actions: readonly NoticeAction[] = []): void {
  customerView.hide();
  notice.show(tone, title, message, actions);
  announce(`${title}. ${message}`);
}

window.addEventListener('hashchange', followHash);
followHash();
