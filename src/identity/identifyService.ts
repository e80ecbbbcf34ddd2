/**
 * The identify use case: read the customers involved, decide, and write the decision atomically.
 *
 * A returning customer whose request brings nothing new is answered from one statement, with no
 * transaction and no lock. Anything else is decided on that read and applied by one more
 * statement, which takes the locks and writes only if the customers are still as read; if not,
 * it answers with how they are now and we decide again. After a few such races the attempt runs
 * in a transaction, whose locks make the second decision final. Either way the result equals some
 * one-at-a-time order of the requests (README, "Concurrency").
 *
 * With governance on, blocked identifiers are dropped before anything is read (`blocklist.ts`),
 * and every statement carries the version of the block list the decision used: when another
 * process changed the list meanwhile, the statement says so, the list is loaded again and the
 * request decided again. A request that would take a customer past the size cap has the bridging
 * identifier quarantined (`governance.ts`) and goes on without it.
 */
import { screen, type Blocklist } from './blocklist.js';
import type { Customer, Identifiers, LinkedContact } from './contact.js';
import { BrokenLinksError } from './customerGroups.js';
import type { BlocklistCache } from './governance.js';
import type { IdentifierField } from './normalise.js';
import { decide, isNoop, rowsAfter, toCustomer, type DecisionLimits, type Plan } from './reconcile.js';
import { withRetry } from './retry.js';
import { separate, type SeparatedRequest } from './separations.js';
import { LockOrderConflict, type CustomersRead, type IdentifyStore, type NewEvent, type WriteContext } from './store.js';

/** `relinked`: the request added nothing, but put a customer's links in place (a deleted primary's rows). */
export type IdentifyOutcome = 'created_primary' | 'created_secondary' | 'merged' | 'relinked' | 'unchanged';

export interface IdentifyResult {
  customer: Customer;
  outcome: IdentifyOutcome;
  /** Fields of the request whose values are blocked: treated as absent; or not linked because of a separation. */
  ignored: readonly IdentifierField[];
  /** The separation that kept the request's phone from linking (its id), when one did. */
  separation?: number;
}

/** Every identifier of the request is blocked: there is nothing to identify anyone by. */
export class BlockedIdentifierError extends Error {
  override name = 'BlockedIdentifierError';
  constructor(readonly fields: readonly IdentifierField[]) {
    super(`blocked: ${fields.join(' and ')}`);
  }
}

export interface IdentifyGovernance {
  blocklist: BlocklistCache;
  limits: DecisionLimits;
  /** Blocks the identifier that would take a customer past the cap (decided again under the lock). */
  quarantine(request: Identifiers, limits: DecisionLimits, requestId: string | null): Promise<void>;
}

export interface IdentifyServiceOptions {
  /** How often a transaction aborted by a deadlock or serialization failure is run again. */
  retryAttempts?: number;
  onRetry?: (error: unknown, attempt: number) => void;
  /** A plan found its customers changed since they were read, and was decided again. */
  onStalePlan?: () => void;
  /** Blocked identifiers and the size cap; absent, the seed's plain rules (the bench's baseline). */
  governance?: IdentifyGovernance;
}

export interface IdentifyContext {
  requestId?: string | null;
}

export interface IdentifyService {
  identify(request: Identifiers, context?: IdentifyContext): Promise<IdentifyResult>;
}

/** Races lost without a transaction before the next attempt holds its locks until commit. */
const OPTIMISTIC_ATTEMPTS = 3;

/**
 * Block list changes and quarantines a request may see before it gives up. Each is an operator's
 * change or a cap being reached, so more than a few in one request's lifetime means a runaway.
 */
const GOVERNANCE_ROUNDS = 10;

/** One decision applied, or lost to a concurrent change: the rows as they are now, or `null` to read again. */
type Round = { kind: 'done'; result: Omit<IdentifyResult, 'ignored'> } | { kind: 'lost'; rows: LinkedContact[] | null };

/** The decision was made with an old block list, or needs an identifier blocked first: start over. */
class GovernanceRestart extends Error {
  constructor(
    readonly quarantine: boolean,
    /** The request as decided (narrowed by a separation): what a quarantine decides on again. */
    readonly request: Identifiers | null = null,
  ) {
    super(quarantine ? 'an identifier must be quarantined first' : 'the block list changed');
  }
}

