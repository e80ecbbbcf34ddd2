/**
 * The identify store with the event log on, for the history suites, until src/db/identifyStore.ts
 * calls `identity_apply_plan` version 3 itself (migrations/0004 replaced version 2; that store is
 * being changed on main). The same statements as that store, with version 3's three extra
 * arguments: no block-list check (null), the request id the test says, and logging on. So the
 * events these tests read are written by the migration's own SQL, in the transaction of the change.
 */
import type { Database, Queryable } from '../../src/db/database.js';
import { identifyStore } from '../../src/db/identifyStore.js';
import type { Identifiers, LinkedContact } from '../../src/identity/contact.js';
import type { Plan } from '../../src/identity/reconcile.js';
import type { IdentifyStore, PlanAttempt } from '../../src/identity/store.js';

const APPLY_PLAN_V3_SQL =
  'SELECT * FROM identity_apply_plan($1::text, $2::text, $3::int[], $4::int[], $5::int[], $6::int, $7::boolean, $8::int[], $9::boolean, NULL::bigint, $10::text, true)';

type AttemptRow = { applied: boolean } & { [Key in keyof LinkedContact]: LinkedContact[Key] | null };

/** `requestId()` is read as each plan is applied: what the event's "requestId" will say. */
export function loggingIdentifyStore(db: Database, requestId: () => string | null): IdentifyStore {
  const plain = identifyStore(db);
  const storeOn = (attempts: Queryable): IdentifyStore => ({
    findCustomers: (request) => plain.findCustomers(request),
    applyPlanIfCurrent: (request, decidedOn, plan) => applyPlan(attempts, request, decidedOn, plan, requestId()),
    transaction: (work) => db.transaction((tx) => work(storeOn(tx))),
    isRetryable: (error) => plain.isRetryable(error),
  });
  return storeOn(db.readCommitted);
}

async function applyPlan(
  db: Queryable,
  request: Identifiers,
  decidedOn: readonly LinkedContact[],
  plan: Plan,
  requestId: string | null,
): Promise<PlanAttempt> {
  const update = plan.kind === 'update' ? plan : null;
  const result = await db.query<AttemptRow>(APPLY_PLAN_V3_SQL, [
    request.email,
    request.phoneNumber,
    decidedOn.map((row) => row.id),
    decidedOn.map((row) => row.linkedId ?? 0),
    update?.lockIds ?? [],
    update?.survivorId ?? null,
    update?.promote ?? false,
    update?.relinkIds ?? [],
    plan.insert !== null,
    requestId,
  ]);
  const [first] = result;
  if (first?.applied) return { kind: 'applied', inserted: first.id === null ? null : row(first) };
  if (first !== undefined && first.id === null) return { kind: 'outOfOrder' };
  return { kind: 'stale', rows: result.map(row) };
}

function row({ id, email, phoneNumber, linkedId, linkPrecedence }: AttemptRow): LinkedContact {
  if (id === null || linkPrecedence === null) throw new Error('identity_apply_plan returned a row without an id');
  return { id, email, phoneNumber, linkedId, linkPrecedence };
}
