/**
 * Delivery's SQL (migrations/0007): the watermark, the events up to it, the endpoints with their
 * cursors, attempts and leases, and dead letters. Every write of a delivery is conditional on
 * holding the endpoint's lease (`"leaseOwner" = $owner`), so a process that lost it writes nothing.
 * Times of attempts and leases are the database's clock, shared by every process.
 */
import type { LoggedEvent } from '../delivery/events.js';
import type { DeadLetter, DeliveryStats, DeliveryStore, Endpoint, LeasedEndpoint, Outgoing } from '../delivery/store.js';
import type { Queryable } from './database.js';
import { live } from './sql.js';

/** An event row with the new contact of a `customer.updated`, as it is now (null when gone or no longer live). */
const EVENT_COLUMNS = `e."id"::text AS "id", e."at", e."type", e."customerIds", e."contactIds", e."detail",
  CASE WHEN c."id" IS NOT NULL THEN json_build_object('email', c."email", 'phoneNumber', c."phoneNumber") END AS "contact"`;
const CONTACT_OF_UPDATE = `LEFT JOIN "Contact" AS c ON e."type" = 'customer.updated' AND c."id" = e."contactIds"[1] AND ${live('c')}`;

const EVENTS_SQL = `
  SELECT ${EVENT_COLUMNS}
    FROM "ContactEvent" AS e ${CONTACT_OF_UPDATE}
   WHERE e."id" > $1::bigint AND e."id" <= $2::bigint
   ORDER BY e."id"
   LIMIT $3::int`;

/** Redeliveries first (in id order), then the events after the cursor up to the watermark. */
const OUTGOING_SQL = `
  SELECT * FROM (
    SELECT ${EVENT_COLUMNS}, true AS "redelivery"
      FROM "WebhookDeadLetter" AS d JOIN "ContactEvent" AS e ON e."id" = d."eventId" ${CONTACT_OF_UPDATE}
     WHERE d."endpointId" = $1 AND d."redeliver"
    UNION ALL
    (SELECT ${EVENT_COLUMNS}, false AS "redelivery"
       FROM "ContactEvent" AS e ${CONTACT_OF_UPDATE}
      WHERE e."id" > $2::bigint AND e."id" <= $3::bigint
      ORDER BY e."id"
      LIMIT $4::int)
  ) AS outgoing
  ORDER BY "redelivery" DESC, "id"::bigint
  LIMIT $4::int`;

const ENDPOINT_COLUMNS = `p."id", p."url", p."source", p."createdAt", p."cursor"::text AS "cursor",
  p."attemptEventId"::text AS "attemptEventId", p."attempts", p."nextAttemptAt", p."lastError", p."failingSince",
  (SELECT count(*)::int FROM "WebhookDeadLetter" AS d WHERE d."endpointId" = p."id") AS "deadLetters"`;

type EndpointRow = Omit<Endpoint, 'retrying'> & {
  attemptEventId: string | null;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
};

const toEndpoint = ({ attemptEventId, attempts, nextAttemptAt, lastError, ...row }: EndpointRow): Endpoint => ({
  ...row,
  retrying: attemptEventId === null ? null : { eventId: attemptEventId, attempts, nextAttemptAt, lastError },
});

/** A dead letter; its event id as text, so order by the column (`d."eventId"`), not by this. */
const DEAD_LETTER_COLUMNS = `"eventId"::text AS "eventId", "attempts", "lastError", "at", "redeliver"`;