export function createIdentifyService(store: IdentifyStore, options: IdentifyServiceOptions = {}): IdentifyService {
  const retry = { attempts: options.retryAttempts ?? 20, isRetryable: store.isRetryable, onRetry: options.onRetry };
  const governance = options.governance;
  const limits = governance?.limits ?? { maxCustomerContacts: 0 };

  /**
   * `screenedOut`: the list made the request drop a value. Its rows cannot tell whether that value
   * was unblocked since (the request did not read by it), so its read asks for the version itself.
   */
  async function identifyWith(screened: Identifiers, blocklist: Blocklist | null, requestId: string | null, screenedOut = false) {
    const context: WriteContext = { blocklistVersion: blocklist?.version ?? null, requestId };
    // A separation (unmerge) narrows the request to the email's customer: from then on it is
    // decided, written and read again as that narrower request. Which side it keeps cannot change
    // while the block list's version stays (separations.ts), and every statement checks that.
    let request = screened;
    let separated: SeparatedRequest | null = null;
    // The rows it was narrowed from: a retry of that attempt gets them again.
    let narrowedFrom: LinkedContact[] | null = null;
    const narrow = (rows: LinkedContact[]): LinkedContact[] => {
      if (separated !== null) return rows === narrowedFrom ? separated.rows : rows;
      if (blocklist === null) return rows;
      separated = separate(request, rows, blocklist.separations);
      if (separated === null) return rows;
      narrowedFrom = rows;
      request = separated.request;
      return separated.rows;
    };
    const read = async () => {
      const found = await store.findCustomers(request, blocklist !== null && screenedOut);
      // No rows: the request creates a customer, and that write checks the version under the lock.
      if (blocklist !== null && found.rows.length > 0 && !isCurrentFor(found, blocklist)) throw new GovernanceRestart(false);
      return found.rows;
    };
    const attempt = (on: IdentifyStore, rows: LinkedContact[]) => {
      const decidedOn = narrow(rows);
      return decideAndApply(on, request, decidedOn, limits, context);
    };
    const done = ({ customer, outcome }: Omit<IdentifyResult, 'ignored'>) => ({
      customer,
      outcome,
      separated: separated as SeparatedRequest | null,
    });

    let rows = await read();
    for (let race = 1; race <= OPTIMISTIC_ATTEMPTS; race++) {
      const outcome = await withRetry(() => attempt(store, rows), retry);
      if (outcome.kind === 'done') return done(outcome.result);
      options.onStalePlan?.();
      rows = outcome.rows ?? (await read());
    }
    // In a transaction the first attempt, applied or not, leaves the identifiers and the
    // customers locked until commit, so the decision on the rows it reports cannot be overtaken.
    let reread = false;
    return withRetry(async () => {
      // Read outside the transaction: one connection never waits for another (a pool of them
      // all doing so would wait for ever).
      if (reread) rows = await read();
      reread = false;
      return store.transaction(async (tx) => {
        const first = await attempt(tx, rows);
        if (first.kind === 'done') return done(first.result);
        if (first.rows === null) {
          // Locks it could only have taken out of order: start over, in order, from a fresh read.
          reread = true;
          throw new LockOrderConflict();
        }
        const second = await attempt(tx, first.rows);
        if (second.kind === 'done') return done(second.result);
        throw new Error('customers changed while their locks were held');
      });
    }, retry);
  }

  return {
    async identify(request, { requestId = null } = {}) {
      if (governance === undefined) {
        const { customer, outcome } = await identifyWith(request, null, requestId);
        return { customer, outcome, ignored: [] };
      }
      let blocklist = governance.blocklist.held ?? (await governance.blocklist.latest());
      for (let round = 1; ; round++) {
        const { usable, ignored } = screen(request, blocklist);
        if (usable === null) {
          // A refusal reads no rows, so no stamp vouches for the list: it must be the table's own.
          if (round < GOVERNANCE_ROUNDS && (await store.blocklistVersion()) !== blocklist.version) {
            blocklist = await governance.blocklist.refresh();
            continue;
          }
          throw new BlockedIdentifierError(ignored);
        }
        try {
          const { customer, outcome, separated } = await identifyWith(usable, blocklist, requestId, ignored.length > 0);
          if (separated === null) return { customer, outcome, ignored };
          await store.recordEvent?.(separatedEvent(separated, customer.primaryContactId), requestId);
          return { customer, outcome, ignored: [...ignored, separated.ignored], separation: separated.separation.id };
        } catch (error) {
          if (!(error instanceof GovernanceRestart) || round === GOVERNANCE_ROUNDS) throw error;
          if (error.quarantine) await governance.quarantine(error.request ?? usable, limits, requestId);
          blocklist = await governance.blocklist.refresh();
        }
      }
    },
  };
}

/**
 * Whether `list` is the block list to decide on `found` with. The version read with the rows says
 * so exactly. Without it, the rows' stamps do (migrations/0009): every change to the list or the
 * separations stamps every row of every customer it concerns, and a new rule's values are held by
 * such rows (or by none, and then the request writes, and its write checks the version). So rows
 * stamped no later than the list's own version are decided on as any later list would.
 */
function isCurrentFor(found: CustomersRead, list: Blocklist): boolean {
  return found.blocklistVersion !== null ? found.blocklistVersion === list.version : found.governedAt <= list.version;
}

/** Decides on `rows` and applies the plan if they (and the block list) are still what the table holds. */
async function decideAndApply(
  store: IdentifyStore,
  request: Identifiers,
  rows: LinkedContact[],
  limits: DecisionLimits,
  context: WriteContext,
): Promise<Round> {
  const plan = decide(request, rows, limits);
  if (plan.kind === 'brokenLinks') throw new BrokenLinksError(plan.contactIds);
  if (plan.kind === 'quarantine') throw new GovernanceRestart(true, request);
  if (isNoop(plan)) return { kind: 'done', result: { customer: toCustomer(rows), outcome: 'unchanged' } };
  const attempt = await store.applyPlanIfCurrent(request, rows, plan, context);
  if (attempt.kind === 'applied') {
    return { kind: 'done', result: { customer: toCustomer(rowsAfter(rows, plan, attempt.inserted)), outcome: outcomeOf(plan) } };
  }
  if (attempt.kind === 'blocklistChanged') throw new GovernanceRestart(false);
  return { kind: 'lost', rows: attempt.kind === 'stale' ? attempt.rows : null };
}

function outcomeOf(plan: Plan): IdentifyOutcome {
  if (plan.kind === 'createPrimary') return 'created_primary';
  if (plan.customersJoined > 1) return 'merged';
  if (plan.insert !== null) return 'created_secondary';
  return isNoop(plan) ? 'unchanged' : 'relinked';
}

/**
 * The record of a request a separation narrowed: the customer it was answered with first, then the
 * one it was kept from joining; the field not linked, never its value.
 */
function separatedEvent(separated: SeparatedRequest, answeredId: number): NewEvent {
  return {
    type: 'request.separated',
    customerIds: [answeredId, separated.otherOwnerId],
    detail: { separationId: separated.separation.id, ignored: separated.ignored },
  };
}
