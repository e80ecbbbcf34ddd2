/**
 * Checks of the table's invariants over live rows, for the concurrency tests and the operator's
 * `check` and `repair`. I1–I5 are each one set-based SQL statement that runs on PostgreSQL and
 * PGlite alike and scales with the table, not with its square. N1–N2 (stored values in normal
 * form) cannot be SQL, the rules being `normalise.ts`'s: they are one keyset-paged scan of the
 * live rows through that normaliser.
 *
 * Restated for the block list ("BlockedIdentifier", migrations/0004): a blocked value links
 * nothing, so rows that share one may be different customers (I2 ignores it), and it is never
 * stored, so a row holding a value blocked before the row existed was written by something else
 * (I5). Rule matching is `identity_rule_matches`, the SQL twin of `src/identity/blocklist.ts`; the
 * queries below only decide which few values it is asked about, so that a million rows are never
 * matched one by one against every rule. A table the migrations have not reached yet (adopted, with
 * no block list) is checked as before: nothing is blocked.
 */
import type { IdentifierField, Normaliser } from '../identity/normalise.js';
import { IDENTIFIER_FIELDS, judgeStoredValue } from '../identity/storedValues.js';
import type { Queryable } from './database.js';
import { tableNormaliser } from './normalFormStore.js';
import { hasBlocklistTable } from './probes.js';
import { live, ownerOf, rowOrder } from './sql.js';

export type InvariantName = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'N1' | 'N2';

export interface InvariantResult {
  invariant: InvariantName;
  description: string;
  /** How many rows break it. */
  count: number;
  /** Up to five ids of such rows, lowest first. */
  examples: number[];
  /** N1 and N2 only: how many of those rows break it by their email, and by their phone. */
  byField?: Record<IdentifierField, number>;
}

export interface CheckOptions {
  /** Rows per page of the normal-form scan (N1, N2). */
  pageSize?: number;
  /** Told how long each SQL check took (the benchmark prints it). */
  onChecked?: (invariant: InvariantName, milliseconds: number) => void;
}

export const DEFAULT_PAGE_SIZE = 10_000;

const LIVE = `live AS (
  SELECT "id", "email", "phoneNumber", "createdAt", "linkedId", ${ownerOf()} AS owner
    FROM "Contact" WHERE ${live()}
)`;

/**
 * Each query selects the ids of the rows that break one invariant; `offendingIds` is given whether
 * the block list exists, and null means nothing can break it.
 */
