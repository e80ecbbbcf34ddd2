/** `repair [--dry-run]`: runs the repair with progress on stderr and reports what it changed on stdout. */
import type { Database } from '../db/database.js';
import type { InvariantResult } from '../db/invariants.js';
import { formatInvariant } from './checkCommand.js';
import { formatSeconds, progressOn } from './progress.js';
import { repair, RepairFailed, type RepairResult } from './repair.js';
import { CHANGE_REASONS, type ChangeReason, type Link, type RepairChange } from './repairPlan.js';

export interface RepairCommandOptions {
  dryRun: boolean;
  batchSize: number;
}

export interface Streams {
  out: Pick<NodeJS.WritableStream, 'write'>;
  err: NodeJS.WriteStream;
}

/** How many changes a dry run lists. */
const SHOWN_CHANGES = 20;

const REASONS: Record<ChangeReason, string> = {
  demoted: 'primaries demoted: an older row of their customer becomes its primary',
  promoted: 'rows promoted to primary: the oldest of their customer',
  precedence: 'linkPrecedence corrected, link unchanged',
  orphan: 'links to deleted or missing rows re-pointed',
  chain: 'chains flattened: links to secondaries, cycles included',
  relinked: "re-pointed at their customer's new primary",
};

/** Returns the exit status: 0 when the table holds I1–I3 (or would, on a dry run), 1 otherwise. */
export async function runRepair(db: Database, { dryRun, batchSize }: RepairCommandOptions, { out, err }: Streams): Promise<number> {
  const startedAt = Date.now();
  try {
    const result = await repair(db, { dryRun, batchSize, progress: progressOn(err) });
    out.write(formatRepair(result, Date.now() - startedAt));
    return 0;
  } catch (error) {
    if (!(error instanceof RepairFailed)) throw error;
    out.write(`repair failed: ${error.message}\n${error.invariants.map(formatInvariant).join('\n')}\n`);
    return 1;
  }
}

export function formatRepair({ plan: { summary, changes }, invariants, committed }: RepairResult, elapsedMs: number): string {
  const count = (value: number) => value.toLocaleString('en-US');
  const lines = [
    `${count(summary.rows)} live rows, ${count(summary.components)} customers; ${count(summary.changed)} rows ${committed ? 'changed' : 'to change'}`,
    ...CHANGE_REASONS.map((reason) => `  ${count(summary.byReason[reason]).padStart(9)}  ${REASONS[reason]}`),
    redundantRows(invariants),
  ];
  if (!committed && changes.length > 0) {
    lines.push(`first ${Math.min(SHOWN_CHANGES, changes.length)} of ${count(changes.length)} changes (id: linkedId/linkPrecedence before -> after):`);
    lines.push(...changes.slice(0, SHOWN_CHANGES).map(formatChange));
  }
  const elapsed = formatSeconds(elapsedMs);
  lines.push(committed ? `committed in ${elapsed}` : `dry run: rolled back, nothing written (${elapsed})`);
  return `${lines.join('\n')}\n`;
}

function redundantRows(invariants: readonly InvariantResult[]): string {
  const redundant = invariants.find((result) => result.invariant === 'I4')?.count ?? 0;
  return `I4: ${redundant.toLocaleString('en-US')} rows bring no email or phone their customer lacks: reported, not repaired (repair never deletes rows)`;
}

function formatChange({ id, from, to, reason }: RepairChange): string {
  const link = ({ linkedId, linkPrecedence }: Link) => `${linkedId ?? '-'}/${linkPrecedence}`;
  return `  ${String(id).padStart(9)}: ${link(from)} -> ${link(to)} (${reason})`;
}
