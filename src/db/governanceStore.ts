/**
 * The governance use cases' SQL: the block list, the governance lock, the rows and merges a
 * regroup works on, its writes (`identity_apply_regroup`, migrations/0004), and the suspects
 * report.
 */
import { CURRENT_BLOCKLIST_VERSION } from './identifyStore.js';
import { Blocklist, type BlockRule, type BlockRuleSpec } from '../identity/blocklist.js';
import { InvalidRuleError } from '../identity/governance.js';
import type { Identifiers, LinkedContact } from '../identity/contact.js';
import type { MergeRecord } from '../identity/linkGraph.js';
import type { RowWrite } from '../identity/regroup.js';
import type { GovernanceState, GovernanceStore, GovernanceTransaction, NewEvent } from '../identity/store.js';
import type { Database, Queryable } from './database.js';
import { eraseValues, rowsToErase } from './erasureQueries.js';
import { parseRules, recordRenormalizing, recordRules } from './normalFormStore.js';
import { rewriteRuleValues, rewriteValues, rowsOfCustomersHolding } from './renormalizeQueries.js';
import { readLiveRowsPage } from './repairQueries.js';
import { live, liveRowsOfOwners, ownerOf } from './sql.js';
import { suspects } from './suspectsQuery.js';
import { NOT_UNMERGED, SEPARATIONS_JSON, separationOf, unmergeQueries, type SeparationRow } from './unmergeQueries.js';
import { Separations } from '../identity/separations.js';
import type { UnmergeStore } from '../identity/unmerge.js';

/** The advisory lock every /identify write takes shared and every regroup exclusively (migrations/0004). */
export const GOVERNANCE_LOCK_KEY = 727_143_002;

const INVALID_REGULAR_EXPRESSION = '2201B';

const RULE_COLUMNS = '"id", "field", "match", "value", "reason", "addedBy", "createdAt"';

/** The rules and their version from one statement, so one snapshot: a version never labels other rules. */
export async function loadBlocklist(db: Queryable): Promise<Blocklist> {
  return (await loadGovernanceState(db)).blocklist;
}

/** The block list and the table's normal-form rules, in one statement. */
export async function loadGovernanceState(db: Queryable): Promise<GovernanceState> {
  const rows = await db.query<
    { version: number; phoneRegion: string | null; emailCanonicalForm: string; separations: SeparationRow[] } & {
      [Key in keyof BlockRule]: BlockRule[Key] | null;
    }
  >(
    `SELECT g."blocklistVersion"::int AS version, g."phoneRegion", g."emailCanonicalForm",
            ${RULE_COLUMNS.replace(/"(\w+)"/g, 'b."$1"')},
            ${SEPARATIONS_JSON} AS separations
       FROM "IdentityGovernance" AS g LEFT JOIN "BlockedIdentifier" AS b ON true ORDER BY b."id"`,
  );
  const [first] = rows;
  if (first === undefined) throw new Error('"IdentityGovernance" has no row: the migrations did not run');
  const rules = rows.filter((row): row is typeof row & BlockRule => row.id !== null);
  return { blocklist: new Blocklist(first.version, rules, new Separations(first.separations.map(separationOf))), rules: parseRules(first) };
}

const bumpVersion = (tx: Queryable) => tx.query('UPDATE "IdentityGovernance" SET "blocklistVersion" = "blocklistVersion" + 1');

export async function addRule(tx: Queryable, spec: BlockRuleSpec, reason: string, addedBy: string): Promise<BlockRule | null> {
  // PostgreSQL's own regex engine must read the pattern too: `check` matches with it.
  if (spec.match === 'pattern') {
    await tx.query(`SELECT '' ~ $1`, [spec.value]).catch((error: unknown) => {
      throw (error as { code?: string }).code === INVALID_REGULAR_EXPRESSION
        ? new InvalidRuleError('the pattern is not a regular expression PostgreSQL can read.')
        : error;
    });
  }
  const [rule] = await tx.query<BlockRule>(
    `INSERT INTO "BlockedIdentifier" ("field", "match", "value", "reason", "addedBy") VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT ("field", "match", "value") DO NOTHING RETURNING ${RULE_COLUMNS}`,
    [spec.field, spec.match, spec.value, reason, addedBy],
  );
  if (rule === undefined) return null;
  await bumpVersion(tx);
  return rule;
}

async function removeRule(tx: Queryable, id: number): Promise<BlockRule | null> {
  const [rule] = await tx.query<BlockRule>(`DELETE FROM "BlockedIdentifier" WHERE "id" = $1 RETURNING ${RULE_COLUMNS}`, [id]);
  if (rule === undefined) return null;
  await bumpVersion(tx);
  return rule;
}

/** A condition on `column` that holds where `rule` matches; exact values use the index. */
function ruleCondition(column: string, rule: BlockRuleSpec, parameter: string): string {
  if (rule.match === 'exact') return `${column} = ${parameter}`;
  if (rule.match === 'domain') return `substring(${column} FROM '[^@]*$') = ${parameter}`;
  return `${column} ~ ${parameter}`;
}

const quoted = (field: BlockRuleSpec['field']) => `"${field}"`;

