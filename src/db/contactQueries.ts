/**
 * The SQL the identify use case runs against `Contact`: two statements, each one round trip.
 * Their bodies live in `migrations/0002_identify_functions.sql` so that the locking protocol is
 * written once, next to the schema it protects. Every statement inside is an index lookup on
 * live rows (email, phoneNumber, linkedId or the primary key), so its cost grows with the
 * customers involved, never with the table.
 */
import type { Contact, Identifiers } from '../identity/contact.js';
import type { Plan } from '../identity/reconcile.js';
import type { Queryable } from './database.js';

/**
 * Every live row of every customer owning the email or the phone, in row order. One statement,
 * so one snapshot: the answer of the read-only path is consistent without a transaction.
 */
export const FIND_CUSTOMERS_SQL = 'SELECT * FROM identity_customer_rows($1::text, $2::text)';

export function findCustomers(db: Queryable, request: Identifiers): Promise<Contact[]> {
  return db.query<Contact>(FIND_CUSTOMERS_SQL, [request.email, request.phoneNumber]);
}

const APPLY_PLAN_SQL =
  'SELECT * FROM identity_apply_plan($1::text, $2::text, $3::int[], $4::int[], $5::int, $6::int[], $7::boolean)';

export interface PlanAttempt {
  /** False when the customers changed since `decidedOn` was read: nothing was written. */
  applied: boolean;
  /** The customers' rows after the write, or as they are now when not applied. */
  rows: Contact[];
}

/**
 * Carries out `plan`, decided on `decidedOn`, in one statement, if the customers are still as
 * they were read; otherwise reports how they are now. See the function's comment for the locks.
 */
export async function applyPlanIfCurrent(
  db: Queryable,
  request: Identifiers,
  decidedOn: readonly Contact[],
  plan: Plan,
): Promise<PlanAttempt> {
  const update = plan.kind === 'update' ? plan : null;
  const result = await db.query<Contact & { applied: boolean }>(APPLY_PLAN_SQL, [
    request.email,
    request.phoneNumber,
    decidedOn.map((row) => row.id),
    decidedOn.map((row) => row.linkedId ?? 0),
    update?.survivorId ?? null,
    update?.demotedPrimaryIds ?? [],
    plan.insert !== null,
  ]);
  const applied = result[0]?.applied ?? false;
  return { applied, rows: result.map(({ applied: _, ...row }) => row) };
}
