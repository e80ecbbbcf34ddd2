/**
 * A subject access request: everything the service holds about a customer — its live rows with
 * why each belongs, and its whole history — in one answer. Composed of the read and history use
 * cases, so it says exactly what they would, page after page.
 */
import type { CustomerDetails } from './customerDetails.js';
import type { ContactEvent, CustomerHistory, HistoryService } from './historyService.js';
import type { LookupService } from './lookupService.js';

export interface CustomerExport {
  customer: CustomerDetails;
  history: Omit<CustomerHistory, 'events' | 'page'> & { events: ContactEvent[] };
}

export type ExportResult = { kind: 'found'; value: CustomerExport } | { kind: 'notFound' } | { kind: 'brokenLinks'; contactIds: number[] };

const PAGE = 1_000;

export async function exportCustomer(lookup: LookupService, history: HistoryService, contactId: number): Promise<ExportResult> {
  const found = await lookup.byContactId(contactId);
  if (found.kind === 'brokenLinks') return found;
  if (found.kind !== 'found') return { kind: 'notFound' };
  const events: ContactEvent[] = [];
  for (let after = 0; ;) {
    const page = await history.history(found.customer.primaryContactId, { after, limit: PAGE });
    if (page.kind === 'brokenLinks') return page;
    if (page.kind !== 'found') return { kind: 'notFound' };
    const { events: pageEvents, page: position, ...summary } = page.value;
    events.push(...pageEvents);
    if (position.nextAfter === null) return { kind: 'found', value: { customer: found.customer, history: { ...summary, events } } };
    after = position.nextAfter;
  }
}