async function rowsOfCustomersMatching(tx: Queryable, rule: BlockRuleSpec, viaMerges: boolean): Promise<LinkedContact[]> {
  const column = quoted(rule.field);
  const mergeIdentifiers = (field: BlockRuleSpec['field']) =>
    `SELECT ${ownerOf()} AS owner FROM "Contact" WHERE $2 AND ${live()} AND ${quoted(field)} IN (
       SELECT ${quoted(field)} FROM "ContactEvent" WHERE "type" = 'customer.merged' AND ${ruleCondition(column, rule, '$1')})`;
  return tx.query<LinkedContact>(
    liveRowsOfOwners(
      `SELECT ${ownerOf()} AS owner FROM "Contact" WHERE ${live()} AND ${ruleCondition(column, rule, '$1')}
       UNION ${mergeIdentifiers('email')}
       UNION ${mergeIdentifiers('phoneNumber')}`,
    ),
    [rule.value, viaMerges],
  );
}

async function mergesOf(tx: Queryable, contactIds: readonly number[]): Promise<MergeRecord[]> {
  const merges = await tx.query<{ eventId: string; email: string | null; phoneNumber: string | null }>(
    `SELECT "id" AS "eventId", "email", "phoneNumber" FROM "ContactEvent"
      WHERE "type" = 'customer.merged' AND "customerIds" && $1::int[] AND ${NOT_UNMERGED('"ContactEvent"')} ORDER BY "id"`,
    [contactIds],
  );
  return merges.map((merge) => ({ ...merge, eventId: Number(merge.eventId) }));
}

async function findCustomers(tx: Queryable, request: Identifiers): Promise<LinkedContact[]> {
  return tx.query<LinkedContact>(
    'SELECT "id", "email", "phoneNumber", "linkedId", "linkPrecedence" FROM identity_customer_rows($1::text, $2::text)',
    [request.email, request.phoneNumber],
  );
}

/** Every live row of the customers (afterwards) of these contacts gets the list's current version. */
export async function markGoverned(tx: Queryable, contactIds: readonly number[]): Promise<void> {
  if (contactIds.length === 0) return;
  await tx.query(
    `WITH owners AS (SELECT DISTINCT COALESCE("linkedId", "id") AS owner FROM "Contact" WHERE "id" = ANY($1::int[]))
     UPDATE "Contact" SET "governedAt" = ${CURRENT_BLOCKLIST_VERSION}
      WHERE ${live()} AND ("id" IN (SELECT owner FROM owners) OR "linkedId" IN (SELECT owner FROM owners))`,
    [contactIds],
  );
}

async function applyRegroup(tx: Queryable, writes: readonly RowWrite[], events: readonly NewEvent[], requestId: string | null) {
  await tx.query('SELECT identity_apply_regroup($1::int[], $2::int[], $3::jsonb, $4::text)', [
    writes.map((write) => write.id),
    writes.map((write) => write.linkedId ?? 0),
    JSON.stringify(events),
    requestId,
  ]);
}

function transactionOn(tx: Queryable): GovernanceTransaction {
  return {
    loadBlocklist: () => loadBlocklist(tx),
    addRule: (spec, reason, addedBy) => addRule(tx, spec, reason, addedBy),
    removeRule: (id) => removeRule(tx, id),
    rowsOfCustomersMatching: (rule, { viaMerges }) => rowsOfCustomersMatching(tx, rule, viaMerges),
    findCustomers: (request) => findCustomers(tx, request),
    mergesOf: (contactIds) => mergesOf(tx, contactIds),
    markGoverned: (contactIds) => markGoverned(tx, contactIds),
    applyRegroup: (writes, events, requestId) => applyRegroup(tx, writes, events, requestId),
    liveRowsPage: (afterId, limit) => readLiveRowsPage(tx, afterId, limit),
    rewriteValues: (changes) => rewriteValues(tx, changes),
    rowsOfCustomersHolding: (contactIds, values) => rowsOfCustomersHolding(tx, contactIds, values),
    rewriteRuleValues: (changes, dropIds) => rewriteRuleValues(tx, changes, dropIds),
    recordRenormalizing: (target) => recordRenormalizing(tx, target),
    recordRules: (rules) => recordRules(tx, rules),
    rowsToErase: (target) => rowsToErase(tx, target),
    eraseValues: (scrubs, emails, phones) => eraseValues(tx, scrubs, emails, phones),
  };
}

export function governanceStore(db: Database): GovernanceStore {
  return {
    loadBlocklist: () => loadBlocklist(db),
    loadState: () => loadGovernanceState(db),
    exclusive: (work) =>
      db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [GOVERNANCE_LOCK_KEY]);
        return work(transactionOn(tx));
      }),
    // suspectsQuery.ts: sized by index, seconds on a million rows.
    suspects: (limit) => suspects(db, limit),
  };
}

/** The unmerge's store: the governance transaction, and the queries of unmergeQueries.ts. */
export function unmergeStore(db: Database): UnmergeStore {
  return {
    loadBlocklist: () => loadBlocklist(db),
    exclusive: (work) =>
      db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [GOVERNANCE_LOCK_KEY]);
        return work({ ...transactionOn(tx), ...unmergeQueries(tx, bumpVersion) });
      }),
  };
}
