/**
 * `blocked` and `suspects`: what an operator reads before blocking or unblocking, as a table or,
 * with `--json`, one object for scripts (the admin API's shapes). They read only.
 */
import type { Blocklist } from '../identity/blocklist.js';
import type { GovernanceService } from '../identity/governance.js';
import type { Suspect } from '../identity/store.js';
import { count, formatTable } from './table.js';

type Out = Pick<NodeJS.WritableStream, 'write'>;

export async function runBlocked(governance: GovernanceService, { json = false }: { json?: boolean }, out: Out): Promise<number> {
  const list = await governance.list();
  const rules = list.rules.map(({ id, field, match, value, reason, addedBy, createdAt }) => ({
    id,
    field,
    match,
    value,
    reason,
    addedBy,
    createdAt,
  }));
  out.write(json ? `${JSON.stringify({ version: list.version, rules })}\n` : formatBlocked(list));
  return 0;
}

export function formatBlocked({ version, rules }: Blocklist): string {
  if (rules.length === 0) return `no rules: nothing is blocked (block list version ${version})\n`;
  const table = formatTable(
    [
      { header: 'id', align: 'right' },
      { header: 'field' },
      { header: 'match' },
      { header: 'value' },
      { header: 'reason' },
      { header: 'addedBy' },
      { header: 'createdAt' },
    ],
    rules.map((rule) => [
      String(rule.id),
      rule.field,
      rule.match,
      rule.value,
      rule.reason,
      rule.addedBy,
      new Date(rule.createdAt).toISOString(),
    ]),
  );
  return `${table.join('\n')}\n${count(rules.length)} rule${rules.length === 1 ? '' : 's'} (block list version ${version})\n`;
}

export interface SuspectsOptions {
  /** Values per field. */
  limit: number;
  json?: boolean;
}

export async function runSuspects(governance: GovernanceService, { limit, json = false }: SuspectsOptions, out: Out): Promise<number> {
  const suspects = await governance.suspects(limit);
  out.write(json ? `${JSON.stringify({ suspects })}\n` : formatSuspects(suspects));
  return 0;
}

export function formatSuspects(suspects: readonly Suspect[]): string {
  if (suspects.length === 0) return 'no live row holds an email or a phone\n';
  const table = formatTable(
    [
      { header: 'field' },
      { header: 'value' },
      { header: 'contacts', align: 'right' },
      { header: 'customers', align: 'right' },
      { header: 'largest customer', align: 'right' },
      { header: 'blocked' },
    ],
    suspects.map((suspect) => [
      suspect.field,
      suspect.value,
      count(suspect.contacts),
      count(suspect.customers),
      count(suspect.largestCustomer),
      suspect.blocked ? 'yes' : 'no',
    ]),
  );
  return `${table.join('\n')}\n`;
}
