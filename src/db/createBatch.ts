/**
 * New customers that are written together share one statement. A plan decided on no rows (a new
 * customer) goes through here: those of one turn of the event loop are sent as one call of
 * `identity_create_customers` (migrations/0012), which takes all their identifiers' locks in the
 * global order and then runs identity_apply_plan's new-customer path for each in turn: one round
 * trip and one commit for many new customers (pgbench, 4 a statement: over twice the new customers
 * a second of one a statement). A turn with one goes the single way (`single`), as before.
 */
import type { Identifiers } from '../identity/contact.js';
import type { PlanAttempt } from '../identity/store.js';
import type { Queryable } from './database.js';
import { attemptOf, type AttemptRow } from './attemptRows.js';
import { perTurn, type Waiting } from './perTurn.js';

export const CREATE_CUSTOMERS_SQL =
  'SELECT * FROM identity_create_customers($1::text[], $2::text[], $3::bigint[], $4::text[], $5::boolean)';

/** A long batch holds every one of its identifiers' locks until it commits: kept small. */
export const MAX_CREATES_PER_STATEMENT = 16;

export interface NewCustomer {
  request: Identifiers;
  /** The block list it was decided with; null: governance off. */
  blocklistVersion: number | null;
  requestId: string | null;
}

/** identity_apply_plan's rows, each with the request (from 1) it answers. */
type CreatedRow = AttemptRow & { request: number };

type Single = (customer: NewCustomer) => Promise<PlanAttempt>;

/** Creates new customers, batching those of one turn; `single` creates one alone (the plan's own statement). */
export function batchedCreates(db: Queryable, single: Single, eventLog: boolean): (customer: NewCustomer) => Promise<PlanAttempt> {
  const send = (batch: Waiting<NewCustomer, PlanAttempt>[]) => {
    if (batch.length === 1) {
      const [only] = batch as [Waiting<NewCustomer, PlanAttempt>];
      single(only.item).then(only.resolve, only.reject);
      return;
    }
    db.query<CreatedRow>(CREATE_CUSTOMERS_SQL, [
      batch.map((each) => each.item.request.email),
      batch.map((each) => each.item.request.phoneNumber),
      batch.map((each) => each.item.blocklistVersion),
      batch.map((each) => each.item.requestId),
      eventLog,
    ]).then(
      (rows) => {
        const byRequest: CreatedRow[][] = batch.map(() => []);
        for (const row of rows) byRequest[row.request - 1]?.push(row);
        batch.forEach((each, index) => each.resolve(attemptOf(byRequest[index] as CreatedRow[])));
      },
      (error: unknown) => batch.forEach((each) => each.reject(error)),
    );
  };
  return perTurn(send, MAX_CREATES_PER_STATEMENT);
}
