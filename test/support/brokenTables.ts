/**
 * Tables of `Contact` rows written out by hand, broken on purpose (chains, cycles, several
 * primaries, deleted primaries): as in-memory rows for the pure repair plan, or inserted with
 * raw SQL for the repair on a real database. One description serves both.
 */
import type { Queryable } from '../../src/db/database.js';
import type { Precedence, RepairRow } from '../../src/maintenance/repairPlan.js';

export interface RowSpec {
  id: number;
  email?: string | null;
  phone?: string | null;
  linkedId?: number | null;
  /** Defaults to what the link says: 'primary' without one, 'secondary' with one. */
  precedence?: Precedence;
  /** Seconds after 2026-01-01 (default: the id, so rows are as old as their ids say). */
  at?: number;
  deleted?: boolean;
}

const EPOCH_MICROSECONDS = Date.UTC(2026, 0, 1) * 1000;

function normalised(spec: RowSpec) {
  const linkedId = spec.linkedId ?? null;
  return {
    id: spec.id,
    email: spec.email ?? null,
    phoneNumber: spec.phone ?? null,
    linkedId,
    linkPrecedence: spec.precedence ?? (linkedId === null ? 'primary' : 'secondary'),
    at: spec.at ?? spec.id,
    deleted: spec.deleted === true,
  } as const;
}

/** The live rows, as the repair reads them. */
export function liveRows(specs: readonly RowSpec[]): RepairRow[] {
  return specs
    .map(normalised)
    .filter((row) => !row.deleted)
    .map(({ at, deleted, ...row }) => ({ ...row, createdAt: EPOCH_MICROSECONDS + at * 1_000_000 }));
}

/**
 * Inserts the rows with their ids in one statement: the foreign key on `linkedId` is checked at
 * the end of the statement, so rows may link forwards and in cycles.
 */
export async function insertRows(db: Queryable, specs: readonly RowSpec[]): Promise<void> {
  const rows = specs.map(normalised);
  await db.query(
    `INSERT INTO "Contact" ("id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt", "deletedAt")
     SELECT id, email, phone, linked, precedence, created, created, CASE WHEN deleted THEN created END
       FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[], $6::float8[], $7::boolean[])
              AS r(id, email, phone, linked, precedence, seconds, deleted),
            LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => seconds) AS created) AS clock`,
    [
      rows.map((row) => row.id),
      rows.map((row) => row.email),
      rows.map((row) => row.phoneNumber),
      rows.map((row) => row.linkedId),
      rows.map((row) => row.linkPrecedence),
      rows.map((row) => row.at),
      rows.map((row) => row.deleted),
    ],
  );
  await db.query(`SELECT setval(pg_get_serial_sequence('"Contact"', 'id'), (SELECT max("id") FROM "Contact"))`);
}

/**
 * Every row's link, by id, in a form that reads at a glance: 'primary' for a primary without a
 * link, the linkedId for a secondary, `precedence:linkedId` for anything inconsistent.
 */
export async function links(db: Queryable): Promise<Record<number, 'primary' | number | string>> {
  const rows = await db.query<{ id: number; linkedId: number | null; linkPrecedence: string }>(
    'SELECT "id", "linkedId", "linkPrecedence" FROM "Contact" ORDER BY "id"',
  );
  return Object.fromEntries(
    rows.map(({ id, linkedId, linkPrecedence }) => {
      if (linkPrecedence === 'primary' && linkedId === null) return [id, 'primary'];
      if (linkPrecedence === 'secondary' && linkedId !== null) return [id, linkedId];
      return [id, `${linkPrecedence}:${linkedId}`];
    }),
  );
}

/** Each row's `updatedAt`, as text at full precision, by id. */
export async function updatedAts(db: Queryable): Promise<Map<number, string>> {
  const rows = await db.query<{ id: number; updatedAt: string }>(
    'SELECT "id", "updatedAt"::text AS "updatedAt" FROM "Contact" ORDER BY "id"',
  );
  return new Map(rows.map((row) => [row.id, row.updatedAt]));
}
