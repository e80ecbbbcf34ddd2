/**
 * The read-only use case behind `GET /customers/...`: find the customer that owns some
 * identifiers or a contact, and describe it. Never writes: identifiers of two customers are
 * reported as such, not merged (merging is `/identify`'s job, on a checkout).
 */
import { findCustomerRows, findCustomerRowsOfContact } from '../db/customerQueries.js';
import type { Queryable } from '../db/database.js';
import { primaryIdOf, type Contact, type Identifiers } from './contact.js';
import { describeCustomer, type CustomerDetails } from './customerDetails.js';

export type LookupResult =
  | { kind: 'found'; customer: CustomerDetails }
  | { kind: 'notFound' }
  /** The email belongs to one customer and the phone to another; their primaries, oldest first. */
  | { kind: 'differentCustomers'; primaryContactIds: number[] };

export interface LookupService {
  /** The customer owning the email and/or the phone; an identifier nobody has is ignored. */
  byIdentifiers(identifiers: Identifiers): Promise<LookupResult>;
  /** The customer owning live contact `id` (primary or secondary). */
  byContactId(id: number): Promise<LookupResult>;
}

export function createLookupService(db: Queryable): LookupService {
  return {
    byIdentifiers: async (identifiers) => lookupResult(await findCustomerRows(db, identifiers)),
    byContactId: async (id) => lookupResult(await findCustomerRowsOfContact(db, id)),
  };
}

function lookupResult(rows: readonly Contact[]): LookupResult {
  if (rows.length === 0) return { kind: 'notFound' };
  const primaryIds = [...new Set(rows.map(primaryIdOf))];
  if (primaryIds.length > 1) {
    // Rows come in row order, so the first row of each customer is its primary: oldest first.
    return { kind: 'differentCustomers', primaryContactIds: primaryIds };
  }
  return { kind: 'found', customer: describeCustomer(rows) };
}
