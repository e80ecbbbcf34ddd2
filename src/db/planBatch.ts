/**
 * Writes that arrive together share one statement. Every plan attempted outside a transaction goes
 * through here: those made while the process's last plan statement runs (or, when none runs, in one
 * turn of the event loop) are sent as one call of `identity_apply_plans` (migrations/0014), which
 * takes all their locks in the global order, then checks and carries out the plans, those that
 * share no identifier and no customer together (docs/concurrency.md): one round trip and one commit
 * for many writes (pgbench, 4 a statement: docs/benchmarks.md, "The write path"). A batch of one
 * plan sends identity_apply_plan, as before.
 */
import type { PlanAttempt } from '../identity/store.js';
import type { Queryable } from './database.js';
import { attemptOf, type AttemptRow } from './attemptRows.js';
import { oneBatchInFlight, timeBatch, type BatchObserver, type Settle, type Waiting } from './perTurn.js';

export const APPLY_PLANS_SQL =
  'SELECT * FROM identity_apply_plans($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::boolean[], $8::text[], $9::boolean[], $10::bigint[], $11::text[], $12::boolean)';

/** A long batch holds every one of its locks until it commits: kept small. */
export const MAX_PLANS_PER_STATEMENT = 16;

/**
 * How long the plan statement in flight holds the next back (oneBatchInFlight). A batch answers in
 * 1–2 ms here under load; one past this is waiting (on a lock, or an overloaded server), and the
 * process's other writes go on without it.
 */
export const PLAN_PATIENCE_MS = 10;

/** identity_apply_plan's arguments but the last (whether to log events), in its order. */
export type PlanArguments = readonly [
  email: string | null,
  phoneNumber: string | null,
  expectedIds: readonly number[],
  expectedLinks: readonly number[],
  lockIds: readonly number[],
  survivorId: number | null,
  promote: boolean,
  relinkIds: readonly number[],
  insert: boolean,
  blocklistVersion: number | null,
  requestId: string | null,
];

/** Which of the arguments are int[]: they travel to identity_apply_plans as array literals. */
const INT_ARRAYS = new Set([2, 3, 4, 7]);

/** An int[] as PostgreSQL writes it. */
const arrayLiteral = (ids: readonly number[]) => `{${ids.join(',')}}`;

/** identity_apply_plan's rows, each with the request (from 1) it answers. */
type PlanRow = AttemptRow & { request: number };

type Single = (plan: PlanArguments) => Promise<PlanAttempt>;

/**
 * Attempts plans, batching those that wait while the last batch runs; `single` attempts one alone
 * (identity_apply_plan). `observe` is told of each statement (a failed batch's plans, sent again
 * one by one, are not told again).
 */
export function batchedPlans(
  db: Queryable,
  single: Single,
  eventLog: boolean,
  observe?: BatchObserver,
): (plan: PlanArguments) => Promise<PlanAttempt> {
  /** Resolves, when the statement has answered, to the function that settles the batch's callers (oneBatchInFlight's Settle). */
  const send = (batch: Waiting<PlanArguments, PlanAttempt>[]): Promise<Settle> => {
    const answered = timeBatch(observe, batch.length);
    if (batch.length === 1) {
      const [only] = batch as [Waiting<PlanArguments, PlanAttempt>];
      return single(only.item)
        .finally(answered)
        .then(
          (attempt) => () => only.resolve(attempt),
          (error: unknown) => () => only.reject(error),
        );
    }
    // One array per argument, each request's value at its place.
    const columns = batch[0]?.item.map((_, argument) =>
      batch.map(({ item }) => (INT_ARRAYS.has(argument) ? arrayLiteral(item[argument] as readonly number[]) : item[argument])),
    );
    return db
      .query<PlanRow>(APPLY_PLANS_SQL, [...(columns ?? []), eventLog])
      .finally(answered)
      .then(
        (rows) => () => {
          const byRequest: PlanRow[][] = batch.map(() => []);
          for (const row of rows) byRequest[row.request - 1]?.push(row);
          batch.forEach((each, index) => each.resolve(attemptOf(byRequest[index] as PlanRow[])));
        },
        // One plan's failure stays its own: the batch wrote nothing, so each plan goes again alone.
        () => () => batch.forEach((each) => single(each.item).then(each.resolve, each.reject)),
      );
  };
  return oneBatchInFlight(send, { max: MAX_PLANS_PER_STATEMENT, patienceMs: PLAN_PATIENCE_MS });
}
