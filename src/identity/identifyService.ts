/**
 * The identify use case: read the customers involved, decide, and write the decision atomically.
 *
 * A returning customer whose request brings nothing new is answered from one statement, with no
 * transaction and no lock. Anything else runs in one transaction that first locks the request's
 * identifiers, then the primaries of every customer involved, re-reads under those locks and
 * decides again, so the result equals some one-at-a-time order of the requests (README,
 * "Concurrency").
 */
import type { Database, Queryable } from '../db/database.js';
import { findCustomers, insertContact, lockIdentifiers, lockPrimaries, relinkCustomers } from '../db/contactQueries.js';
import { withRetry } from '../db/retry.js';
import { primaryIdOf, type Contact, type Customer, type Identifiers } from './contact.js';
import { applyPlan, decide, isNoop, toCustomer, type Plan } from './reconcile.js';

export type IdentifyOutcome = 'created_primary' | 'created_secondary' | 'merged' | 'unchanged';

export interface IdentifyResult {
  customer: Customer;
  outcome: IdentifyOutcome;
}

export interface IdentifyServiceOptions {
  /** How often a transaction aborted by a deadlock or serialization failure is run again. */
  retryAttempts?: number;
  onRetry?: (error: unknown, attempt: number) => void;
}

export interface IdentifyService {
  identify(request: Identifiers): Promise<IdentifyResult>;
}

export function createIdentifyService(db: Database, options: IdentifyServiceOptions = {}): IdentifyService {
  const retry = { attempts: options.retryAttempts ?? 20, onRetry: options.onRetry };
  return {
    async identify(request) {
      const rows = await findCustomers(db, request);
      const plan = decide(request, rows);
      if (isNoop(plan)) return { customer: toCustomer(rows), outcome: 'unchanged' };
      const knownPrimaries = primaryIdsOf(rows);
      return withRetry(() => db.transaction((tx) => reconcileUnderLocks(tx, request, knownPrimaries)), retry);
    },
  };
}

async function reconcileUnderLocks(tx: Queryable, request: Identifiers, knownPrimaries: number[]): Promise<IdentifyResult> {
  await lockIdentifiers(tx, request);
  const rows = await readLockedCustomers(tx, request, knownPrimaries);
  const plan = decide(request, rows);
  const relinkedAt = plan.kind === 'update' && plan.demotedPrimaryIds.length > 0
    ? await relinkCustomers(tx, plan.survivorId, plan.demotedPrimaryIds)
    : null;
  const inserted = plan.insert === null
    ? null
    : await insertContact(tx, plan.insert, plan.kind === 'update' ? plan.survivorId : null);
  const after = applyPlan(rows, plan, { inserted, relinkedAt });
  return { customer: toCustomer(after), outcome: outcomeOf(plan) };
}

/**
 * Locks the primary of every customer owning the request's identifiers and returns their rows as
 * they are under those locks. A concurrent merge may demote a primary between our read and our
 * lock; re-reading after each round of locks finds the new primary, until a read shows only
 * primaries we already hold. Identifier locks keep new owners from appearing meanwhile.
 */
async function readLockedCustomers(tx: Queryable, request: Identifiers, knownPrimaries: number[]): Promise<Contact[]> {
  const locked = new Set<number>();
  let toLock = knownPrimaries;
  for (;;) {
    if (toLock.length > 0) {
      await lockPrimaries(tx, toLock);
      toLock.forEach((id) => locked.add(id));
    }
    const rows = await findCustomers(tx, request);
    toLock = primaryIdsOf(rows).filter((id) => !locked.has(id));
    if (toLock.length === 0) return rows;
  }
}

function primaryIdsOf(rows: readonly Contact[]): number[] {
  return [...new Set(rows.map(primaryIdOf))];
}

function outcomeOf(plan: Plan): IdentifyOutcome {
  if (plan.kind === 'createPrimary') return 'created_primary';
  if (plan.demotedPrimaryIds.length > 0) return 'merged';
  return plan.insert === null ? 'unchanged' : 'created_secondary';
}
