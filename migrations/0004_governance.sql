-- Identity governance: blocked identifiers, the event log, and identity_apply_plan version 3.
--
-- * "BlockedIdentifier": values that match nothing and are never stored. `field` is the request
--   field ('email' or 'phoneNumber'); `match` is 'exact' (the value in normal form), 'domain'
--   (emails whose domain is the value) or 'pattern' (a regular expression in the subset that
--   JavaScript and PostgreSQL read alike, src/identity/blocklist.ts).
-- * "IdentityGovernance": one row, the block list's version. Every change to the block list bumps
--   it in the same transaction; the service keeps the list in memory and every statement of
--   /identify says which version it decided with, so a stale list is never acted on.
-- * The governance lock (advisory key 727143002): changes that regroup customers (block, unblock,
--   quarantine, repair) take it exclusively; every write of /identify takes it shared, first.
--   So a regroup never overlaps a write, and a write decided with an old block list finds out.
-- * "ContactEvent": append-only, written by the same statements that change "Contact", in the
--   same transaction. `customerIds` holds the primaries an event concerns (the customer after the
--   event first); a customer's history is every event about any of its rows.

CREATE TABLE IF NOT EXISTS "BlockedIdentifier" (
  "id"        SERIAL PRIMARY KEY,
  "field"     VARCHAR(16) NOT NULL CHECK ("field" IN ('email', 'phoneNumber')),
  "match"     VARCHAR(16) NOT NULL CHECK ("match" IN ('exact', 'domain', 'pattern')),
  "value"     VARCHAR(255) NOT NULL,
  "reason"    VARCHAR(500) NOT NULL,
  "addedBy"   VARCHAR(100) NOT NULL,
  "createdAt" TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  CHECK ("match" <> 'domain' OR "field" = 'email'),
  UNIQUE ("field", "match", "value")
);

