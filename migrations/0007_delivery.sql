-- Change events: the event log delivered to webhooks and served to pulls (docs/webhooks.md).
--
-- * "EventWatermark": one row. `safeThrough` is the highest event id below which the log is final:
--   every event with an id up to it is visible, or never will be (its transaction rolled back).
--   Webhooks and pulls go no further. Any process advances it (identity_event_watermark()),
--   only ever upwards. `pendingThrough` and `pendingXid` are the next step: events up to
--   `pendingThrough` are final once every transaction older than `pendingXid` has ended.
-- * A statement trigger gives every transaction that inserts an event its transaction id before
--   the event takes its id, so that "older than pendingXid" covers every transaction that holds
--   an id up to `pendingThrough` (see identity_event_watermark). No lock, no row trigger.
-- * "WebhookEndpoint": where events go, each with its own cursor (the last event id handed to
--   it: delivered, or dead-lettered), the state of the event being retried, and a lease: the one
--   process that delivers to it now. Endpoints come from WEBHOOK_URLS (`source` config) or the
--   admin API (`source` admin).
-- * "WebhookDeadLetter": events an endpoint did not accept within WEBHOOK_RETRY_HOURS, by id:
--   ids and times only. The payload is built from the log whenever it is sent, so what the log
--   no longer holds (an erased contact's values) is never sent, nor kept here.

CREATE TABLE IF NOT EXISTS "EventWatermark" (
  "singleton"      BOOLEAN PRIMARY KEY DEFAULT true CHECK ("singleton"),
  "safeThrough"    BIGINT NOT NULL DEFAULT 0,
  "pendingThrough" BIGINT,
  "pendingXid"     BIGINT
);
INSERT INTO "EventWatermark" ("singleton") VALUES (true) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION identity_event_takes_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM txid_current();
  RETURN NULL;
END
$$;
-- BEFORE … FOR EACH STATEMENT fires before the statement computes any row, so before the identity
-- default takes its id from the sequence.
DROP TRIGGER IF EXISTS "ContactEvent_takes_xid" ON "ContactEvent";
CREATE TRIGGER "ContactEvent_takes_xid" BEFORE INSERT ON "ContactEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION identity_event_takes_xid();

-- Advances the watermark if it can and returns it. Lock-free for writers; safe to run from any
-- number of processes at once (every stored pair is valid, and safeThrough only grows).
--
-- Why it is right: a transaction T that inserts an event has a transaction id x before it takes
-- the event id e (the trigger above). L, the sequence's last value, is read first; then this
-- function's own transaction takes its id X (txid_current() in the UPDATE), after L was read. If
-- e <= L, T took e before L was read, so x was assigned before X: x < X. Later, once the oldest
-- transaction still running anywhere is not older than X (xmin of a fresh snapshot >= X), T has
-- ended: its events are visible (committed) or will never be (rolled back). So every id <= L is
-- final.
--
-- Not pg_snapshot_xmax(): that is latestCompletedXid + 1, and a transaction that took its id
-- before an older one completed can be at or above it while still running, unseen by a later
-- xmin. txid_* rather than pg_*_xact_id(): the same 64-bit ids, also on PostgreSQL 12.
CREATE OR REPLACE FUNCTION identity_event_watermark() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_last bigint;
  v_mark "EventWatermark"%ROWTYPE;
  v_passed boolean;
  v_safe bigint;
BEGIN
  v_last := COALESCE(pg_sequence_last_value(pg_get_serial_sequence('"ContactEvent"', 'id')::regclass), 0);
  SELECT * INTO v_mark FROM "EventWatermark";
  v_passed := v_mark."pendingXid" IS NOT NULL AND txid_snapshot_xmin(txid_current_snapshot()) >= v_mark."pendingXid";
  v_safe := CASE WHEN v_passed THEN GREATEST(v_mark."safeThrough", v_mark."pendingThrough") ELSE v_mark."safeThrough" END;
  IF NOT v_passed AND (v_mark."pendingXid" IS NOT NULL OR v_last <= v_safe) THEN
    RETURN v_safe;
  END IF;
  UPDATE "EventWatermark" AS w
     SET "safeThrough" = GREATEST(w."safeThrough", v_safe),
         "pendingThrough" = CASE WHEN v_last > v_safe THEN v_last END,
         "pendingXid" = CASE WHEN v_last > v_safe THEN txid_current() END
  RETURNING w."safeThrough" INTO v_safe;
  RETURN v_safe;
END
$$;

CREATE TABLE IF NOT EXISTS "WebhookEndpoint" (
  "id"             SERIAL PRIMARY KEY,
  "url"            VARCHAR(2000) NOT NULL UNIQUE,
  "secret"         VARCHAR(200) NOT NULL,
  "source"         VARCHAR(10) NOT NULL CHECK ("source" IN ('config', 'admin')),
  "createdAt"      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  -- The last event id handed to it: delivered, or dead-lettered.
  "cursor"         BIGINT NOT NULL,
  -- The event being retried (null: none), its failed attempts, when the next one is due, and the
  -- last failure: a status code or a short reason, never a body.
  "attemptEventId" BIGINT,
  "attempts"       INTEGER NOT NULL DEFAULT 0,
  "nextAttemptAt"  TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
  "lastError"      VARCHAR(100),
  -- When the current run of failures began (null: the last attempt succeeded). Once it is older
  -- than the retry window, a failed event is dead-lettered and the next one tried.
  "failingSince"   TIMESTAMPTZ,
  "leaseOwner"     VARCHAR(200),
  "leaseUntil"     TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);

CREATE TABLE IF NOT EXISTS "WebhookDeadLetter" (
  "endpointId" INTEGER NOT NULL REFERENCES "WebhookEndpoint" ("id") ON DELETE CASCADE,
  "eventId"    BIGINT NOT NULL,
  "attempts"   INTEGER NOT NULL,
  "lastError"  VARCHAR(100) NOT NULL,
  "at"         TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  -- Asked to be sent again (the admin API): sent before the endpoint's next new event.
  "redeliver"  BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY ("endpointId", "eventId")
);
CREATE INDEX IF NOT EXISTS "WebhookDeadLetter_redeliver_idx" ON "WebhookDeadLetter" ("endpointId", "eventId") WHERE "redeliver";
