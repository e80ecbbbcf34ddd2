/**
 * The read-only use case behind `GET /customers/{id}/history` and `/explain`: what the event log
 * says happened to a customer, and why two of its contacts are one customer.
 *
 * The log began with migration 0004; rows written before it (or by another system) have no
 * events. The history never makes up for that: it says how much of the customer the log accounts
 * for (`recorded`), and explain answers `unrecorded` rather than invent a link.
 */
import { Blocklist } from './blocklist.js';
import type { Contact } from './contact.js';
import { groupByCustomer, linkedToOldest } from './customerGroups.js';
import { explain, type ExplainStep } from './explain.js';
import type { MergeRecord } from './linkGraph.js';
import type { CustomerStore } from './store.js';

/** One row of the event log ("ContactEvent"), as written in the transaction of the change. */
export interface ContactEvent {
  id: number;
  at: Date;
  /** The x-request-id of the request (or the operator's command) that made the change. */
  requestId: string | null;
  /** `customer.created`, `customer.updated`, `customer.merged`, `customer.relinked`, `customer.split`, `identifier.*`. */
  type: string;
  /** The primaries the event concerns, the customer after the event first. */
  customerIds: number[];
  contactIds: number[];
  /** Only for `customer.merged`: the request's identifiers, which matched the customers it joined. */
  email: string | null;
  phoneNumber: string | null;
  detail: Record<string, unknown>;
}

/** A logged merge, with when and by which request. */
export interface LoggedMerge extends MergeRecord {
  at: Date;
  requestId: string | null;
}

export interface HistoryCoverage {
  /** Events in the customer's history. */
  events: number;
  /** Of the live rows asked about, those whose insertion (`customer.created` or `.updated`) is among them. */
  recordedContactIds: number[];
}

/** Reads of the event log, for the customer whose live rows are `liveIds`. */
export interface HistoryStore {
  /** Its events with ids above `after`, oldest first, at most `limit`. */
  events(liveIds: readonly number[], page: HistoryPageRequest): Promise<ContactEvent[]>;
  coverage(liveIds: readonly number[]): Promise<HistoryCoverage>;
  /** Its logged merges (those with both identifiers: the only ones that can join rows), oldest first. */
  merges(liveIds: readonly number[]): Promise<LoggedMerge[]>;
}

export interface HistoryPageRequest {
  /** Events with ids above this one; 0 for the first page. */
  after: number;
  limit: number;
}

/**
 * How much of the customer the log accounts for:
 * - `true`: every live contact's creation is in the history;
 * - `'partial'`: there are events, but some contacts were created without one in this history;
 * - `false`: no event at all (the table was written before the log existed).
 */
export type Recorded = true | 'partial' | false;

export interface CustomerHistory {
  primaryContactId: number;
  recorded: Recorded;
  /** What `recorded` means for this customer, in words; null when the history is complete. */
  note: string | null;
  /** Live contacts of the customer, and how many of them have their creation in the history. */
  contacts: { total: number; recorded: number };
  events: ContactEvent[];
  page: { after: number; limit: number; total: number; nextAfter: number | null };
}

/** A step of an explanation as the API shows it: a merge with its request, when and with what. */
export type PathStep =
  | Exclude<ExplainStep, { kind: 'merge' }>
  | { kind: 'merge'; eventId: number; at: Date; requestId: string | null; email: string; phoneNumber: string };

export interface ContactExplanation {
  primaryContactId: number;
  from: number;
  to: number;
  /** `path`: `steps` joins them. `unrecorded`: they are one customer, but no recorded link says why (`message`). */
  kind: 'path' | 'unrecorded';
  steps: PathStep[];
  /** Only for `unrecorded`: `blocked` (their links are values blocked now) or `noRecord`. */
  cause: 'blocked' | 'noRecord' | null;
  message: string | null;
}

export type HistoryLookup<T> =
  | { kind: 'found'; value: T }
  /** No live contact has the id. */
  | { kind: 'notFound' }
  /** The rows link to a secondary or in a cycle; `repair` puts them right. */
  | { kind: 'brokenLinks'; contactIds: number[] };

export type HistoryResult = HistoryLookup<CustomerHistory>;
export type ExplainResult =
  | HistoryLookup<ContactExplanation>
  /** `from` or `to` is not a live contact of this customer (whose primary is given). */
  | { kind: 'notInCustomer'; primaryContactId: number; contactIds: number[] };

