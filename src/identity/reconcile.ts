/**
 * The reconciliation decision: a pure function from (request, rows of the customers involved)
 * to a plan. No I/O lives here, so every rule is unit- and property-tested in isolation and the
 * database layer only has to apply the plan atomically.
 *
 * Contract for `rows`: every live row of every customer that owns one of the request's
 * identifiers, in row order (`createdAt`, `id`). Rows of uninvolved customers must not appear.
 * Customers are made of rows as `customerGroups.ts` says, deleted primaries and all.
 */
import type { Customer, IdentifierField, Identifiers, LinkedContact } from './contact.js';
import { groupByCustomer, isInPlace, linkedToOldest, type CustomerGroup } from './customerGroups.js';

export type Plan =
  /** Nothing matched: the request starts a new customer. */
  | { kind: 'createPrimary'; insert: Identifiers }
  /** The customer exists; maybe merge others into it, maybe add one secondary row. */
  | {
      kind: 'update';
      /** The oldest live row of the customers involved: their primary from now on. */
      survivorId: number;
      /** The rows every involved customer links to: what a writer of these customers locks. */
      lockIds: number[];
      /** The survivor is not a primary yet (its customer's primary was deleted, or it merges). */
      promote: boolean;
      /** Rows that must become secondaries linked straight to the survivor, in row order. */
      relinkIds: number[];
      /** How many customers the request joins into one (1: none joined). */
      customersJoined: number;
      /** A secondary row to insert when the request brings a new email or phone. */
      insert: Identifiers | null;
    };

export type Decision =
  | Plan
  /** The rows link to a secondary or round in a cycle: nothing is decided on them until `repair`. */
  | { kind: 'brokenLinks'; contactIds: number[] }
  /**
   * The plan would take a customer past the size cap: the request must not link through `field`,
   * the identifier of the larger customer it would join (the likelier junk: a placeholder email
   * glues hundreds of people, a shopper's own phone does not). Nothing is decided until it is blocked.
   */
  | { kind: 'quarantine'; field: IdentifierField };

export interface DecisionLimits {
  /** Live rows a customer may reach through a request; 0: no cap. */
  maxCustomerContacts: number;
}

/** The cap's default: far above any one shopper's checkouts with distinct identifiers. */
export const DEFAULT_MAX_CUSTOMER_CONTACTS = 1000;

const NO_LIMITS: DecisionLimits = { maxCustomerContacts: 0 };

export function decide(request: Identifiers, rows: readonly LinkedContact[], limits: DecisionLimits = NO_LIMITS): Decision {
  const matched = rows.filter(
    (row) =>
      (request.email !== null && row.email === request.email) || (request.phoneNumber !== null && row.phoneNumber === request.phoneNumber),
  );
  if (matched.length === 0) return { kind: 'createPrimary', insert: request };

  const grouping = groupByCustomer(rows);
  if (!grouping.ok) return { kind: 'brokenLinks', contactIds: grouping.brokenContactIds };
  const matchedIds = new Set(matched.map((row) => row.id));
  const involved = grouping.groups.filter((group) => group.rows.some((row) => matchedIds.has(row.id)));
  // Rows come in row order, so the first involved row is the oldest: it is the primary.
  const involvedOwners = new Set(involved.map((group) => group.ownerId));
  const involvedRows = rows.filter((row) => involvedOwners.has(row.linkedId ?? row.id));
  const [survivor] = involvedRows;
  if (survivor === undefined) throw new Error('a matched row belongs to no customer');

  const bringsNewEmail = request.email !== null && !rows.some((row) => row.email === request.email);
  const bringsNewPhone = request.phoneNumber !== null && !rows.some((row) => row.phoneNumber === request.phoneNumber);
  const grows = involved.length > 1 || bringsNewEmail || bringsNewPhone;
  const sizeAfter = involvedRows.length + (bringsNewEmail || bringsNewPhone ? 1 : 0);
  if (limits.maxCustomerContacts > 0 && grows && sizeAfter > limits.maxCustomerContacts) {
    return { kind: 'quarantine', field: largerCustomersField(request, involved) };
  }

  return {
    kind: 'update',
    survivorId: survivor.id,
    lockIds: [...involvedOwners],
    promote: !isInPlace(survivor, survivor.id),
    relinkIds: involvedRows.filter((row) => row !== survivor && !isInPlace(row, survivor.id)).map((row) => row.id),
    customersJoined: involved.length,
    insert: bringsNewEmail || bringsNewPhone ? request : null,
  };
}

/**
 * Of a request that would grow a customer (so it carries both identifiers), the field whose
 * customer is larger; the phone on a tie. A field no row holds has a customer of size 0.
 */
function largerCustomersField(request: Identifiers, involved: readonly CustomerGroup<LinkedContact>[]): IdentifierField {
  const sizeOf = (field: IdentifierField) =>
    involved.find((group) => group.rows.some((row) => row[field] === request[field]))?.rows.length ?? 0;
  return sizeOf('email') > sizeOf('phoneNumber') ? 'email' : 'phoneNumber';
}

/** True when the plan writes nothing: the common case of a returning customer. */
export function isNoop(plan: Plan): boolean {
  return plan.kind === 'update' && !plan.promote && plan.relinkIds.length === 0 && plan.insert === null;
}

/**
 * The rows after the plan took effect, in row order: the involved customers linked to the
 * survivor, the row the store inserted for `plan.insert` (the newest) last. The SQL function
 * `identity_apply_plan` changes the table the same way and reports only the inserted row.
 */
export function rowsAfter(rows: readonly LinkedContact[], plan: Plan, inserted: LinkedContact | null): LinkedContact[] {
  if (plan.kind === 'createPrimary') {
    if (inserted === null) throw new Error('a createPrimary plan needs the inserted row');
    return [inserted];
  }
  // Every row is of an involved customer (the contract), so the oldest is the survivor.
  const relinked = linkedToOldest(rows);
  if (relinked[0]?.id !== plan.survivorId) throw new Error('the rows are not the ones the plan was decided on');
  return inserted === null ? relinked : [...relinked, inserted];
}

/** Shapes one customer's rows (in row order, primary among them) into the answer. */
export function toCustomer(rows: readonly LinkedContact[]): Customer {
  const primary = rows.find((row) => row.linkedId === null);
  if (primary === undefined) throw new Error('a customer needs a primary row');
  const others = rows.filter((row) => row !== primary);
  return {
    primaryContactId: primary.id,
    emails: distinctPresent([primary.email, ...others.map((row) => row.email)]),
    phoneNumbers: distinctPresent([primary.phoneNumber, ...others.map((row) => row.phoneNumber)]),
    secondaryContactIds: others.map((row) => row.id),
  };
}

function distinctPresent(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((value): value is string => value !== null))];
}
