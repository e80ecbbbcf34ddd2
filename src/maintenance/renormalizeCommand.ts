/**
 * `repair --renormalize`: moves the table to the rules this process is set to
 * (DEFAULT_PHONE_REGION, EMAIL_CANONICAL_FORM) while the service serves, with progress on stderr
 * and a summary on stdout: counts only, never an email or phone.
 */
import type { Database } from '../db/database.js';
import { governanceStore } from '../db/governanceStore.js';
import { readRecordedRules } from '../db/normalFormStore.js';
import { countLiveRows } from '../db/repairQueries.js';
import { BrokenLinksError } from '../identity/customerGroups.js';
import { describeRules, type NormalFormRules } from '../identity/normalise.js';
import { renormalize, type RenormalizeResult } from '../identity/renormalize.js';
import { formatSeconds, progressOn } from './progress.js';
import type { Streams } from './repairCommand.js';

export interface RenormalizeCommandOptions {
  target: NormalFormRules;
  batchSize: number;
}

/** Exit status 0 when the table is in the target's form; 1 when links must be repaired first. */
export async function runRenormalize(
  db: Database,
  { target, batchSize }: RenormalizeCommandOptions,
  { out, err }: Streams,
): Promise<number> {
  const startedAt = Date.now();
  const from = (await readRecordedRules(db)).rules;
  const progress = progressOn(err);
  progress.start('renormalizing', await countLiveRows(db));
  let reported = 0;
  try {
    const result = await renormalize(governanceStore(db), target, {
      batchSize,
      onBatch: ({ scanned }) => {
        progress.advance(scanned - reported);
        reported = scanned;
      },
    });
    progress.finish();
    out.write(formatRenormalize(from, result, Date.now() - startedAt));
    return 0;
  } catch (error) {
    progress.finish();
    if (!(error instanceof BrokenLinksError)) throw error;
    out.write(
      `renormalize stopped: rows ${error.contactIds.slice(0, 5).join(', ')} have links no rule explains (chains or cycles); ` +
        "run `identity-service repair` with the table's current settings first, then renormalize again (it resumes)\n",
    );
    return 1;
  }
}

export function formatRenormalize(from: NormalFormRules, result: RenormalizeResult, elapsedMs: number): string {
  const count = (value: number) => value.toLocaleString('en-US');
  return [
    `renormalized in ${formatSeconds(elapsedMs)}: from ${describeRules(from)} to ${describeRules(result.rules)}`,
    `  rows read:                          ${count(result.scanned)}`,
    `  rows with a value rewritten:        ${count(result.rewritten)}`,
    `  customers joined into another:      ${count(result.absorbed)}`,
    `  block rules rewritten or merged:    ${count(result.blockRulesRewritten)}`,
    `  rows with a value of no normal form (N2, left as they are): ${count(result.invalid)}`,
    '',
  ].join('\n');
}
