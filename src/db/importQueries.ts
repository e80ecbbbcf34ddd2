/**
 * The import's SQL (`maintenance/import.ts`): per chunk, under the repair's locks, the live rows and
 * logged merges of every customer holding one of the chunk's values; ids from the table's sequence;
 * the rows inserted, relinked and made redundant, the events, and the checkpoint — one transaction.
 * Multi-row statements over `unnest` of arrays: one round trip each, on PostgreSQL and PGlite.
 */
import type { ExistingRow, LoggedMerge } from '../identity/replay.js';
import type { NewEvent } from '../identity/store.js';
import type { Queryable } from './database.js';
import { live, ownerOf } from './sql.js';
import { NOT_UNMERGED } from './unmergeQueries.js';

export { lockForRepair as lockForImport } from './repairQueries.js';

/**
 * Brings the planner's statistics up to date, inside the chunk's transaction (it holds the table
 * lock, so autovacuum cannot analyze while the import runs; a table that grew from empty would
 * still look empty, and the chunk's lookups would scan it whole).
 */
export async function analyzeForImport(tx: Queryable): Promise<void> {
  await tx.query('ANALYZE "Contact"');
  await tx.query('ANALYZE "ContactEvent"');
}

/** Every live row of every customer holding one of these emails or phones (one index probe each); createdAt in microseconds. */
export async function readCustomersHolding(tx: Queryable, emails: readonly string[], phones: readonly string[]): Promise<ExistingRow[]> {
  const columns = `c."id", c."email", c."phoneNumber", c."linkedId", c."linkPrecedence",
                   (extract(epoch FROM c."createdAt") * 1000000)::bigint AS "createdAt"`;
  const rows = await tx.query<Omit<ExistingRow, 'createdAt'> & { createdAt: string }>(
    `WITH owners AS (
       SELECT ${ownerOf('c')} AS owner FROM unnest($1::text[]) AS v(email) JOIN "Contact" AS c ON c."email" = v.email AND ${live('c')}
       UNION
       SELECT ${ownerOf('c')} FROM unnest($2::text[]) AS v(phone) JOIN "Contact" AS c ON c."phoneNumber" = v.phone AND ${live('c')})
     SELECT ${columns} FROM owners AS o JOIN "Contact" AS c ON c."id" = o.owner AND ${live('c')}
     UNION ALL
     SELECT ${columns} FROM owners AS o JOIN "Contact" AS c ON c."linkedId" = o.owner AND ${live('c')}`,
    [emails, phones],
  );
  return rows.map((row) => ({ ...row, createdAt: Number(row.createdAt) }));
}

/**
 * The logged merges (not undone) of these contacts' customers that carried two values: each a
 * checkout at its time — the historical one an import recorded (`detail.checkoutAt`), else when it was logged.
 */
export async function readLoggedMerges(tx: Queryable, contactIds: readonly number[], identifyOrder: number): Promise<LoggedMerge[]> {
  if (contactIds.length === 0) return [];
  const merges = await tx.query<{ email: string; phoneNumber: string; at: string; order: string | null }>(
    `SELECT e."email", e."phoneNumber",
            COALESCE((e."detail"->>'checkoutAt')::bigint, (extract(epoch FROM e."at") * 1000000)::bigint) AS "at",
            COALESCE(e."detail"->>'reservedId', e."detail"->>'contactId') AS "order"
       FROM "ContactEvent" AS e
      WHERE e."type" = 'customer.merged' AND e."customerIds" && $1::int[]
        AND e."email" IS NOT NULL AND e."phoneNumber" IS NOT NULL AND ${NOT_UNMERGED('e')}`,
    [contactIds],
  );
  return merges.map((merge) => ({ ...merge, at: Number(merge.at), order: merge.order === null ? identifyOrder : Number(merge.order) }));
}

/**
 * `count` consecutive ids from the table's own sequence: the first. Under the import's table lock
 * nothing else takes ids meanwhile (inserts wait for the lock), so the block is the import's.
 */
export async function reserveContactIds(tx: Queryable, count: number): Promise<number> {
  const [row] = await tx.query<{ base: string }>(
    `WITH first AS (SELECT nextval(pg_get_serial_sequence('"Contact"', 'id')) AS base)
     SELECT base, setval(pg_get_serial_sequence('"Contact"', 'id'), base + GREATEST($1::bigint, 1) - 1) FROM first`,
    [count],
  );
  return Number(row?.base);
}

export interface ImportedRow {
  id: number;
  email: string | null;
  phoneNumber: string | null;
  linkedId: number | null;
  /** ISO 8601 with microseconds: the checkout's own time. */
  createdAt: string;
}

