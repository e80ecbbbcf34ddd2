/**
 * The identify use case's store: a read and, for a write, one more statement, each one round trip.
 * Their bodies live in the migrations (identity_apply_plan: 0011; identity_apply_plans, the writes
 * of several requests at a time: 0013, written together since 0014) so that the locking protocol
 * is written once, next to the schema it protects. Every statement inside is an index lookup on
 * live rows (email, phoneNumber, linkedId or the primary key), so its cost grows with the customers
 * involved, never with the table.
 */
import type { Identifiers, LinkedContact } from '../identity/contact.js';
import type { Plan } from '../identity/reconcile.js';
import type { CustomersRead, IdentifyStore, NewEvent, PlanAttempt, WriteContext } from '../identity/store.js';
import type { Database, Queryable } from './database.js';
import { isRetryable } from './errors.js';
import { attemptOf, linkedContact, type AttemptRow } from './attemptRows.js';
import { batchedPlans, type PlanArguments } from './planBatch.js';
import { batchedLookups } from './lookupBatch.js';

const LINK_COLUMNS = '"id", "email", "phoneNumber", "linkedId", "linkPrecedence"';

/** How a primary's null `linkedId` travels in an int[]; `identity_apply_plan` reads it back the same way. */
const NO_LINK = 0;

/**
 * Every live row of every customer owning the email or the phone, in row order, each with the
 * block list version that last concerned its customer (`governedAt`, migrations/0009). One
 * statement, so one snapshot: the answer of the read-only path is consistent without a transaction.
 */
export const FIND_CUSTOMERS_SQL = `SELECT ${LINK_COLUMNS}, "governedAt" FROM identity_governed_rows($1::text, $2::text)`;

/**
 * The same rows, each also carrying the block list's version read in the same snapshot (an
 * InitPlan over a one-row table): for the requests the stamps cannot vouch for, those with a
 * value the process's list ignores. It costs about 7% of the database's lookup throughput, which
 * is why the other lookups go without it. No rows, no version: that request creates a customer,
 * and the write that follows checks the version itself.
 */
/** The block list's version now: one expression for every statement that reads or stamps it. */
export const CURRENT_BLOCKLIST_VERSION = '(SELECT "blocklistVersion" FROM "IdentityGovernance")::int';

export const FIND_CUSTOMERS_VERSIONED_SQL = `
  SELECT ${CURRENT_BLOCKLIST_VERSION} AS "blocklistVersion",
         r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence", r."governedAt"
    FROM identity_governed_rows($1::text, $2::text) AS r`;

type StampedRow = LinkedContact & { governedAt: number; blocklistVersion?: number };

type Lookup = (request: Identifiers) => Promise<StampedRow[]>;

async function findCustomers(db: Queryable, lookup: Lookup, request: Identifiers, withBlocklistVersion: boolean): Promise<CustomersRead> {
  const result = withBlocklistVersion
    ? await db.query<StampedRow>(FIND_CUSTOMERS_VERSIONED_SQL, [request.email, request.phoneNumber])
    : await lookup(request);
  let governedAt = 0;
  for (const row of result) if (row.governedAt > governedAt) governedAt = row.governedAt;
  return { rows: result.map(linkedContact), blocklistVersion: result[0]?.blocklistVersion ?? null, governedAt };
}

export const APPLY_PLAN_SQL =
  'SELECT * FROM identity_apply_plan($1::text, $2::text, $3::int[], $4::int[], $5::int[], $6::int, $7::boolean, $8::int[], $9::boolean, $10::bigint, $11::text, $12::boolean)';

/** identity_apply_plan's arguments for `plan`, decided on `decidedOn`. */
function planArguments(request: Identifiers, decidedOn: readonly LinkedContact[], plan: Plan, context: WriteContext): PlanArguments {
  const update = plan.kind === 'update' ? plan : null;
  return [
    request.email,
    request.phoneNumber,
    decidedOn.map((row) => row.id),
    decidedOn.map((row) => row.linkedId ?? NO_LINK),
    update?.lockIds ?? [],
    update?.survivorId ?? null,
    update?.promote ?? false,
    update?.relinkIds ?? [],
    plan.insert !== null,
    context.blocklistVersion,
    context.requestId,
  ];
}

/**
 * Carries out a plan in one statement, if the customers are still as they were read; otherwise
 * reports how they are now. See the function's comment for the locks.
 */
async function applyPlanIfCurrent(db: Queryable, plan: PlanArguments, eventLog: boolean): Promise<PlanAttempt> {
  return attemptOf(await db.query<AttemptRow>(APPLY_PLAN_SQL, [...plan, eventLog]));
}

/** /identify's two batched statements: the read every request makes, and the plans' write. */
export type BatchedStatement = 'read' | 'write';

export interface IdentifyStoreOptions {
  /** Log every change in "ContactEvent" (default); off only for the bench's baseline. */
  eventLog?: boolean;
  /** Told of every batched statement sent outside a transaction: which, how many requests it served, its seconds. */
  onBatch?: (statement: BatchedStatement, requests: number, seconds: number) => void;
}

/**
 * The identify store over `db`. Its attempts run under READ COMMITTED (the protocol needs it);
 * inside `transaction` they share one transaction, whose locks last until commit.
 */
export function identifyStore(db: Database, { eventLog = true, onBatch }: IdentifyStoreOptions = {}): IdentifyStore {
  const observe = (statement: BatchedStatement) =>
    onBatch && ((requests: number, seconds: number) => onBatch(statement, requests, seconds));
  const plans = batchedPlans(db.readCommitted, (plan) => applyPlanIfCurrent(db.readCommitted, plan, eventLog), eventLog, observe('write'));
  return storeOn(db, batchedLookups<StampedRow>(db, FIND_CUSTOMERS_SQL, observe('read')), eventLog, plans);
}

/** `attempt`: carries out one plan's arguments; batched outside a transaction (planBatch.ts), one by one inside. */
function storeOn(db: Database, lookup: Lookup, eventLog: boolean, attempt: (plan: PlanArguments) => Promise<PlanAttempt>): IdentifyStore {
  return {
    findCustomers: (request, withBlocklistVersion) => findCustomers(db, lookup, request, withBlocklistVersion),
    blocklistVersion: async () => (await db.query<{ version: number }>(`SELECT ${CURRENT_BLOCKLIST_VERSION} AS version`))[0]?.version ?? 0,
    applyPlanIfCurrent: (request, decidedOn, plan, context) => attempt(planArguments(request, decidedOn, plan, context)),
    transaction: (work) => db.transaction((tx) => work(storeOn(db, lookup, eventLog, (plan) => applyPlanIfCurrent(tx, plan, eventLog)))),
    isRetryable,
    ...(eventLog ? { recordEvent: (event, requestId) => recordEvent(db, event, requestId) } : {}),
  };
}

/** One event, in its own statement: what a request was answered with when a separation applied (nothing else changed). */
async function recordEvent(db: Queryable, event: NewEvent, requestId: string | null): Promise<void> {
  await db.query(
    `INSERT INTO "ContactEvent" ("requestId", "type", "customerIds", "contactIds", "detail") VALUES ($1, $2, $3::int[], $4::int[], $5::jsonb)`,
    [requestId, event.type, event.customerIds, event.contactIds ?? [], JSON.stringify(event.detail ?? {})],
  );
}
