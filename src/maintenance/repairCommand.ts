/**
 * `repair [--dry-run]`: runs the repair with progress on stderr and reports what it changed on
 * stdout: counts, and on a dry run the first changes by id — never an email or phone itself.
 */
import type { Database } from '../db/database.js';
import type { InvariantResult } from '../db/invariants.js';
import { formatInvariant } from './checkCommand.js';
import { formatSeconds, progressOn } from './progress.js';
import { repair, RepairFailed, type RepairResult } from './repair.js';
import {
  CHANGE_REASONS,
  type ChangeReason,
  type FieldCounts,
  type InvalidValues,
  type Link,
  type RepairChange,
  type ValueChange,
} from './repairPlan.js';

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

/** How many ids of rows with invalid values the summary names. */
const SHOWN_INVALID = 5;

/** Returns the exit status: 0 when the table holds I1–I3 and N1 (or would, on a dry run), 1 otherwise. */
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

export function formatRepair(
  { plan: { summary, changes, values, invalid }, blocklist, invariants, committed }: RepairResult,
  elapsedMs: number,
): string {
  const count = (value: number) => value.toLocaleString('en-US');
  const lines = [
    `${count(summary.rows)} live rows, ${count(summary.components)} customers; ${count(summary.changed)} rows ${committed ? 'changed' : 'to change'}`,
    ...(blocklist.isEmpty ? [] : [`  (${count(blocklist.rules.length)} block rules: rows that share only blocked values stay apart)`]),
    ...CHANGE_REASONS.map((reason) => `  ${count(summary.byReason[reason]).padStart(9)}  ${REASONS[reason]}`),
    `N1: ${count(summary.normalised.rows)} rows with an email or phone ${committed ? 'put' : 'to put'} in the normal form requests use${byField(summary.normalised)}`,
    invalidValues(summary.invalid, invalid),
    redundantRows(invariants),
    blockedValues(invariants),
  ];
  if (!committed && changes.length > 0) {
    lines.push(
      `first ${Math.min(SHOWN_CHANGES, changes.length)} of ${count(changes.length)} changes (id: linkedId/linkPrecedence before -> after):`,
    );
    lines.push(...changes.slice(0, SHOWN_CHANGES).map(formatChange));
  }
  if (!committed && values.length > 0) {
    lines.push(`first ${Math.min(SHOWN_CHANGES, values.length)} of ${count(values.length)} value changes (id: fields put in normal form):`);
    lines.push(...values.slice(0, SHOWN_CHANGES).map(formatValueChange));
  }
  const elapsed = formatSeconds(elapsedMs);
  lines.push(committed ? `committed in ${elapsed}` : `dry run: rolled back, nothing written (${elapsed})`);
  return `${lines.join('\n')}\n`;
}

/** ` (2 emails, 1 phone)`, or nothing when no row counts. */
function byField({ rows, email, phoneNumber }: FieldCounts, examples = ''): string {
  if (rows === 0) return '';
  const plural = (value: number, noun: string) => `${value.toLocaleString('en-US')} ${noun}${value === 1 ? '' : 's'}`;
  return ` (${plural(email, 'email')}, ${plural(phoneNumber, 'phone')}${examples})`;
}

function invalidValues(counts: FieldCounts, invalid: readonly InvalidValues[]): string {
  const examples =
    invalid.length === 0
      ? ''
      : `; e.g. ids ${invalid
          .slice(0, SHOWN_INVALID)
          .map((row) => row.id)
          .join(', ')}`;
  return `N2: ${counts.rows.toLocaleString('en-US')} rows with an email or phone that has no normal form: reported, left as they are${byField(counts, examples)}`;
}

function redundantRows(invariants: readonly InvariantResult[]): string {
  const redundant = invariants.find((result) => result.invariant === 'I4')?.count ?? 0;
  return `I4: ${redundant.toLocaleString('en-US')} rows bring no email or phone their customer lacks: reported, not repaired (repair never deletes rows)`;
}

function blockedValues(invariants: readonly InvariantResult[]): string {
  const stored = invariants.find((result) => result.invariant === 'I5');
  const examples = stored === undefined || stored.examples.length === 0 ? '' : ` (e.g. ids ${stored.examples.join(', ')})`;
  return `I5: ${(stored?.count ?? 0).toLocaleString('en-US')} rows hold a value blocked before they were created: reported, not repaired (repair never drops values)${examples}`;
}

function formatChange({ id, from, to, reason }: RepairChange): string {
  const link = ({ linkedId, linkPrecedence }: Link) => `${linkedId ?? '-'}/${linkPrecedence}`;
  return `  ${String(id).padStart(9)}: ${link(from)} -> ${link(to)} (${reason})`;
}

function formatValueChange({ id, fields }: ValueChange): string {
  return `  ${String(id).padStart(9)}: ${fields.join(', ')}`;
}
