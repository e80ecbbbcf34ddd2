/**
 * The identify use case: read the customers involved, decide, and write the decision atomically.
 *
 * A returning customer whose request brings nothing new is answered from one statement, with no
 * transaction and no lock. Anything else is decided on that read and applied by one more
 * statement, which takes the locks and writes only if the customers are still as read; if not,
 * it answers with how they are now and we decide again. After a few such races the attempt runs
 * in a transaction, whose locks make the second decision final. Either way the result equals some
 * one-at-a-time order of the requests (README, "Concurrency").
 */
import type { Database, Queryable } from '../db/database.js';
import { applyPlanIfCurrent, findCustomers } from '../db/contactQueries.js';
import { withRetry } from '../db/retry.js';
import type { Customer, Identifiers, LinkedContact } from './contact.js';
import { applyPlan, decide, isNoop, toCustomer, type Plan } from './reconcile.js';

/** `relinked`: the request added nothing, but put a customer's links in place (a deleted primary's rows). */
export type IdentifyOutcome = 'created_primary' | 'created_secondary' | 'merged' | 'relinked' | 'unchanged';

/**
 * The customers a request touches link to a secondary or in a cycle (a table not written by the
 * service alone). Nothing was written; `identity-service repair` puts the links right.
 */
export class BrokenLinksError extends Error {
  override name = 'BrokenLinksError';
  constructor(readonly contactIds: readonly number[]) {
    super(`contacts ${contactIds.join(', ')} link to a secondary or in a cycle; run \`identity-service repair\``);
  }
}

export interface IdentifyResult {
  customer: Customer;
  outcome: IdentifyOutcome;
}

export interface IdentifyServiceOptions {
  /** How often a transaction aborted by a deadlock or serialization failure is run again. */
  retryAttempts?: number;
  onRetry?: (error: unknown, attempt: number) => void;
  /** A plan found its customers changed since they were read, and was decided again. */
  onStalePlan?: () => void;
}

export interface IdentifyService {
  identify(request: Identifiers): Promise<IdentifyResult>;
}

/** Races lost without a transaction before the next attempt holds its locks until commit. */
const OPTIMISTIC_ATTEMPTS = 3;

export function createIdentifyService(db: Database, options: IdentifyServiceOptions = {}): IdentifyService {
  const retry = { attempts: options.retryAttempts ?? 20, onRetry: options.onRetry };
  return {
    async identify(request) {
      const rows = await findCustomers(db, request);
      const attempt = (q: Queryable, decidedOn: LinkedContact[], attempts: number) => reconcile(q, request, decidedOn, attempts, options.onStalePlan);
      const optimistic = await withRetry(() => attempt(db.readCommitted, rows, OPTIMISTIC_ATTEMPTS), retry);
      if (!Array.isArray(optimistic)) return optimistic;
      // In a transaction the first attempt, applied or not, leaves the identifiers and primaries
      // locked until commit, so the decision on the rows it reports cannot be overtaken.
      const locked = await withRetry(() => db.transaction((tx) => attempt(tx, optimistic, 2)), retry);
      if (Array.isArray(locked)) throw new Error('customers changed while their locks were held');
      return locked;
    },
  };
}

/**
 * Decides on `rows` and applies the plan if they are still current, deciding again on what the
 * database reports otherwise. Returns the rows of the last lost race when out of attempts.
 */
async function reconcile(
  db: Queryable,
  request: Identifiers,
  rows: LinkedContact[],
  attempts: number,
  onStalePlan?: () => void,
): Promise<IdentifyResult | LinkedContact[]> {
  let decidedOn = rows;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const plan = decide(request, decidedOn);
    if (plan.kind === 'brokenLinks') throw new BrokenLinksError(plan.contactIds);
    if (isNoop(plan)) return { customer: toCustomer(decidedOn), outcome: 'unchanged' };
    const result = await applyPlanIfCurrent(db, request, decidedOn, plan);
    if (result.applied) return { customer: toCustomer(applyPlan(decidedOn, plan, result.inserted)), outcome: outcomeOf(plan) };
    onStalePlan?.();
    decidedOn = result.rows;
  }
  return decidedOn;
}

function outcomeOf(plan: Plan): IdentifyOutcome {
  if (plan.kind === 'createPrimary') return 'created_primary';
  if (plan.customersJoined > 1) return 'merged';
  if (plan.insert !== null) return 'created_secondary';
  return isNoop(plan) ? 'unchanged' : 'relinked';
}
