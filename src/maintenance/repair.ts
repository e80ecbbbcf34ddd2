/**
 * `repair`: puts the emails and phones of the `Contact` table in normal form and rewrites its
 * links so that I1–I3 and N1 hold again, in one transaction: lock, read every live row, plan
 * (`repairPlan.ts`), write the changed rows, check the invariants, and commit only if I1–I3 and
 * N1 hold. A dry run does all of it and rolls back.
 */
import type { Database, Queryable } from '../db/database.js';
import { checkInvariants, type InvariantName, type InvariantResult } from '../db/invariants.js';
import { silentProgress, type Progress } from './progress.js';
import { planRepair, type Link, type RepairPlan, type RepairRow, type ValueChange } from './repairPlan.js';

/**
 * EXCLUSIVE, not SHARE ROW EXCLUSIVE: both let plain reads (the service's lookups) go on and make
 * writes wait, but SHARE ROW EXCLUSIVE lets `identity_apply_plan` take its `FOR UPDATE` row
 * locks on primaries and then wait for the table while holding them; the repair, updating such a
 * primary, then waits for it, and one of the two dies of a deadlock (tested). EXCLUSIVE stops the
 * service's write at its first row lock, before it reads, so it then decides on the repaired table.
 */
export const LOCK_CONTACTS = 'LOCK TABLE "Contact" IN EXCLUSIVE MODE';

export const DEFAULT_BATCH_SIZE = 10_000;

/**
 * What the repair fixes. I4 (redundant rows) would need rows deleted, which repair never does;
 * N2 (values with no normal form) would need a value made up or dropped, which it never does either.
 */
export const REPAIRED_INVARIANTS: readonly InvariantName[] = ['I1', 'I2', 'I3', 'N1'];

export interface RepairOptions {
  /** Do everything, then roll back. */
  dryRun?: boolean;
  /** Rows per read and per UPDATE statement. */
  batchSize?: number;
  progress?: Progress;
}

export interface RepairResult {
  plan: RepairPlan;
  /** The invariants as they stand after the changes (all of them, I4 and N2 included). */
  invariants: InvariantResult[];
  committed: boolean;
}

/** The plan left I1–I3 or N1 broken (a bug); nothing was written. */
export class RepairFailed extends Error {
  override name = 'RepairFailed';
  constructor(readonly invariants: InvariantResult[]) {
    super('invariants still broken after the repair; rolled back, nothing written');
  }
}

/** Carries a dry run's result out of the transaction, which rolls back because it is thrown. */
class DryRunDone extends Error {
  constructor(readonly result: RepairResult) {
    super('dry run');
  }
}

export async function repair(db: Database, { dryRun = false, batchSize = DEFAULT_BATCH_SIZE, progress = silentProgress }: RepairOptions = {}): Promise<RepairResult> {
  try {
    return await db.transaction(async (tx) => {
      await tx.query(LOCK_CONTACTS);
      const plan = planRepair(await readLiveRows(tx, batchSize, progress));
      await writeChanges(tx, plan, batchSize, progress);
      const invariants = await verify(tx, batchSize, progress);
      if (invariants.some((result) => REPAIRED_INVARIANTS.includes(result.invariant) && result.count > 0)) {
        throw new RepairFailed(invariants);
      }
      const result = { plan, invariants, committed: !dryRun };
      if (dryRun) throw new DryRunDone(result);
      return result;
    });
  } catch (error) {
    if (error instanceof DryRunDone) return error.result;
    throw error;
  }
}

/** Seconds on a million rows, so it shows as a phase of its own. */
async function verify(tx: Queryable, pageSize: number, progress: Progress): Promise<InvariantResult[]> {
  progress.start('checking', 1);
  const invariants = await checkInvariants(tx, { pageSize });
  progress.advance(1);
  progress.finish();
  return invariants;
}

interface LiveRow extends Omit<RepairRow, 'createdAt'> {
  /** bigint, which `pg` returns as a string. */
  createdAt: string;
}

/** Pages through the live rows by id, so that no statement returns the whole table at once. */
async function readLiveRows(tx: Queryable, batchSize: number, progress: Progress): Promise<RepairRow[]> {
  const [count] = await tx.query<{ live: number }>('SELECT count(*)::int AS live FROM "Contact" WHERE "deletedAt" IS NULL');
  progress.start('reading rows', count?.live ?? 0);
  const rows: RepairRow[] = [];
  let afterId = 0;
  for (;;) {
    const page = await tx.query<LiveRow>(
      `SELECT "id", "email", "phoneNumber", "linkedId", "linkPrecedence",
              (extract(epoch FROM "createdAt") * 1000000)::bigint AS "createdAt"
         FROM "Contact" WHERE "deletedAt" IS NULL AND "id" > $1 ORDER BY "id" LIMIT $2`,
      [afterId, batchSize],
    );
    for (const row of page) rows.push({ ...row, createdAt: Number(row.createdAt) });
    progress.advance(page.length);
    const last = page.at(-1);
    if (last === undefined || page.length < batchSize) break;
    afterId = last.id;
  }
  progress.finish();
  return rows;
}

/** One row's write: its new link, its normalised values, or both. */
interface RowWrite {
  id: number;
  link?: Link;
  values?: ValueChange;
}

/** The rows that change, in id order, each once: a row may get a new link and new values. */
function rowWrites({ changes, values }: Pick<RepairPlan, 'changes' | 'values'>): RowWrite[] {
  const writes = new Map<number, RowWrite>();
  for (const change of changes) writes.set(change.id, { id: change.id, link: change.to });
  for (const change of values) writes.set(change.id, { ...writes.get(change.id), id: change.id, values: change });
  return [...writes.values()].sort((a, b) => a.id - b.id);
}

/** One statement per batch; a row keeps what the plan does not change (its link, or its values). */
async function writeChanges(tx: Queryable, plan: RepairPlan, batchSize: number, progress: Progress): Promise<void> {
  const writes = rowWrites(plan);
  progress.start('writing fixes', writes.length);
  for (let start = 0; start < writes.length; start += batchSize) {
    const batch = writes.slice(start, start + batchSize);
    await tx.query(
      `UPDATE "Contact" AS c
          SET "linkedId" = CASE WHEN u.relink THEN u.linked ELSE c."linkedId" END,
              "linkPrecedence" = CASE WHEN u.relink THEN u.precedence ELSE c."linkPrecedence" END,
              "email" = CASE WHEN u.normalise THEN u.email ELSE c."email" END,
              "phoneNumber" = CASE WHEN u.normalise THEN u.phone ELSE c."phoneNumber" END,
              "updatedAt" = clock_timestamp()
         FROM unnest($1::int[], $2::boolean[], $3::int[], $4::text[], $5::boolean[], $6::text[], $7::text[])
                AS u(id, relink, linked, precedence, normalise, email, phone)
        WHERE c."id" = u.id`,
      [
        batch.map((write) => write.id),
        batch.map((write) => write.link !== undefined), batch.map((write) => write.link?.linkedId ?? null),
        batch.map((write) => write.link?.linkPrecedence ?? null),
        batch.map((write) => write.values !== undefined), batch.map((write) => write.values?.email ?? null),
        batch.map((write) => write.values?.phoneNumber ?? null),
      ],
    );
    progress.advance(batch.length);
  }
  progress.finish();
}
