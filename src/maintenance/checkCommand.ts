/**
 * `check`: the table's invariants, for an operator (a line per invariant) or a script (`--json`).
 * Only ids and counts are printed, never an email or phone (an operator's terminal or a CI log is
 * no place for personal data).
 */
import type { Queryable } from '../db/database.js';
import { checkInvariants, totalViolations, type InvariantResult } from '../db/invariants.js';

export interface CheckOptions {
  json?: boolean;
}

/** Prints the report and returns the exit status: 0 when every invariant holds, 1 otherwise. */
export async function runCheck(db: Queryable, { json = false }: CheckOptions, out: Pick<NodeJS.WritableStream, 'write'>): Promise<number> {
  const results = await checkInvariants(db);
  const violations = totalViolations(results);
  out.write(json ? `${JSON.stringify({ ok: violations === 0, violations, invariants: results })}\n` : formatCheck(results));
  return violations === 0 ? 0 : 1;
}

export function formatCheck(results: readonly InvariantResult[]): string {
  const violations = totalViolations(results);
  const verdict =
    violations === 0
      ? 'all invariants hold'
      : `${violations.toLocaleString('en-US')} violations; \`repair --dry-run\` shows what repair would change (I1–I3, N1)`;
  return `${HEADER}\n${results.map(formatInvariant).join('\n')}\n${verdict}\n`;
}

const COUNT_WIDTH = 9;
/** Over the count and description columns of `formatInvariant`'s lines. */
const HEADER = `${' '.repeat('I1  FAIL  '.length)}${'rows'.padStart(COUNT_WIDTH)}  breaking it means`;

/**
 * `I2  FAIL          3  a row shares … customer (e.g. ids 1, 2, 5)`: name, status, count, what it
 * means; N1 and N2 say how many of the rows are so by their email and by their phone
 * (`(1 email, 2 phones; e.g. ids 4, 9)`).
 */
export function formatInvariant({ invariant, description, count, examples, byField }: InvariantResult): string {
  const status = count === 0 ? 'ok  ' : 'FAIL';
  const details: string[] = [];
  if (byField !== undefined && count > 0) details.push(`${plural(byField.email, 'email')}, ${plural(byField.phoneNumber, 'phone')}`);
  if (examples.length > 0) details.push(`e.g. ids ${examples.join(', ')}`);
  const suffix = details.length === 0 ? '' : ` (${details.join('; ')})`;
  return `${invariant}  ${status}  ${count.toLocaleString('en-US').padStart(COUNT_WIDTH)}  ${description}${suffix}`;
}

function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}
