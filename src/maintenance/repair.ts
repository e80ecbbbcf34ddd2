/**
 * `repair`: puts the emails and phones of the `Contact` table in normal form and rewrites its
 * links so that I1–I3 and N1 hold again, in one transaction: lock (the governance lock, then the
 * table), read the block list and every live row, plan (`repairPlan.ts`), write the changed rows,
 * check the invariants, and commit only if I1–I3 and N1 hold. A dry run does all of it and rolls back.
 */
import type { Database, Queryable } from '../db/database.js';
import { loadBlocklist } from '../db/governanceStore.js';
import { checkInvariants, type InvariantName, type InvariantResult } from '../db/invariants.js';
import { tableNormaliser } from '../db/normalFormStore.js';
import { hasBlocklistTable } from '../db/probes.js';
import { countLiveRows, lockForRepair, readLiveRowsPage, writeRowFixes, type RowFix } from '../db/repairQueries.js';
import { Blocklist } from '../identity/blocklist.js';
import { silentProgress, type Progress } from './progress.js';
import { planRepair, type RepairPlan, type RepairRow } from './repairPlan.js';

export const DEFAULT_BATCH_SIZE = 10_000;

/**
 * What the repair fixes. I4 (redundant rows) would need rows deleted, which repair never does;
 * N2 (values with no normal form) and I5 (values stored after they were blocked) would need a
 * value made up or dropped, which it never does either.
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
  /** The block list the plan was made with: values it blocks connected no rows. */
  blocklist: Blocklist;
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

export async function repair(
  db: Database,
  { dryRun = false, batchSize = DEFAULT_BATCH_SIZE, progress = silentProgress }: RepairOptions = {},
): Promise<RepairResult> {
  try {
    return await db.transaction(async (tx) => {
      await lockForRepair(tx);
      // Under the governance lock: the list cannot change until the repair commits. A table the
      // migrations have not reached yet has none: nothing is blocked.
      const blocklist = (await hasBlocklistTable(tx)) ? await loadBlocklist(tx) : Blocklist.empty();
      // Normal form by the table's recorded rules (migrations/0005): what its requests look up.
      const plan = planRepair(await readLiveRows(tx, batchSize, progress), blocklist, await tableNormaliser(tx));
      await writeChanges(tx, plan, batchSize, progress);
      const invariants = await verify(tx, batchSize, progress);
      if (invariants.some((result) => REPAIRED_INVARIANTS.includes(result.invariant) && result.count > 0)) {
        throw new RepairFailed(invariants);
      }
      const result = { plan, blocklist, invariants, committed: !dryRun };
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

/** Pages through the live rows by id, so that no statement returns the whole table at once. */
async function readLiveRows(tx: Queryable, batchSize: number, progress: Progress): Promise<RepairRow[]> {
  progress.start('reading rows', await countLiveRows(tx));
  const rows: RepairRow[] = [];
  for (let afterId = 0; ;) {
    const page = await readLiveRowsPage(tx, afterId, batchSize);
    rows.push(...page);
    progress.advance(page.length);
    const last = page.at(-1);
    if (last === undefined || page.length < batchSize) break;
    afterId = last.id;
  }
  progress.finish();
  return rows;
}

/** The rows that change, in id order, each once: a row may get a new link and new values. */
function rowFixes({ changes, values }: Pick<RepairPlan, 'changes' | 'values'>): RowFix[] {
  const writes = new Map<number, RowFix>();
  for (const change of changes) writes.set(change.id, { id: change.id, link: change.to });
  for (const change of values) writes.set(change.id, { ...writes.get(change.id), id: change.id, values: change });
  return [...writes.values()].sort((a, b) => a.id - b.id);
}

async function writeChanges(tx: Queryable, plan: RepairPlan, batchSize: number, progress: Progress): Promise<void> {
  const fixes = rowFixes(plan);
  progress.start('writing fixes', fixes.length);
  for (let start = 0; start < fixes.length; start += batchSize) {
    const batch = fixes.slice(start, start + batchSize);
    await writeRowFixes(tx, batch);
    progress.advance(batch.length);
  }
  progress.finish();
}