export function deliveryStore(db: Queryable): DeliveryStore {
  const tick = async () => {
    const [row] = await db.query<{ safeThrough: string }>('SELECT identity_event_watermark()::text AS "safeThrough"');
    return row?.safeThrough ?? '0';
  };
  // A tick that finds new events only notes where the next step is; the step is taken by a later
  // tick, once the transactions of that moment have ended. With none running (often the case),
  // the very next one takes it: so two, and a write is served at once.
  const watermark = async () => {
    await tick();
    return tick();
  };
  return {
    advanceWatermark: watermark,

    events: (after, through, limit) => db.query<LoggedEvent>(EVENTS_SQL, [after, through, limit]),

    async countEndpoints() {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM "WebhookEndpoint"');
      return row?.n ?? 0;
    },

    async dueEndpoints(owner, safeThrough) {
      const rows = await db.query<{ id: number }>(
        `SELECT p."id" FROM "WebhookEndpoint" AS p
          WHERE (p."cursor" < $2::bigint
                 OR EXISTS (SELECT 1 FROM "WebhookDeadLetter" AS d WHERE d."endpointId" = p."id" AND d."redeliver"))
            AND p."nextAttemptAt" <= now()
            AND (p."leaseUntil" < now() OR p."leaseOwner" = $1)
          ORDER BY p."id"`,
        [owner, safeThrough],
      );
      return rows.map((row) => row.id);
    },

    async lease(endpointId, owner, leaseMs) {
      const [row] = await db.query<LeasedEndpoint>(
        `UPDATE "WebhookEndpoint" AS p SET "leaseOwner" = $2, "leaseUntil" = now() + $3::int * interval '1 millisecond'
          WHERE p."id" = $1 AND (p."leaseUntil" < now() OR p."leaseOwner" = $2)
          RETURNING p."id", p."url", p."secret", p."cursor"::text AS "cursor", p."attemptEventId"::text AS "attemptEventId", p."attempts"`,
        [endpointId, owner, leaseMs],
      );
      return row ?? null;
    },

    async release(endpointId, owner) {
      await db.query(`UPDATE "WebhookEndpoint" SET "leaseUntil" = '-infinity' WHERE "id" = $1 AND "leaseOwner" = $2`, [endpointId, owner]);
    },

    outgoing: (endpoint, safeThrough, limit) => db.query<Outgoing>(OUTGOING_SQL, [endpoint.id, endpoint.cursor, safeThrough, limit]),

    async delivered(endpointId, owner, event, leaseMs) {
      const rows = await db.query(
        `WITH delivered AS (
           UPDATE "WebhookEndpoint" AS p
              SET "cursor" = CASE WHEN $4 THEN p."cursor" ELSE GREATEST(p."cursor", $3::bigint) END,
                  "attemptEventId" = NULL, "attempts" = 0, "lastError" = NULL, "failingSince" = NULL,
                  "nextAttemptAt" = '-infinity', "leaseUntil" = now() + $5::int * interval '1 millisecond'
            WHERE p."id" = $1 AND p."leaseOwner" = $2
            RETURNING p."id"),
         redelivered AS (
           DELETE FROM "WebhookDeadLetter" AS d USING delivered
            WHERE $4 AND d."endpointId" = delivered."id" AND d."eventId" = $3::bigint)
         SELECT 1 FROM delivered`,
        [endpointId, owner, event.id, event.redelivery, leaseMs],
      );
      return rows.length > 0;
    },

    async failed(endpointId, owner, { eventId, attempts, error, retryInMs, retryWindowMs }) {
      const [row] = await db.query<{ exhausted: boolean }>(
        `UPDATE "WebhookEndpoint" AS p
            SET "attemptEventId" = $3::bigint, "attempts" = $4, "lastError" = $5,
                "failingSince" = COALESCE(p."failingSince", now()),
                "nextAttemptAt" = now() + $6::int * interval '1 millisecond'
          WHERE p."id" = $1 AND p."leaseOwner" = $2
          RETURNING now() - p."failingSince" >= $7::float8 * interval '1 millisecond' AS "exhausted"`,
        [endpointId, owner, eventId, attempts, error.slice(0, 100), Math.min(retryInMs, 2_000_000_000), retryWindowMs],
      );
      return row ?? null;
    },

    async deadLetter(endpointId, owner, event, attempts, error, leaseMs) {
      const rows = await db.query(
        `WITH moved AS (
           UPDATE "WebhookEndpoint" AS p
              SET "cursor" = CASE WHEN $4 THEN p."cursor" ELSE GREATEST(p."cursor", $3::bigint) END,
                  "attemptEventId" = NULL, "attempts" = 0, "nextAttemptAt" = '-infinity',
                  "leaseUntil" = now() + $7::int * interval '1 millisecond'
            WHERE p."id" = $1 AND p."leaseOwner" = $2
            RETURNING p."id")
         INSERT INTO "WebhookDeadLetter" ("endpointId", "eventId", "attempts", "lastError")
         SELECT moved."id", $3::bigint, $5, $6 FROM moved
         ON CONFLICT ("endpointId", "eventId") DO UPDATE
           SET "attempts" = EXCLUDED."attempts", "lastError" = EXCLUDED."lastError", "at" = clock_timestamp(), "redeliver" = false
         RETURNING 1`,
        [endpointId, owner, event.id, event.redelivery, attempts, error.slice(0, 100), leaseMs],
      );
      return rows.length > 0;
    },

    async listEndpoints() {
      return (await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM "WebhookEndpoint" AS p ORDER BY p."id"`)).map(toEndpoint);
    },

    async addEndpoint(url, secret, source) {
      const safeThrough = await watermark();
      const [row] = await db.query<EndpointRow>(
        `WITH added AS (
           INSERT INTO "WebhookEndpoint" ("url", "secret", "source", "cursor") VALUES ($1, $2, $3, $4::bigint)
           ON CONFLICT ("url") DO NOTHING RETURNING *)
         SELECT ${ENDPOINT_COLUMNS} FROM added AS p`,
        [url, secret, source, safeThrough],
      );
      return row ? toEndpoint(row) : null;
    },

    async removeEndpoint(id) {
      const [row] = await db.query<EndpointRow>(
        `WITH removed AS (DELETE FROM "WebhookEndpoint" WHERE "id" = $1 RETURNING *)
         SELECT ${ENDPOINT_COLUMNS} FROM removed AS p`,
        [id],
      );
      return row ? toEndpoint(row) : null;
    },

    async syncConfigured(urls, secret: string | null) {
      const safeThrough = await watermark();
      await db.query(`DELETE FROM "WebhookEndpoint" WHERE "source" = 'config' AND NOT ("url" = ANY($1::text[]))`, [urls]);
      if (urls.length === 0 || secret === null) return;
      await db.query(
        `INSERT INTO "WebhookEndpoint" ("url", "secret", "source", "cursor")
         SELECT url, $2, 'config', $3::bigint FROM unnest($1::text[]) AS url
         ON CONFLICT ("url") DO UPDATE SET "secret" = EXCLUDED."secret", "source" = 'config'`,
        [urls, secret, safeThrough],
      );
    },

    deadLetters: (endpointId, after, limit) =>
      db.query<DeadLetter>(
        `SELECT ${DEAD_LETTER_COLUMNS} FROM "WebhookDeadLetter" AS d
          WHERE d."endpointId" = $1 AND d."eventId" > $2::bigint ORDER BY d."eventId" LIMIT $3::int`,
        [endpointId, after, limit],
      ),

    async redeliver(endpointId, eventId) {
      const [row] = await db.query<DeadLetter>(
        `UPDATE "WebhookDeadLetter" SET "redeliver" = true
          WHERE "endpointId" = $1 AND "eventId" = $2::bigint RETURNING ${DEAD_LETTER_COLUMNS}`,
        [endpointId, eventId],
      );
      return row ?? null;
    },

    async stats(): Promise<DeliveryStats> {
      const [row] = await db.query<DeliveryStats>(
        `SELECT (SELECT count(*)::int FROM "WebhookDeadLetter") AS "deadLetters",
                COALESCE((SELECT (w."safeThrough" - min(p."cursor"))::float8 FROM "WebhookEndpoint" AS p), 0) AS "lag"
           FROM "EventWatermark" AS w`,
      );
      return { deadLetters: row?.deadLetters ?? 0, lag: Math.max(0, row?.lag ?? 0) };
    },
  };
}
