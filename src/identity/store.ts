/**
 * What the use cases need of storage, in their own terms. The domain owns these interfaces;
 * `src/db/` implements them on PostgreSQL and PGlite, so dependencies point one way: db -> identity.
 */
import type { BlockRule, BlockRuleSpec, Blocklist } from './blocklist.js';
import type { Contact, Identifiers, LinkedContact } from './contact.js';
import type { MergeRecord } from './linkGraph.js';
import type { IdentifierField, NormalFormRules } from './normalise.js';
import type { Plan } from './reconcile.js';
import type { RowWrite } from './regroup.js';

/** One read of the customers: their rows, and the version of the block list in force (null: not asked, or no rows to carry it). */
export interface CustomersRead {
  rows: LinkedContact[];
  /** The block list's version, read in the same snapshot; null when not asked for (or no rows). */
  blocklistVersion: number | null;
  /** The newest block list version stamped on the rows (`governedAt`, migrations/0009); 0 for none. */
  governedAt: number;
}

/** What a write carries besides its plan. */
export interface WriteContext {
  /** The block list the plan was decided with; null: governance off (the bench's baseline only). */
  blocklistVersion: number | null;
  /** Logged with the events the write makes. */
  requestId: string | null;
}

export type PlanAttempt =
  /** Written; `inserted` is the row created for `plan.insert`, if the plan had one. */
  | { kind: 'applied'; inserted: LinkedContact | null }
  /** The customers changed since `decidedOn` was read: nothing written, here is how they are now. */
  | { kind: 'stale'; rows: LinkedContact[] }
  /**
   * A concurrent merge moved the customers under a row that could only be locked out of order,
   * and another request holds it: nothing written, nothing known; read again and retry.
   */
  | { kind: 'outOfOrder' }
  /** The block list changed since the plan was decided: nothing written; decide again with the new one. */
  | { kind: 'blocklistChanged' };

