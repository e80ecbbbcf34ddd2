/**
 * What the use cases need of storage, in their own terms. The domain owns these interfaces;
 * `src/db/` implements them on PostgreSQL and PGlite, so dependencies point one way: db -> identity.
 */
import type { Contact, Identifiers, LinkedContact } from './contact.js';
import type { Plan } from './reconcile.js';

export type PlanAttempt =
  /** Written; `inserted` is the row created for `plan.insert`, if the plan had one. */
  | { kind: 'applied'; inserted: LinkedContact | null }
  /** The customers changed since `decidedOn` was read: nothing written, here is how they are now. */
  | { kind: 'stale'; rows: LinkedContact[] }
  /**
   * A concurrent merge moved the customers under a row that could only be locked out of order,
   * and another request holds it: nothing written, nothing known; read again and retry.
   */
  | { kind: 'outOfOrder' };

export interface IdentifyStore {
  /** Every live row of every customer owning the email or the phone, in row order: one snapshot. */
  findCustomers(request: Identifiers): Promise<LinkedContact[]>;
  /**
   * Carries out `plan`, decided on `decidedOn`, atomically and under the customers' locks, if
   * they are still as they were read; otherwise says how they are now.
   */
  applyPlanIfCurrent(request: Identifiers, decidedOn: readonly LinkedContact[], plan: Plan): Promise<PlanAttempt>;
  /** Runs `work` in one transaction: the locks its attempts take are held until it commits. */
  transaction<T>(work: (store: IdentifyStore) => Promise<T>): Promise<T>;
  /** Work that failed this way may simply be run again (a deadlock, a serialization failure, lock order). */
  isRetryable(error: unknown): boolean;
}

export interface CustomerStore {
  /** Every live row, all columns, of every customer owning the email or the phone, in row order. */
  findCustomerRows(identifiers: Identifiers): Promise<Contact[]>;
  /** Every live row of every customer owning live contact `id`'s email or phone, in row order. */
  findCustomerRowsOfContact(id: number): Promise<Contact[]>;
}

/** Thrown by the identify use case to have its transaction run again from a fresh read. */
export class LockOrderConflict extends Error {
  override name = 'LockOrderConflict';
  constructor() {
    super('locks could only be taken out of order; retrying from a fresh read');
  }
}
