-- identity_apply_plan, version 2: correct on tables the service did not write alone.
--
-- * The plan says which rows end where: `p_survivor` becomes (or stays) the primary, every row of
--   `p_relink` a secondary linked straight to it. So a request that touches a customer whose
--   primary was soft-deleted promotes the oldest live row and re-points the rest, under the same
--   locks as any merge, and the answer equals the table afterwards.
-- * Every customer involved is locked through the row its rows link to (`p_lock_ids`), deleted or
--   not: that row is what every writer of the customer locks, whatever its state.
-- * Deleted rows linked to a row that stops being a primary follow it to the survivor, so no
--   link ever points at a secondary, hidden or not.
-- * Locks are taken in one global order, so requests never deadlock: the identifiers' advisory
--   locks by hash, then rows by id. A re-read can show a customer that a concurrent merge moved
--   under a row with a lower id than one already held; that lock is only tried (SKIP LOCKED), and
--   if it is taken the function gives up with one row, `applied = false` and no id, and the
--   caller reads again and retries with every lock known up front, in order.
-- * The protocol re-reads after each lock and needs every statement to see the rows committed
--   before it: READ COMMITTED. The service asks for it on every connection and transaction; a
--   caller that did not (a pooler dropping the setting, a console) gets an error, not a wrong write.
DROP FUNCTION IF EXISTS identity_apply_plan(text, text, int[], int[], int, int[], boolean);

-- Deleted rows are looked up by link only when the row they link to is demoted or replaced.
CREATE INDEX IF NOT EXISTS "Contact_linkedId_deleted_idx"
  ON "Contact" ("linkedId") WHERE "deletedAt" IS NOT NULL;

CREATE OR REPLACE FUNCTION identity_apply_plan(
  p_email text, p_phone text,
  p_expected_ids int[], p_expected_links int[],
  p_lock_ids int[], p_survivor int, p_promote boolean, p_relink int[], p_insert boolean)
RETURNS TABLE ("applied" boolean, "id" int, "email" text, "phoneNumber" text, "linkedId" int, "linkPrecedence" text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_locked int[] := '{}';
  v_to_lock int[] := p_lock_ids;
  v_out_of_order int[];
  v_ids int[];
  v_links int[];
  v_now timestamptz;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'identity_apply_plan must run under READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'IS001',
            HINT = 'Run it in a transaction started with BEGIN ISOLATION LEVEL READ COMMITTED.';
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
        RETURN QUERY SELECT false, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text;
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
                      FILTER (WHERE NOT COALESCE(r."linkedId", r."id") = ANY(v_locked)), '{}')
      INTO v_ids, v_links, v_to_lock
      FROM identity_customer_rows(p_email, p_phone) AS r;
    EXIT WHEN cardinality(v_to_lock) = 0;
  END LOOP;

  IF v_ids IS DISTINCT FROM p_expected_ids OR v_links IS DISTINCT FROM p_expected_links THEN
    RETURN QUERY SELECT false, r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence"
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
  IF NOT p_insert THEN
    RETURN QUERY SELECT true, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text;
    RETURN;
  END IF;
  RETURN QUERY
    INSERT INTO "Contact" AS c ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
    VALUES (p_email, p_phone, p_survivor, CASE WHEN p_survivor IS NULL THEN 'primary' ELSE 'secondary' END, v_now, v_now)
    RETURNING true, c."id"::int, c."email"::text, c."phoneNumber"::text, c."linkedId"::int, c."linkPrecedence"::text;
END
$$;