const CHECKS: { invariant: InvariantName; description: string; offendingIds: (withBlocklist: boolean) => string | null }[] = [
  {
    invariant: 'I1',
    description: 'a row is neither a primary with no link nor a secondary linked to a live primary',
    offendingIds: () => `
      SELECT c."id" FROM "Contact" c LEFT JOIN "Contact" p ON p."id" = c."linkedId"
       WHERE ${live('c')} AND NOT COALESCE(
         (c."linkPrecedence" = 'primary' AND c."linkedId" IS NULL) OR
         (c."linkPrecedence" = 'secondary' AND p."id" IS NOT NULL AND ${live('p')}
           AND p."linkedId" IS NULL AND p."linkPrecedence" = 'primary'),
         false)`,
  },
  {
    invariant: 'I2',
    description: 'a row shares an unblocked email or phone with a row of another customer',
    // The values held by more than one customer first (a GROUP BY in index order), then only those
    // are matched against the rules: a handful, however many rows and rules there are. MATERIALIZED
    // keeps the planner from matching every row before grouping.
    offendingIds: (withBlocklist) => `
      WITH shared AS MATERIALIZED (
        ${valuesOfSeveralCustomers('email')}
        UNION ALL
        ${valuesOfSeveralCustomers('phoneNumber')}
      ),
      linking AS (
        SELECT s.field, s.value FROM shared AS s
        ${
          withBlocklist
            ? `WHERE NOT EXISTS (SELECT 1 FROM "BlockedIdentifier" AS b
                                  WHERE b."field" = s.field AND identity_rule_matches(b."match", b."value", s.value))`
            : ''
        }
      )
      SELECT "id" FROM "Contact"
       WHERE ${live()} AND ("email" IN (SELECT value FROM linking WHERE field = 'email')
                            OR "phoneNumber" IN (SELECT value FROM linking WHERE field = 'phoneNumber'))`,
  },
  {
    invariant: 'I3',
    description: "a customer's primary is not its oldest row by (createdAt, id)",
    offendingIds: () => `
      WITH ${LIVE},
      oldest AS (SELECT DISTINCT ON (owner) owner, "id" FROM live ORDER BY owner, ${rowOrder()})
      -- Owners that are not live primaries are I1's to report; judging them here would double-count.
      SELECT owner AS "id" FROM oldest
       WHERE "id" <> owner AND owner IN (SELECT "id" FROM live WHERE "linkedId" IS NULL)`,
  },
  {
    invariant: 'I4',
    description: 'a row after the first of its customer (in row order) brings no email or phone the earlier rows lack',
    offendingIds: () => `
      WITH ${LIVE},
      ranked AS (
        SELECT "id", "email", "phoneNumber",
          row_number() OVER (PARTITION BY owner ORDER BY ${rowOrder()}) AS position,
          row_number() OVER (PARTITION BY owner, "email" ORDER BY ${rowOrder()}) AS email_seen,
          row_number() OVER (PARTITION BY owner, "phoneNumber" ORDER BY ${rowOrder()}) AS phone_seen
        FROM live
      )
      SELECT "id" FROM ranked
       WHERE position > 1 AND ("email" IS NULL OR email_seen > 1) AND ("phoneNumber" IS NULL OR phone_seen > 1)`,
  },
  {
    invariant: 'I5',
    description: 'a row holds an email or phone that was blocked before the row was created',
    // Candidates first, each the cheap way: exact values by index, a domain computed once per email
    // and joined, and each field's patterns as one alternation (so a value is matched once, not once
    // per rule; the pattern subset has no backreferences or flags that could make the two differ).
    // An empty block list joins nothing and scans nothing. Only the candidates meet every rule and
    // its creation time. Without a block list table, nothing was ever blocked.
    offendingIds: (withBlocklist) =>
      !withBlocklist
        ? null
        : `
      WITH rules AS MATERIALIZED (SELECT "field", "match", "value", "createdAt" FROM "BlockedIdentifier"),
      patterns AS MATERIALIZED (
        SELECT "field", '(' || string_agg("value", ')|(') || ')' AS alternation, min("createdAt") AS since
          FROM rules WHERE "match" = 'pattern' GROUP BY "field"
      ),
      candidates AS (
        ${exactCandidates('email')}
        UNION ALL
        ${exactCandidates('phoneNumber')}
        UNION ALL
        SELECT c."id", c."createdAt", 'email' AS field, c."email" AS value
          FROM "Contact" AS c JOIN rules AS b ON b."match" = 'domain' AND substring(c."email" FROM '[^@]*$') = b."value"
         WHERE ${live('c')}
        UNION ALL
        ${patternCandidates('email')}
        UNION ALL
        ${patternCandidates('phoneNumber')}
      )
      SELECT DISTINCT h."id" FROM candidates AS h
        JOIN rules AS b ON b."field" = h.field AND b."createdAt" < h."createdAt" AND identity_rule_matches(b."match", b."value", h.value)`,
  },
];

/** The values of `field` that live rows of more than one customer hold, as (field, value). */
function valuesOfSeveralCustomers(field: IdentifierField): string {
  return `SELECT '${field}' AS field, "${field}" AS value FROM "Contact" WHERE ${live()} AND "${field}" IS NOT NULL
           GROUP BY "${field}" HAVING min(${ownerOf()}) <> max(${ownerOf()})`;
}

/** Live rows holding a value an exact rule names (by the field's index), as I5's candidates. */
function exactCandidates(field: IdentifierField): string {
  return `SELECT c."id", c."createdAt", '${field}' AS field, c."${field}" AS value
            FROM "Contact" AS c JOIN rules AS b ON b."match" = 'exact' AND b."field" = '${field}' AND c."${field}" = b."value"
           WHERE ${live('c')}`;
}