export interface IdentifyStore {
  /**
   * Every live row of every customer owning the email or the phone, in row order, and (when
   * `withBlocklistVersion`) the block list's version: one snapshot.
   */
  findCustomers(request: Identifiers, withBlocklistVersion: boolean): Promise<CustomersRead>;
  /** The block list's version as the table has it now. */
  blocklistVersion(): Promise<number>;
  /**
   * Carries out `plan`, decided on `decidedOn`, atomically and under the customers' locks, if
   * they and the block list are still as they were read; otherwise says how they are now.
   */
  applyPlanIfCurrent(request: Identifiers, decidedOn: readonly LinkedContact[], plan: Plan, context: WriteContext): Promise<PlanAttempt>;
  /** Runs `work` in one transaction: the locks its attempts take are held until it commits. */
  transaction<T>(work: (store: IdentifyStore) => Promise<T>): Promise<T>;
  /** Work that failed this way may simply be run again (a deadlock, a serialization failure, lock order). */
  isRetryable(error: unknown): boolean;
  /** Appends an event that records a request, not a change (`request.separated`); absent: not logged (bench baseline). */
  recordEvent?(event: NewEvent, requestId: string | null): Promise<void>;
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

/** An event for the log, written with the change it describes. */
export interface NewEvent {
  type: string;
  /** The primaries it concerns, the customer after the event first. */
  customerIds: number[];
  contactIds?: number[];
  detail?: Record<string, unknown>;
}

/** An identifier and how many rows and customers hold it: what an operator reads before blocking. */
export interface Suspect {
  field: IdentifierField;
  value: string;
  /** Live rows holding it. */
  contacts: number;
  /** Customers holding it (more than one only for a blocked value). */
  customers: number;
  /** Live rows of the largest customer holding it. */
  largestCustomer: number;
  blocked: boolean;
}

/** What every process must agree with the table on: the block list, and which values are one identifier. */
export interface GovernanceState {
  blocklist: Blocklist;
  rules: NormalFormRules;
}

export interface GovernanceStore {
  loadBlocklist(): Promise<Blocklist>;
  loadState(): Promise<GovernanceState>;
  /** Runs `work` in one transaction holding the governance lock exclusively: no /identify write runs meanwhile. */
  exclusive<T>(work: (tx: GovernanceTransaction) => Promise<T>): Promise<T>;
  /** The `limit` identifiers held by the most live rows, each field ranked on its own. */
  suspects(limit: number): Promise<Suspect[]>;
}

export interface GovernanceTransaction {
  loadBlocklist(): Promise<Blocklist>;
  /** Adds a rule and bumps the list's version; null when the same rule exists. */
  addRule(spec: BlockRuleSpec, reason: string, addedBy: string): Promise<BlockRule | null>;
  /** Removes a rule and bumps the list's version; null when there is none with this id. */
  removeRule(id: number): Promise<BlockRule | null>;
  /**
   * Every live row, in row order, of every customer with a live row the rule matches, and (with
   * `viaMerges`) of every customer holding an identifier of a logged merge the rule matches.
   */
  rowsOfCustomersMatching(rule: BlockRuleSpec, options: { viaMerges: boolean }): Promise<LinkedContact[]>;
  /** Every live row of every customer owning the email or the phone, in row order. */
  findCustomers(request: Identifiers): Promise<LinkedContact[]>;
  /** The logged merges that concern any of these contacts. */
  mergesOf(contactIds: readonly number[]): Promise<MergeRecord[]>;
  /**
   * Stamps every live row of the customers of these contacts with the block list's version
   * (`governedAt`): what a change to the list or the separations does to every customer it
   * concerns, so that lookups reading those rows know their copy of the list is too old.
   */
  markGoverned(contactIds: readonly number[]): Promise<void>;
  /** Writes a regroup's links and its events in one statement. */
  applyRegroup(writes: readonly RowWrite[], events: readonly NewEvent[], requestId: string | null): Promise<void>;
  /** Live rows with an id above `afterId`, by id, at most `limit`: a renormalisation's next batch. */
  liveRowsPage(afterId: number, limit: number): Promise<StoredIdentifiers[]>;
  /** Rewrites rows' values, and the same values where the event log holds them (merges' identifiers). */
  rewriteValues(changes: readonly ValueRewrite[]): Promise<void>;
  /** Every live row, in row order, of every customer owning one of these rows or holding one of these values. */
  rowsOfCustomersHolding(contactIds: readonly number[], values: Identifiers[]): Promise<LinkedContact[]>;
  /** Drops rules, then rewrites exact rules' values; bumps the list's version when anything changed. */
  rewriteRuleValues(changes: readonly { id: number; value: string }[], dropIds: readonly number[]): Promise<void>;
  /** Records the rules the table is moving to (null: none), or that it is now in `rules`' form (bumps the version). */
  recordRenormalizing(target: NormalFormRules): Promise<void>;
  recordRules(rules: NormalFormRules): Promise<void>;
  /** The live rows an erasure names: a contact, every row of a contact's customer, or every row holding a value. */
  rowsToErase(target: ErasureTarget): Promise<LinkedContact[]>;
  /**
   * Writes an erasure: the rows' values (erased rows also get `deletedAt`), and the forgotten
   * values removed from the event log.
   */
  eraseValues(scrubs: readonly RowScrub[], emails: readonly string[], phones: readonly string[]): Promise<void>;
}

/** What an erasure names. `customerOf`: any contact of the customer. */
export type ErasureTarget = { contactId: number } | { customerOf: number } | { email: string } | { phoneNumber: string };

/** A row's values after an erasure. */
export interface RowScrub {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  /** Erased: `deletedAt` is set too. */
  erased: boolean;
}

/** A row's email and phone as stored. */
export interface StoredIdentifiers {
  id: number;
  email: string | null;
  phoneNumber: string | null;
}

/** A row's values before and after a renormalisation (only rows where one of them changes). */
export interface ValueRewrite {
  id: number;
  from: Identifiers;
  to: Identifiers;
}
