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
import type { Customer, Identifiers, LinkedContact } from './contact.js';
import { decide, isNoop, rowsAfter, toCustomer, type Plan } from './reconcile.js';
import { withRetry } from './retry.js';
import { LockOrderConflict, type IdentifyStore } from './store.js';

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

/** One decision applied, or lost to a concurrent change: the rows as they are now, or `null` to read again. */
type Round = { kind: 'done'; result: IdentifyResult } | { kind: 'lost'; rows: LinkedContact[] | null };

export function createIdentifyService(store: IdentifyStore, options: IdentifyServiceOptions = {}): IdentifyService {
  const retry = { attempts: options.retryAttempts ?? 20, isRetryable: store.isRetryable, onRetry: options.onRetry };
  return {
    async identify(request) {
      let rows = await store.findCustomers(request);
      for (let race = 1; race <= OPTIMISTIC_ATTEMPTS; race++) {
        const outcome = await withRetry(() => decideAndApply(store, request, rows), retry);
        if (outcome.kind === 'done') return outcome.result;
        options.onStalePlan?.();
        rows = outcome.rows ?? (await store.findCustomers(request));
      }
      // In a transaction the first attempt, applied or not, leaves the identifiers and the
      // customers locked until commit, so the decision on the rows it reports cannot be overtaken.
      let reread = false;
      return withRetry(async () => {
        // Read outside the transaction: one connection never waits for another (a pool of them
        // all doing so would wait for ever).
        if (reread) rows = await store.findCustomers(request);
        reread = false;
        return store.transaction(async (tx) => {
          const first = await decideAndApply(tx, request, rows);
          if (first.kind === 'done') return first.result;
          if (first.rows === null) {
            // Locks it could only have taken out of order: start over, in order, from a fresh read.
            reread = true;
            throw new LockOrderConflict();
          }
          const second = await decideAndApply(tx, request, first.rows);
          if (second.kind === 'done') return second.result;
          throw new Error('customers changed while their locks were held');
        });
      }, retry);
    },
  };
}

/** Decides on `rows` and applies the plan if they are still what the table holds. */
async function decideAndApply(store: IdentifyStore, request: Identifiers, rows: LinkedContact[]): Promise<Round> {
  const plan = decide(request, rows);
  if (plan.kind === 'brokenLinks') throw new BrokenLinksError(plan.contactIds);
  if (isNoop(plan)) return { kind: 'done', result: { customer: toCustomer(rows), outcome: 'unchanged' } };
  const attempt = await store.applyPlanIfCurrent(request, rows, plan);
  if (attempt.kind === 'applied') {
    return { kind: 'done', result: { customer: toCustomer(rowsAfter(rows, plan, attempt.inserted)), outcome: outcomeOf(plan) } };
  }
  return { kind: 'lost', rows: attempt.kind === 'stale' ? attempt.rows : null };
}

function outcomeOf(plan: Plan): IdentifyOutcome {
  if (plan.kind === 'createPrimary') return 'created_primary';
  if (plan.customersJoined > 1) return 'merged';
  if (plan.insert !== null) return 'created_secondary';
  return isNoop(plan) ? 'unchanged' : 'relinked';
}