export async function insertImportedRows(tx: Queryable, rows: readonly ImportedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
     SELECT r.id, r.email, r.phone, r.linked, CASE WHEN r.linked IS NULL THEN 'primary' ELSE 'secondary' END,
            r.created::timestamptz, clock_timestamp()
       FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[]) AS r(id, email, phone, linked, created)`,
    [
      rows.map((row) => row.id),
      rows.map((row) => row.email),
      rows.map((row) => row.phoneNumber),
      rows.map((row) => row.linkedId),
      rows.map((row) => row.createdAt),
    ],
  );
}

/** An existing row's place afterwards; `redundant`: soft-deleted too. */
export interface RowPlacement {
  id: number;
  linkedId: number | null;
  redundant: boolean;
}

/** Writes the places; deleted rows linked to a row that stops being a primary follow it (as a regroup does). */
export async function placeExistingRows(tx: Queryable, placements: readonly RowPlacement[]): Promise<void> {
  if (placements.length === 0) return;
  await tx.query(
    `WITH w AS (SELECT * FROM unnest($1::int[], $2::int[], $3::boolean[]) AS w(id, linked, redundant)),
          moved AS (
            UPDATE "Contact" AS c
               SET "linkedId" = w.linked,
                   "linkPrecedence" = CASE WHEN w.linked IS NULL THEN 'primary' ELSE 'secondary' END,
                   "deletedAt" = CASE WHEN w.redundant THEN clock_timestamp() ELSE c."deletedAt" END,
                   "updatedAt" = clock_timestamp()
              FROM w WHERE c."id" = w.id
            RETURNING c."id")
     UPDATE "Contact" AS c SET "linkedId" = w.linked, "updatedAt" = clock_timestamp()
       FROM w
      WHERE c."deletedAt" IS NOT NULL AND c."linkedId" = w.id AND w.linked IS NOT NULL`,
    [placements.map((p) => p.id), placements.map((p) => p.linkedId), placements.map((p) => p.redundant)],
  );
}

/** An event with the merge's two values (what the link graph reads), for a checkout that joined customers without a row. */
export interface ImportEvent extends NewEvent {
  email?: string | null;
  phoneNumber?: string | null;
}

export async function appendImportEvents(tx: Queryable, events: readonly ImportEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO "ContactEvent" ("at", "type", "customerIds", "contactIds", "email", "phoneNumber", "detail")
     SELECT clock_timestamp(), e->>'type',
            ARRAY(SELECT jsonb_array_elements_text(e->'customerIds')::int),
            ARRAY(SELECT jsonb_array_elements_text(COALESCE(e->'contactIds', '[]'))::int),
            e->>'email', e->>'phoneNumber', COALESCE(e->'detail', '{}')
       FROM jsonb_array_elements($1::jsonb) AS e`,
    [JSON.stringify(events)],
  );
}

export interface ImportRun {
  chunks: number;
  idBase: number;
  chunksDone: number;
  counts: Record<string, number>;
  startedAt: Date;
  finishedAt: Date | null;
}

export async function readImportRun(db: Queryable, digest: string): Promise<ImportRun | null> {
  const [run] = await db.query<ImportRun>(
    `SELECT "chunks", "idBase"::float8 AS "idBase", "chunksDone", "counts", "startedAt", "finishedAt" FROM "ImportRun" WHERE "digest" = $1`,
    [digest],
  );
  return run ?? null;
}

/** Records a new run and reserves its ids (under the import's locks); the run as it now stands. */
export async function startImportRun(tx: Queryable, digest: string, chunks: number, checkouts: number): Promise<ImportRun> {
  const existing = await readImportRun(tx, digest);
  if (existing !== null) return existing;
  const idBase = await reserveContactIds(tx, checkouts);
  await tx.query(`INSERT INTO "ImportRun" ("digest", "chunks", "idBase") VALUES ($1, $2, $3)`, [digest, chunks, idBase]);
  return (await readImportRun(tx, digest)) as ImportRun;
}

/** In the chunk's transaction: one more chunk done, and the counts of every chunk done so far. */
export async function advanceImportRun(tx: Queryable, digest: string, counts: Record<string, number>, finished: boolean): Promise<void> {
  await tx.query(
    `UPDATE "ImportRun"
        SET "chunksDone" = "chunksDone" + 1, "counts" = $2::jsonb, "updatedAt" = clock_timestamp(),
            "finishedAt" = CASE WHEN $3::boolean THEN clock_timestamp() END
      WHERE "digest" = $1`,
    [digest, JSON.stringify(counts), finished],
  );
}

/** Whether migrations/0010 ran. */
export async function hasImportRunTable(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ found: boolean }>(`SELECT to_regclass('"ImportRun"') IS NOT NULL AS found`);
  return row?.found ?? false;
}

/** A run with nothing to import is finished at once. */
export async function finishImportRun(db: Queryable, digest: string): Promise<void> {
  await db.query(`UPDATE "ImportRun" SET "finishedAt" = clock_timestamp(), "updatedAt" = clock_timestamp() WHERE "digest" = $1`, [digest]);
}
