/**
 * New customers that are written together share one statement. A plan decided on no rows (a new
 * customer) goes through here: those of one turn of the event loop are sent as one call of
 * `identity_create_customers` (migrations/0012), which handles them one after the other under
 * all their identifiers' locks and commits them together: one round trip, one version check and
 * one commit for many new customers (pgbench, 4 a statement: over twice the new customers a
 * second of one a statement). A turn with one goes the single way (`single`), as before.
 */
import type { Identifiers } from '../identity/contact.js';
import type { PlanAttempt } from '../identity/store.js';
import type { Queryable } from './database.js';
import { linkedContact, type NullableContact } from './contactRows.js';
import { perTurn, type Waiting } from './perTurn.js';

export const CREATE_CUSTOMERS_SQL = 'SELECT * FROM identity_create_customers($1::text[], $2::text[], $3::bigint, $4::text[], $5::boolean)';

/** A long batch holds every one of its identifiers' locks until it commits: kept small. */
export const MAX_CREATES_PER_STATEMENT = 16;

export interface NewCustomer {
  request: Identifiers;
  /** The block list it was decided with; null: governance off. */
  blocklistVersion: number | null;
  requestId: string | null;
}

type CreatedRow = { request: number; applied: boolean; blocklistVersion: string | null } & NullableContact;

type Single = (customer: NewCustomer) => Promise<PlanAttempt>;

/**
 * Creates new customers, batching those of one turn; `single` creates one alone (the plan's own
 * statement). Requests decided with different block list versions go in different statements.
 */
export function batchedCreates(db: Queryable, single: Single, eventLog: boolean): (customer: NewCustomer) => Promise<PlanAttempt> {
  const sendOne = (group: Waiting<NewCustomer, PlanAttempt>[]) => {
    if (group.length === 1) {
      const [only] = group as [Waiting<NewCustomer, PlanAttempt>];
      single(only.item).then(only.resolve, only.reject);
      return;
    }
    const [first] = group as [Waiting<NewCustomer, PlanAttempt>];
    db.query<CreatedRow>(CREATE_CUSTOMERS_SQL, [
      group.map((each) => each.item.request.email),
      group.map((each) => each.item.request.phoneNumber),
      first.item.blocklistVersion,
      group.map((each) => each.item.requestId),
      eventLog,
    ]).then(
      (rows) => {
        const byRequest: CreatedRow[][] = group.map(() => []);
        for (const row of rows) byRequest[row.request - 1]?.push(row);
        group.forEach((each, index) => each.resolve(attemptOf(byRequest[index] as CreatedRow[])));
      },
      (error: unknown) => group.forEach((each) => each.reject(error)),
    );
  };
  const send = (batch: Waiting<NewCustomer, PlanAttempt>[]) => {
    const byVersion = new Map<number | null, Waiting<NewCustomer, PlanAttempt>[]>();
    for (const each of batch) {
      const group = byVersion.get(each.item.blocklistVersion);
      if (group === undefined) byVersion.set(each.item.blocklistVersion, [each]);
      else group.push(each);
    }
    for (const group of byVersion.values()) sendOne(group);
  };
  return perTurn(send, MAX_CREATES_PER_STATEMENT);
}

/** One request's rows of the answer, read as identity_apply_plan's are. */
function attemptOf(rows: readonly CreatedRow[]): PlanAttempt {
  const [first] = rows;
  if (first === undefined) throw new Error('identity_create_customers answered nothing for a request');
  if (first.applied) return { kind: 'applied', inserted: linkedContact(first) };
  if (first.id === null) return { kind: 'blocklistChanged' };
  return { kind: 'stale', rows: rows.map(linkedContact) };
}