CREATE TABLE IF NOT EXISTS "IdentityGovernance" (
  "singleton"        BOOLEAN PRIMARY KEY DEFAULT true CHECK ("singleton"),
  "blocklistVersion" BIGINT NOT NULL DEFAULT 1
);
INSERT INTO "IdentityGovernance" ("singleton") VALUES (true) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS "ContactEvent" (
  "id"          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "at"          TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  "requestId"   VARCHAR(100),
  "type"        VARCHAR(40) NOT NULL,
  "customerIds" INTEGER[] NOT NULL,
  "contactIds"  INTEGER[] NOT NULL DEFAULT '{}',
  -- A merge's request identifiers: the explain view's edge between the customers it joined.
  "email"       VARCHAR(255),
  "phoneNumber" VARCHAR(255),
  "detail"      JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS "ContactEvent_customerIds_idx" ON "ContactEvent" USING gin ("customerIds");
-- A row's own events (created, moved) are found by the row even after a split put it under a
-- primary that the older events never named.
CREATE INDEX IF NOT EXISTS "ContactEvent_contactIds_idx" ON "ContactEvent" USING gin ("contactIds");

-- Whether a rule matches a value in normal form: the SQL twin of src/identity/blocklist.ts.
CREATE OR REPLACE FUNCTION identity_rule_matches(p_match text, p_rule text, p_value text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT p_value IS NOT NULL AND CASE p_match
           WHEN 'exact' THEN p_rule = p_value
           WHEN 'domain' THEN p_rule = substring(p_value FROM '[^@]*$')
           ELSE p_value ~ p_rule
         END
$$;

-- Whether a stored value is blocked by any rule: what `check` restates the invariants with.
CREATE OR REPLACE FUNCTION identity_is_blocked(p_field text, p_value text)
RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT p_value IS NOT NULL AND EXISTS (
    SELECT 1 FROM "BlockedIdentifier" AS b
     WHERE b."field" = p_field AND identity_rule_matches(b."match", b."value", p_value))
$$;

-- Merges are found by their request identifiers when a value is unblocked (rare, admin only).
CREATE INDEX IF NOT EXISTS "ContactEvent_merge_email_idx" ON "ContactEvent" ("email") WHERE "email" IS NOT NULL;
CREATE INDEX IF NOT EXISTS "ContactEvent_merge_phone_idx" ON "ContactEvent" ("phoneNumber") WHERE "phoneNumber" IS NOT NULL;

DROP FUNCTION IF EXISTS identity_apply_plan(text, text, int[], int[], int[], int, boolean, int[], boolean);

-- Version 3: as version 2 (0003), and
-- * `p_blocklist_version`: the block list the plan was decided with. The function takes the
--   governance lock shared, then compares; on a mismatch it writes nothing and answers one row,
--   `applied = false`, no id, and the current version. NULL skips both (governance off: bench only).
-- * Every change is logged in "ContactEvent" in the same statement, with `p_request_id`, unless
--   `p_log` is false (bench only).
CREATE OR REPLACE FUNCTION identity_apply_plan(
  p_email text, p_phone text,
  p_expected_ids int[], p_expected_links int[],
  p_lock_ids int[], p_survivor int, p_promote boolean, p_relink int[], p_insert boolean,
  p_blocklist_version bigint, p_request_id text, p_log boolean)
RETURNS TABLE ("applied" boolean, "id" int, "email" text, "phoneNumber" text, "linkedId" int, "linkPrecedence" text,
               "blocklistVersion" bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_version bigint;
  v_locked int[] := '{}';
  v_to_lock int[] := p_lock_ids;
  v_out_of_order int[];
  v_ids int[];
  v_links int[];
  v_emails text[];
  v_phones text[];
  v_now timestamptz;
  v_new_id int;
  v_row record;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'identity_apply_plan must run under READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'IS001',
            HINT = 'Run it in a transaction started with BEGIN ISOLATION LEVEL READ COMMITTED.';
  END IF;

  IF p_blocklist_version IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock_shared(727143002);
    SELECT g."blocklistVersion" INTO v_version FROM "IdentityGovernance" AS g;
    IF v_version IS DISTINCT FROM p_blocklist_version THEN
      RETURN QUERY SELECT false, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text, v_version;
      RETURN;
    END IF;
  END IF;

  PERFORM pg_advisory_xact_lock(key) FROM (
    SELECT DISTINCT hashtextextended(identifier, 0) AS key
      FROM unnest(ARRAY['email:' || p_email, 'phone:' || p_phone]) AS identifier
     WHERE identifier IS NOT NULL ORDER BY key
  ) AS ordered;

  LOOP
    v_out_of_order := ARRAY(SELECT x FROM unnest(v_to_lock) AS x WHERE x < (SELECT max(y) FROM unnest(v_locked) AS y));
    IF cardinality(v_out_of_order) > 0 THEN
      -- Waiting here could close a cycle with a request that holds this row and waits for ours.
      IF (SELECT count(*) FROM (SELECT 1 FROM "Contact" AS c WHERE c."id" = ANY(v_out_of_order)
                                 ORDER BY c."id" FOR UPDATE SKIP LOCKED) AS got)
         < (SELECT count(*) FROM "Contact" AS c WHERE c."id" = ANY(v_out_of_order)) THEN
        RETURN QUERY SELECT false, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text, NULL::bigint;
        RETURN;
      END IF;
    END IF;
    IF cardinality(v_to_lock) > cardinality(v_out_of_order) THEN
      PERFORM 1 FROM "Contact" AS c WHERE c."id" = ANY(v_to_lock) AND NOT c."id" = ANY(v_out_of_order)
       ORDER BY c."id" FOR UPDATE;
    END IF;
    v_locked := v_locked || v_to_lock;
    SELECT COALESCE(array_agg(r."id" ORDER BY r."createdAt", r."id"), '{}'),
           COALESCE(array_agg(COALESCE(r."linkedId", 0) ORDER BY r."createdAt", r."id"), '{}'),
           COALESCE(array_agg(DISTINCT COALESCE(r."linkedId", r."id"))
                      FILTER (WHERE NOT COALESCE(r."linkedId", r."id") = ANY(v_locked)), '{}'),
           COALESCE(array_agg(r."email") FILTER (WHERE r."email" IS NOT NULL), '{}'),
           COALESCE(array_agg(r."phoneNumber") FILTER (WHERE r."phoneNumber" IS NOT NULL), '{}')
      INTO v_ids, v_links, v_to_lock, v_emails, v_phones
      FROM identity_customer_rows(p_email, p_phone) AS r;
    EXIT WHEN cardinality(v_to_lock) = 0;
  END LOOP;

  IF v_ids IS DISTINCT FROM p_expected_ids OR v_links IS DISTINCT FROM p_expected_links THEN
    RETURN QUERY SELECT false, r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence", NULL::bigint
                   FROM identity_customer_rows(p_email, p_phone) AS r;
    RETURN;
  END IF;

  v_now := clock_timestamp();
  IF p_promote THEN
    UPDATE "Contact" AS c SET "linkedId" = NULL, "linkPrecedence" = 'primary', "updatedAt" = v_now
     WHERE c."id" = p_survivor;
  END IF;
  IF cardinality(p_relink) > 0 THEN
    UPDATE "Contact" AS c SET "linkedId" = p_survivor, "linkPrecedence" = 'secondary', "updatedAt" = v_now
     WHERE c."id" = ANY(p_relink);
    UPDATE "Contact" AS c SET "linkedId" = p_survivor, "linkPrecedence" = 'secondary', "updatedAt" = v_now
     WHERE c."deletedAt" IS NOT NULL AND c."linkedId" = ANY(p_lock_ids) AND c."linkedId" <> p_survivor;
  END IF;
  IF p_insert THEN
    INSERT INTO "Contact" AS c ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
    VALUES (p_email, p_phone, p_survivor, CASE WHEN p_survivor IS NULL THEN 'primary' ELSE 'secondary' END, v_now, v_now)
    RETURNING c."id", c."email", c."phoneNumber", c."linkedId", c."linkPrecedence" INTO v_row;
    v_new_id := v_row."id";
  END IF;

  IF p_log THEN
    IF p_survivor IS NULL THEN
      INSERT INTO "ContactEvent" ("at", "requestId", "type", "customerIds", "contactIds")
      VALUES (v_now, p_request_id, 'customer.created', ARRAY[v_new_id], ARRAY[v_new_id]);
    ELSE
      IF cardinality(p_lock_ids) > 1 THEN
        INSERT INTO "ContactEvent" ("at", "requestId", "type", "customerIds", "contactIds", "email", "phoneNumber", "detail")
        VALUES (v_now, p_request_id, 'customer.merged', ARRAY[p_survivor] || array_remove(p_lock_ids, p_survivor),
                p_relink, p_email, p_phone,
                jsonb_build_object('survivor', p_survivor, 'absorbed', array_remove(p_lock_ids, p_survivor)));
      ELSIF p_promote OR cardinality(p_relink) > 0 THEN
        INSERT INTO "ContactEvent" ("at", "requestId", "type", "customerIds", "contactIds", "detail")
        VALUES (v_now, p_request_id, 'customer.relinked', ARRAY[p_survivor] || array_remove(p_lock_ids, p_survivor),
                p_relink, jsonb_build_object('promoted', p_promote));
      END IF;
      IF p_insert THEN
        INSERT INTO "ContactEvent" ("at", "requestId", "type", "customerIds", "contactIds", "detail")
        VALUES (v_now, p_request_id, 'customer.updated', ARRAY[p_survivor], ARRAY[v_new_id],
                jsonb_build_object('new', to_jsonb(array_remove(ARRAY[
                  CASE WHEN p_email IS NOT NULL AND NOT p_email = ANY(v_emails) THEN 'email' END,
                  CASE WHEN p_phone IS NOT NULL AND NOT p_phone = ANY(v_phones) THEN 'phoneNumber' END], NULL))));
      END IF;
    END IF;
  END IF;

  IF NOT p_insert THEN
    RETURN QUERY SELECT true, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text, NULL::bigint;
  ELSE
    RETURN QUERY SELECT true, v_row."id"::int, v_row."email"::text, v_row."phoneNumber"::text, v_row."linkedId"::int,
                        v_row."linkPrecedence"::text, NULL::bigint;
  END IF;
END
$$;

-- A regroup's writes and its events, in one statement: rows `p_ids` get `p_links` (0: primary),
-- deleted rows linked to a row that stops being a primary follow it, and `p_events` (a JSON array
-- of {type, customerIds, contactIds, detail}) is appended to the log. The caller holds the
-- governance lock exclusively.
CREATE OR REPLACE FUNCTION identity_apply_regroup(p_ids int[], p_links int[], p_events jsonb, p_request_id text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_now timestamptz := clock_timestamp();
BEGIN
  UPDATE "Contact" AS c
     SET "linkedId" = NULLIF(w.link, 0),
         "linkPrecedence" = CASE WHEN w.link = 0 THEN 'primary' ELSE 'secondary' END,
         "updatedAt" = v_now
    FROM unnest(p_ids, p_links) AS w(id, link)
   WHERE c."id" = w.id;
  UPDATE "Contact" AS c SET "linkedId" = w.link, "updatedAt" = v_now
    FROM unnest(p_ids, p_links) AS w(id, link)
   WHERE c."deletedAt" IS NOT NULL AND c."linkedId" = w.id AND w.link <> 0;
  INSERT INTO "ContactEvent" ("at", "requestId", "type", "customerIds", "contactIds", "detail")
  SELECT v_now, p_request_id, e->>'type',
         ARRAY(SELECT jsonb_array_elements_text(e->'customerIds')::int),
         ARRAY(SELECT jsonb_array_elements_text(COALESCE(e->'contactIds', '[]'))::int),
         COALESCE(e->'detail', '{}')
    FROM jsonb_array_elements(p_events) AS e;
END
$$;