export interface HistoryService {
  /** The history of the customer owning live contact `contactId`, a page at a time. */
  history(contactId: number, page: HistoryPageRequest): Promise<HistoryResult>;
  /** Why `to` belongs with `from` (the primary when null), both contacts of `contactId`'s customer. */
  explain(contactId: number, from: number | null, to: number): Promise<ExplainResult>;
}

export interface HistoryServiceOptions {
  /** The block list in force: blocked values explain nothing. Nothing blocked when absent. */
  blocklist?: () => Promise<Blocklist>;
}

export function createHistoryService(
  customers: CustomerStore,
  events: HistoryStore,
  { blocklist = async () => Blocklist.empty() }: HistoryServiceOptions = {},
): HistoryService {
  /** The customer's live rows in row order, its primary first. */
  async function customerRows(contactId: number): Promise<HistoryLookup<Contact[]>> {
    const grouping = groupByCustomer(await customers.findCustomerRowsOfContact(contactId));
    if (!grouping.ok) return { kind: 'brokenLinks', contactIds: grouping.brokenContactIds };
    const group = grouping.groups.find((candidate) => candidate.rows.some((row) => row.id === contactId));
    return group ? { kind: 'found', value: linkedToOldest(group.rows) } : { kind: 'notFound' };
  }

  return {
    async history(contactId, page) {
      const found = await customerRows(contactId);
      if (found.kind !== 'found') return found;
      const rows = found.value;
      const liveIds = rows.map((row) => row.id);
      const [listed, coverage] = await Promise.all([events.events(liveIds, page), events.coverage(liveIds)]);
      const contacts = { total: rows.length, recorded: coverage.recordedContactIds.length };
      const recorded: Recorded = coverage.events === 0 ? false : contacts.recorded < contacts.total ? 'partial' : true;
      const last = listed.at(-1);
      return {
        kind: 'found',
        value: {
          primaryContactId: liveIds[0] as number,
          recorded,
          note: noteOn(recorded, contacts),
          contacts,
          events: listed,
          page: {
            after: page.after,
            limit: page.limit,
            total: coverage.events,
            nextAfter: last !== undefined && listed.length === page.limit ? last.id : null,
          },
        },
      };
    },

    async explain(contactId, from, to) {
      const found = await customerRows(contactId);
      if (found.kind !== 'found') return found;
      const rows = found.value;
      const primaryContactId = (rows[0] as Contact).id;
      const start = from ?? primaryContactId;
      const outside = [...new Set([start, to])].filter((id) => !rows.some((row) => row.id === id));
      if (outside.length > 0) return { kind: 'notInCustomer', primaryContactId, contactIds: outside };
      const [merges, list] = await Promise.all([events.merges(rows.map((row) => row.id)), blocklist()]);
      const answer = explain({ rows, merges, blocklist: list, from: start, to });
      const base = { primaryContactId, from: start, to };
      if (answer.kind === 'unrecorded') {
        return {
          kind: 'found',
          value: { ...base, kind: 'unrecorded', steps: [], cause: answer.cause, message: unrecordedMessage(start, to, answer.cause) },
        };
      }
      const byEvent = new Map(merges.map((merge) => [merge.eventId, merge]));
      const steps = answer.steps.map((step): PathStep => {
        if (step.kind !== 'merge') return step;
        const { eventId, at, requestId, email, phoneNumber } = byEvent.get(step.eventId) as LoggedMerge;
        // A merge node only exists for a merge with both identifiers.
        return { kind: 'merge', eventId, at, requestId, email: email as string, phoneNumber: phoneNumber as string };
      });
      return { kind: 'found', value: { ...base, kind: 'path', steps, cause: null, message: null } };
    },
  };
}

function noteOn(recorded: Recorded, contacts: { total: number; recorded: number }): string | null {
  if (recorded === true) return null;
  if (recorded === false) {
    return 'No events are recorded for this customer: its contacts were written before the event log existed (or by another system), so what happened to them is not known. Its rows are as they are now.';
  }
  const missing = contacts.total - contacts.recorded;
  return (
    `The history is partial: ${missing} of ${contacts.total} contacts were created without an event in it — before the event log existed, ` +
    'by another system, or under a customer they were later split from (whose history has it).'
  );
}

function unrecordedMessage(from: number, to: number, cause: 'blocked' | 'noRecord'): string {
  if (cause === 'blocked') {
    return `Contacts ${from} and ${to} are one customer, but every link between them is a value that is blocked now; they were kept together as they were.`;
  }
  return `Contacts ${from} and ${to} are one customer, but no recorded link joins them: they were linked before the event log existed, or by another system.`;
}