/** Live rows, created after the field's oldest pattern rule, whose value matches one of its patterns. */
function patternCandidates(field: IdentifierField): string {
  return `SELECT c."id", c."createdAt", '${field}' AS field, c."${field}" AS value
            FROM "Contact" AS c JOIN patterns AS p ON p."field" = '${field}' AND c."createdAt" > p.since AND c."${field}" ~ p.alternation
           WHERE ${live('c')}`;
}

const EXAMPLES = 5;

export async function checkInvariants(
  db: Queryable,
  { pageSize = DEFAULT_PAGE_SIZE, onChecked }: CheckOptions = {},
): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  const withBlocklist = await hasBlocklistTable(db);
  for (const { invariant, description, offendingIds } of CHECKS) {
    const startedAt = performance.now();
    const query = offendingIds(withBlocklist);
    const rows =
      query === null
        ? []
        : await db.query<{ id: number; total: number }>(
            `SELECT "id", (count(*) OVER ())::int AS total FROM (${query}) AS offending ORDER BY "id" LIMIT ${EXAMPLES}`,
          );
    onChecked?.(invariant, performance.now() - startedAt);
    results.push({ invariant, description, count: rows[0]?.total ?? 0, examples: rows.map((row) => row.id) });
  }
  results.push(...(await checkNormalForm(db, pageSize)));
  return results;
}

export const NORMAL_FORM_DESCRIPTIONS: Record<'N1' | 'N2', string> = {
  N1: "a row's email or phone is not in normal form, so no request finds it",
  N2: "a row's email or phone is invalid: it has no normal form, and repair leaves it as it is",
};

interface StoredIdentifiers {
  id: number;
  email: string | null;
  phoneNumber: string | null;
}

/**
 * N1 and N2: every live row with an email or phone, a page at a time by id (no statement returns
 * the table, no offset rescans it), judged by `judgeStoredValue`. Ids come in ascending order, so
 * the first five found are the lowest.
 */
export async function checkNormalForm(db: Queryable, pageSize = DEFAULT_PAGE_SIZE, normaliser?: Normaliser): Promise<InvariantResult[]> {
  // By default the table's own rules (migrations/0005): "normal" means what its requests look up.
  const rules = normaliser ?? (await tableNormaliser(db));
  const fixable = tally('N1');
  const invalid = tally('N2');
  for (let afterId = 0; ;) {
    const page = await db.query<StoredIdentifiers>(
      `SELECT "id", "email", "phoneNumber" FROM "Contact"
        WHERE ${live()} AND ("email" IS NOT NULL OR "phoneNumber" IS NOT NULL) AND "id" > $1
        ORDER BY "id" LIMIT $2`,
      [afterId, pageSize],
    );
    for (const row of page) {
      let isFixable = false;
      let isInvalid = false;
      for (const field of IDENTIFIER_FIELDS) {
        const { kind } = judgeStoredValue(field, row[field], rules);
        if (kind === 'fixable') {
          fixable.byField[field] += 1;
          isFixable = true;
        } else if (kind === 'invalid') {
          invalid.byField[field] += 1;
          isInvalid = true;
        }
      }
      if (isFixable) count(fixable, row.id);
      if (isInvalid) count(invalid, row.id);
    }
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize) break;
    afterId = last.id;
  }
  return [fixable, invalid];
}

function tally(invariant: 'N1' | 'N2'): InvariantResult & { byField: Record<IdentifierField, number> } {
  return { invariant, description: NORMAL_FORM_DESCRIPTIONS[invariant], count: 0, examples: [], byField: { email: 0, phoneNumber: 0 } };
}

function count(result: InvariantResult, id: number): void {
  result.count += 1;
  if (result.examples.length < EXAMPLES) result.examples.push(id);
}

export function totalViolations(results: readonly InvariantResult[]): number {
  return results.reduce((sum, result) => sum + result.count, 0);
}
