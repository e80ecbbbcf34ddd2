/**
 * The history view's SQL: which events are a customer's, a page of them, how much of the
 * customer they account for, and its logged merges. Each is one read-only statement.
 *
 * An event names the primaries it concerns ("customerIds") and the rows it created or moved
 * ("contactIds"), both GIN-indexed. A customer's events are those naming one of its live rows (so a
 * row split off into a customer of its own keeps its creation), and those naming an id its history
 * went by: its live rows, the rows they link to (a
 * soft-deleted primary whose rows are not yet re-pointed), deleted rows linked to any of these,
 * and — followed as far as they go — soft-deleted primaries whose rows a merge or a relink moved
 * under one of these (the event names them after the survivor; nothing links to them any more).
 */
import type { ContactEvent, HistoryCoverage, HistoryStore, LoggedMerge } from '../identity/historyService.js';
import type { Queryable } from './database.js';
import { live } from './sql.js';
import { NOT_UNMERGED } from './unmergeQueries.js';

/** Event types that move a customer's rows under another primary (the first of "customerIds"). */
const ABSORBING_TYPES = `('customer.merged', 'customer.relinked')`;
/** Event types that insert a row: the row is the only one of "contactIds". */
const INSERTING_TYPES = `('customer.created', 'customer.updated')`;

/**
 * `history_ids`: one row, `ids`, every id the customer's history went by; $1 is its live rows.
 * The recursion adds what a step finds until a step finds nothing (normally the first).
 */
const HISTORY_IDS = `
  RECURSIVE grown(ids) AS (
    SELECT ARRAY(SELECT c."id" FROM "Contact" AS c WHERE c."id" = ANY($1::int[])
                 UNION SELECT c."linkedId" FROM "Contact" AS c WHERE c."id" = ANY($1::int[]) AND c."linkedId" IS NOT NULL)
    UNION ALL
    SELECT g.ids || found.ids
      FROM grown AS g
     CROSS JOIN LATERAL (
       SELECT ARRAY(
         SELECT d."id" FROM "Contact" AS d
          WHERE NOT (${live('d')}) AND d."linkedId" = ANY(g.ids) AND NOT d."id" = ANY(g.ids)
         UNION
         SELECT a."id" FROM "ContactEvent" AS e JOIN "Contact" AS a ON a."id" = ANY(e."customerIds"[2:])
          WHERE e."customerIds" && g.ids AND e."customerIds"[1] = ANY(g.ids) AND e."type" IN ${ABSORBING_TYPES}
            AND NOT (${live('a')}) AND a."linkedId" IS NULL AND NOT a."id" = ANY(g.ids)) AS ids
     ) AS found
     WHERE cardinality(found.ids) > 0
  ),
  history_ids AS (SELECT ids FROM grown ORDER BY cardinality(ids) DESC LIMIT 1),
  history AS (
    SELECT e.* FROM "ContactEvent" AS e
     WHERE e."customerIds" && (SELECT ids FROM history_ids) OR e."contactIds" && $1::int[]
  )`;

const EVENTS_SQL = `
  WITH ${HISTORY_IDS}
  SELECT h."id"::text AS "id", h."at", h."requestId", h."type", h."customerIds", h."contactIds", h."email", h."phoneNumber", h."detail"
    FROM history AS h
   WHERE h."id" > $2::bigint
   ORDER BY h."id"
   LIMIT $3::int`;

const COVERAGE_SQL = `
  WITH ${HISTORY_IDS}
  SELECT (SELECT count(*)::int FROM history) AS "events",
         ARRAY(SELECT DISTINCT x FROM history AS h CROSS JOIN LATERAL unnest(h."contactIds") AS x
                WHERE h."type" IN ${INSERTING_TYPES} AND x = ANY($1::int[])) AS "recordedContactIds"`;

const MERGES_SQL = `
  WITH ${HISTORY_IDS}
  SELECT h."id"::text AS "eventId", h."at", h."requestId", h."email", h."phoneNumber"
    FROM history AS h
   WHERE h."type" = 'customer.merged' AND h."email" IS NOT NULL AND h."phoneNumber" IS NOT NULL AND ${NOT_UNMERGED('h')}
   ORDER BY h."id"`;

type EventRow = Omit<ContactEvent, 'id'> & { id: string };
type MergeRow = Omit<LoggedMerge, 'eventId'> & { eventId: string };

export function historyStore(db: Queryable): HistoryStore {
  return {
    // bigint comes from `pg` as a string; event ids stay far below 2^53.
    async events(liveIds, { after, limit }) {
      const rows = await db.query<EventRow>(EVENTS_SQL, [liveIds, after, limit]);
      return rows.map((row) => ({ ...row, id: Number(row.id) }));
    },
    async coverage(liveIds) {
      const [row] = await db.query<HistoryCoverage>(COVERAGE_SQL, [liveIds]);
      return row ?? { events: 0, recordedContactIds: [] };
    },
    async merges(liveIds) {
      const rows = await db.query<MergeRow>(MERGES_SQL, [liveIds]);
      return rows.map((row) => ({ ...row, eventId: Number(row.eventId) }));
    },
  };
}
