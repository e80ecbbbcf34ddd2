/**
 * `repair`: rewrites the links of the `Contact` table so that I1–I3 hold again, in one
 * transaction: lock, read every live row, plan (`repairPlan.ts`), write the changed rows, check
 * the invariants, and commit only if I1–I3 hold. A dry run does all of it and rolls back.
 */
import type { Database, Queryable } from '../db/database.js';
import { checkInvariants, type InvariantName, type InvariantResult } from '../db/invariants.js';
import { silentProgress, type Progress } from './progress.js';
import { planRepair, type RepairChange, type RepairPlan, type RepairRow } from './repairPlan.js';

/**
 * EXCLUSIVE, not SHARE ROW EXCLUSIVE: both let plain reads (the service's lookups) go on and make
 * writes wait, but SHARE ROW EXCLUSIVE lets `identity_apply_plan` take its `FOR UPDATE` row
 * locks on primaries and then wait for the table while holding them; the repair, updating such a
 * primary, then waits for it, and one of the two dies of a deadlock (tested). EXCLUSIVE stops the
 * service's write at its first row lock, before it reads, so it then decides on the repaired table.
 */
export const LOCK_CONTACTS = 'LOCK TABLE "Contact" IN EXCLUSIVE MODE';

export const DEFAULT_BATCH_SIZE = 10_000;

/** What the repair fixes; I4 (redundant rows) would need rows deleted, which repair never does. */
export const REPAIRED_INVARIANTS: readonly InvariantName[] = ['I1', 'I2', 'I3'];

export interface RepairOptions {
  /** Do everything, then roll back. */
  dryRun?: boolean;
  /** Rows per read and per UPDATE statement. */
  batchSize?: number;
  progress?: Progress;
}

export interface RepairResult {
  plan: RepairPlan;
  /** The invariants as they stand after the changes (all of them, I4 included). */
  invariants: InvariantResult[];
  committed: boolean;
}

/** The plan left I1–I3 broken (a bug); nothing was written. */
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
      await writeChanges(tx, plan.changes, batchSize, progress);
      const invariants = await verify(tx, progress);
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
async function verify(tx: Queryable, progress: Progress): Promise<InvariantResult[]> {
  progress.start('checking', 1);
  const invariants = await checkInvariants(tx);
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

async function writeChanges(tx: Queryable, changes: readonly RepairChange[], batchSize: number, progress: Progress): Promise<void> {
  progress.start('writing fixes', changes.length);
  for (let start = 0; start < changes.length; start += batchSize) {
    const batch = changes.slice(start, start + batchSize);
    await tx.query(
      `UPDATE "Contact" AS c
          SET "linkedId" = u.linked, "linkPrecedence" = u.precedence, "updatedAt" = clock_timestamp()
         FROM unnest($1::int[], $2::int[], $3::text[]) AS u(id, linked, precedence)
        WHERE c."id" = u.id`,
      [batch.map((change) => change.id), batch.map((change) => change.to.linkedId), batch.map((change) => change.to.linkPrecedence)],
    );
    progress.advance(batch.length);
  }
  progress.finish();
}
