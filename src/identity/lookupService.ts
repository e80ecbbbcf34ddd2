/**
 * The read-only use case behind `GET /customers/...`: find the customer that owns some
 * identifiers or a contact, and describe it. Never writes: identifiers of two customers are
 * reported as such, not merged (merging is `/identify`'s job, on a checkout).
 *
 * Customers are shown as `customerGroups.ts` defines them: a customer whose primary was
 * soft-deleted is answered with its oldest live row as primary, as the table holds it once the
 * next checkout (or `repair`) has put its links in place.
 */
import { screen } from './blocklist.js';
import type { Contact, Identifiers } from './contact.js';
import type { BlocklistCache } from './governance.js';
import type { IdentifierField } from './normalise.js';
import { groupByCustomer, linkedToOldest } from './customerGroups.js';
import { describeCustomer, type CustomerDetails } from './customerDetails.js';
import type { CustomerStore } from './store.js';

export type LookupResult =
  | { kind: 'found'; customer: CustomerDetails }
  | { kind: 'notFound' }
  /** The email belongs to one customer and the phone to another; their primaries, oldest first. */
  | { kind: 'differentCustomers'; primaryContactIds: number[] }
  /** The rows link to a secondary or in a cycle; `repair` puts them right. */
  | { kind: 'brokenLinks'; contactIds: number[] }
  /** Every identifier asked for is blocked: it identifies no one. */
  | { kind: 'blocked'; fields: readonly IdentifierField[] };

export interface LookupService {
  /** The customer owning the email and/or the phone; an identifier nobody has is ignored. */
  byIdentifiers(identifiers: Identifiers): Promise<LookupResult>;
  /** The customer owning live contact `id` (primary or secondary). */
  byContactId(id: number): Promise<LookupResult>;
}

/**
 * With a block list, blocked identifiers are treated as absent, as /identify treats them. The
 * process's copy is at most a second old here (`BlocklistCache`): a read writes nothing, so a
 * value blocked by another process a moment ago can at worst still be looked up for that moment.
 */
export function createLookupService(store: CustomerStore, blocklist?: BlocklistCache): LookupService {
  return {
    byIdentifiers: async (identifiers) => {
      if (blocklist === undefined) return lookupResult(await store.findCustomerRows(identifiers));
      const { usable, ignored } = screen(identifiers, await blocklist.current());
      if (usable === null) return { kind: 'blocked', fields: ignored };
      return lookupResult(await store.findCustomerRows(usable));
    },
    byContactId: async (id) => lookupResult(await store.findCustomerRowsOfContact(id), id),
  };
}

/** `ofContact`: answer only for the customer of this contact, whatever else the rows hold. */
function lookupResult(rows: readonly Contact[], ofContact?: number): LookupResult {
  const grouping = groupByCustomer(rows);
  if (!grouping.ok) return { kind: 'brokenLinks', contactIds: grouping.brokenContactIds };
  const groups =
    ofContact === undefined ? grouping.groups : grouping.groups.filter((group) => group.rows.some((row) => row.id === ofContact));
  const [only, ...others] = groups;
  if (only === undefined) return { kind: 'notFound' };
  if (others.length > 0) {
    // Groups come in the order of their oldest rows, each the primary: oldest first.
    return { kind: 'differentCustomers', primaryContactIds: groups.map((group) => (group.rows[0] as Contact).id) };
  }
  return { kind: 'found', customer: describeCustomer(linkedToOldest(only.rows)) };
}
