/**
 * The reconciliation decision: a pure function from (request, rows of the customers involved)
 * to a plan. No I/O lives here, so every rule is unit- and property-tested in isolation and the
 * database layer only has to apply the plan atomically.
 *
 * Contract for `rows`: every live row of every customer that owns one of the request's
 * identifiers, in row order (`createdAt`, `id`). Rows of uninvolved customers must not appear.
 */
import { primaryIdOf, type Customer, type Identifiers, type LinkedContact } from './contact.js';

export type Plan =
  /** Nothing matched: the request starts a new customer. */
  | { kind: 'createPrimary'; insert: Identifiers }
  /** The customer exists; maybe merge others into it, maybe add one secondary row. */
  | {
      kind: 'update';
      survivorId: number;
      /** Primaries that become secondaries of the survivor, with all their secondaries. */
      demotedPrimaryIds: number[];
      /** A secondary row to insert when the request brings a new email or phone. */
      insert: Identifiers | null;
    };

export function decide(request: Identifiers, rows: readonly LinkedContact[]): Plan {
  const matched = rows.filter(
    (row) =>
      (request.email !== null && row.email === request.email) ||
      (request.phoneNumber !== null && row.phoneNumber === request.phoneNumber),
  );
  if (matched.length === 0) return { kind: 'createPrimary', insert: request };

  const involvedPrimaryIds = new Set(matched.map(primaryIdOf));
  // Rows come in row order, so the first involved primary is the oldest: it survives.
  const primaries = rows.filter((row) => involvedPrimaryIds.has(row.id));
  const [survivor, ...demoted] = primaries;
  if (survivor === undefined) throw new Error('rows do not include the primary of a matched row');

  const bringsNewEmail = request.email !== null && !rows.some((row) => row.email === request.email);
  const bringsNewPhone =
    request.phoneNumber !== null && !rows.some((row) => row.phoneNumber === request.phoneNumber);

  return {
    kind: 'update',
    survivorId: survivor.id,
    demotedPrimaryIds: demoted.map((row) => row.id),
    insert: bringsNewEmail || bringsNewPhone ? request : null,
  };
}

/** True when the plan writes nothing: the common case of a returning customer. */
export function isNoop(plan: Plan): boolean {
  return plan.kind === 'update' && plan.demotedPrimaryIds.length === 0 && plan.insert === null;
}

/**
 * The rows after the plan took effect, in row order: demoted customers re-linked to the survivor,
 * the row the store inserted for `plan.insert` (the newest) last. The SQL function
 * `identity_apply_plan` changes the table the same way and reports only the inserted row.
 */
export function applyPlan(rows: readonly LinkedContact[], plan: Plan, inserted: LinkedContact | null): LinkedContact[] {
  if (plan.kind === 'createPrimary') {
    if (inserted === null) throw new Error('a createPrimary plan needs the inserted row');
    return [inserted];
  }
  const demoted = new Set(plan.demotedPrimaryIds);
  const relinked = rows.map((row) => (demoted.has(primaryIdOf(row)) ? { ...row, linkedId: plan.survivorId } : row));
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
