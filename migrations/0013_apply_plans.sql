-- Writes arriving together (issue 17; docs/concurrency.md, "Writes arriving together"), and the
-- write that identity_apply_plan and they share.
--
-- identity_require_read_committed: the isolation check both write functions start with (IS001).
--
-- identity_write_plan: the writes of a plan whose customers are locked and found as it was decided
-- on (identity_apply_plan version 4's last part, moved here unchanged so that both callers below
-- write the same way). `p_emails` and `p_phones`: the values its customers held, for the event of
-- a new row. Answers identity_apply_plan's applied row.
--
-- identity_apply_plan, version 5: version 4 (0011) with its writes in identity_write_plan. Same
-- arguments, locks and answers.
--
-- identity_apply_plans: the plans of several requests in one statement, every kind (new customer,
-- extension, merge); it replaces identity_create_customers (0012), which batched new customers
-- only. That one stays, unused by this version, for the processes of the version before during a
-- rolling upgrade (a later migration can drop it). Request i (from 1) is identity_apply_plan's arguments, each at [i]; the int[] arguments
-- travel as array literals (a text[] of them: an int[][] must be rectangular).
-- Locks, all of them before anything is written and in the order every writer takes them, so a
-- batch and any other writer never wait on each other in a cycle:
--   1. the governance lock, shared (if any request was decided with a block list version);
--   2. every identifier's lock of every request, ascending by key, once each;
--   3. the primary of every customer any plan was decided on, ascending by id, FOR UPDATE.
-- Then request by request, in the order given, each in statements of its own (so it sees what the
-- requests before it wrote):
--   * decided with another block list version than the table's: nothing written, the version is
--     its answer (as identity_apply_plan answers);
--   * its customers read again are not the rows it was decided on (for a plan decided on no rows:
--     a live row holds one of its values now): nothing written, its customers' rows now are its
--     answer (stale: the service decides again). Unlike identity_apply_plan it never locks a
--     customer found here: its primary is outside step 3, and waiting for it while holding the
--     batch's rows could close a cycle;
--   * otherwise its customers are all locked in step 3 and are as decided: identity_write_plan.
-- Answer rows: `request`, then identity_apply_plan's columns.

-- The check both write functions below start with: their locks and re-reads are correct only when
-- each statement sees what committed before it.
CREATE OR REPLACE FUNCTION identity_require_read_committed(p_function text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION '% must run under READ COMMITTED, not %', p_function, current_setting('transaction_isolation')
      USING ERRCODE = 'IS001',
            HINT = 'Run it in a transaction started with BEGIN ISOLATION LEVEL READ COMMITTED.';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION identity_write_plan(
  p_email text, p_phone text, p_lock_ids int[], p_survivor int, p_promote boolean, p_relink int[], p_insert boolean,
  p_request_id text, p_log boolean, p_emails text[], p_phones text[])
RETURNS TABLE ("applied" boolean, "id" int, "email" text, "phoneNumber" text, "linkedId" int, "linkPrecedence" text,
               "blocklistVersion" bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_now timestamptz;
  v_row record;
BEGIN
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
  IF p_log AND p_survivor IS NOT NULL THEN
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
  END IF;
  IF p_insert THEN
    -- The new row and its event (a new customer's `customer.created`, else `customer.updated` with
    -- the fields its customer lacked) in one statement.
    WITH created AS (
      INSERT INTO "Contact" AS c ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
      VALUES (p_email, p_phone, p_survivor, CASE WHEN p_survivor IS NULL THEN 'primary' ELSE 'secondary' END, v_now, v_now)
      RETURNING c."id", c."email", c."phoneNumber", c."linkedId", c."linkPrecedence"
    ), logged AS (
      INSERT INTO "ContactEvent" ("at", "requestId", "type", "customerIds", "contactIds", "detail")
      SELECT v_now, p_request_id,
             CASE WHEN p_survivor IS NULL THEN 'customer.created' ELSE 'customer.updated' END,
             ARRAY[COALESCE(p_survivor, created."id")], ARRAY[created."id"],
             CASE WHEN p_survivor IS NULL THEN '{}'::jsonb
                  ELSE jsonb_build_object('new', to_jsonb(array_remove(ARRAY[
                         CASE WHEN p_email IS NOT NULL AND NOT p_email = ANY(p_emails) THEN 'email' END,
                         CASE WHEN p_phone IS NOT NULL AND NOT p_phone = ANY(p_phones) THEN 'phoneNumber' END], NULL))) END
        FROM created WHERE p_log
    )
    SELECT * INTO v_row FROM created;
  END IF;

  -- The answer without a query: the output columns are this function's variables.
  "applied" := true;
  IF p_insert THEN
    "id" := v_row."id";
    "email" := v_row."email";
    "phoneNumber" := v_row."phoneNumber";
    "linkedId" := v_row."linkedId";
    "linkPrecedence" := v_row."linkPrecedence";
  END IF;
  RETURN NEXT;
END
$$;

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
  v_first_key bigint;
  v_second_key bigint;
  v_key bigint;
  v_locked int[] := '{}';
  v_to_lock int[] := p_lock_ids;
  v_out_of_order int[] := '{}';
  v_still_none boolean;
  v_ids int[];
  v_links int[];
  v_emails text[];
  v_phones text[];
BEGIN
  PERFORM identity_require_read_committed('identity_apply_plan');

  IF p_blocklist_version IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock_shared(727143002);
  END IF;

  -- The identifiers' locks, smaller key first (the order every writer takes them in), once each.
  v_first_key := hashtextextended('email:' || p_email, 0);
  v_second_key := hashtextextended('phone:' || p_phone, 0);
  IF v_second_key < v_first_key THEN
    v_key := v_first_key;
    v_first_key := v_second_key;
    v_second_key := v_key;
  END IF;
  IF v_first_key IS NOT NULL THEN PERFORM pg_advisory_xact_lock(v_first_key); END IF;
  IF v_second_key IS NOT NULL AND v_second_key IS DISTINCT FROM v_first_key THEN PERFORM pg_advisory_xact_lock(v_second_key); END IF;

  -- One statement, after the locks: the block list's version, and for a plan decided on no rows
  -- whether no live row holds either value yet (then the customers' rows are still none).
  v_still_none := cardinality(p_expected_ids) = 0 AND cardinality(p_lock_ids) = 0;
  SELECT g."blocklistVersion",
         v_still_none AND NOT EXISTS (
           SELECT 1 FROM "Contact" AS c WHERE c."deletedAt" IS NULL AND c."email" = p_email
           UNION ALL
           SELECT 1 FROM "Contact" AS c WHERE c."deletedAt" IS NULL AND c."phoneNumber" = p_phone)
    INTO v_version, v_still_none
    FROM "IdentityGovernance" AS g;
  IF p_blocklist_version IS NOT NULL AND v_version IS DISTINCT FROM p_blocklist_version THEN
    RETURN QUERY SELECT false, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text, v_version;
    RETURN;
  END IF;
  IF v_still_none THEN
    v_ids := '{}';
    v_links := '{}';
    v_emails := '{}';
    v_phones := '{}';
  ELSE
    LOOP
      IF cardinality(v_to_lock) > 0 THEN
        IF cardinality(v_locked) > 0 THEN
          v_out_of_order := ARRAY(SELECT x FROM unnest(v_to_lock) AS x WHERE x < (SELECT max(y) FROM unnest(v_locked) AS y));
        END IF;
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
      END IF;
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
  END IF;

  IF v_ids IS DISTINCT FROM p_expected_ids OR v_links IS DISTINCT FROM p_expected_links THEN
    RETURN QUERY SELECT false, r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence", NULL::bigint
                   FROM identity_customer_rows(p_email, p_phone) AS r;
    RETURN;
  END IF;

  RETURN QUERY SELECT * FROM identity_write_plan(p_email, p_phone, p_lock_ids, p_survivor, p_promote, p_relink, p_insert,
                                                 p_request_id, p_log, v_emails, v_phones);
END
$$;

CREATE OR REPLACE FUNCTION identity_apply_plans(
  p_emails text[], p_phones text[],
  p_expected_ids text[], p_expected_links text[],
  p_lock_ids text[], p_survivors int[], p_promotes boolean[], p_relinks text[], p_inserts boolean[],
  p_blocklist_versions bigint[], p_request_ids text[], p_log boolean)
RETURNS TABLE ("request" int, "applied" boolean, "id" int, "email" text, "phoneNumber" text, "linkedId" int,
               "linkPrecedence" text, "blocklistVersion" bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_version bigint;
  v_primaries int[];
  v_expected_ids int[];
  v_lock_ids int[];
  v_current boolean;
  v_emails text[];
  v_phones text[];
BEGIN
  PERFORM identity_require_read_committed('identity_apply_plans');

  IF EXISTS (SELECT 1 FROM unnest(p_blocklist_versions) AS v WHERE v IS NOT NULL) THEN
    PERFORM pg_advisory_xact_lock_shared(727143002);
  END IF;
  PERFORM pg_advisory_xact_lock(key) FROM (
    SELECT DISTINCT hashtextextended(identifier, 0) AS key
      FROM unnest(ARRAY(SELECT 'email:' || e FROM unnest(p_emails) AS e WHERE e IS NOT NULL)
                  || ARRAY(SELECT 'phone:' || p FROM unnest(p_phones) AS p WHERE p IS NOT NULL)) AS identifier
     ORDER BY key
  ) AS ordered;
  -- A plan's customers: its lock ids and the primaries of the rows it was decided on (a primary's
  -- link travels as 0).
  v_primaries := ARRAY(
    SELECT x FROM unnest(p_lock_ids) AS locks, unnest(locks::int[]) AS x
    UNION
    SELECT CASE WHEN link = 0 THEN row_id ELSE link END
      FROM generate_subscripts(p_expected_ids, 1) AS i,
           unnest(p_expected_ids[i]::int[], p_expected_links[i]::int[]) AS decided(row_id, link));
  IF cardinality(v_primaries) > 0 THEN
    PERFORM 1 FROM "Contact" AS c WHERE c."id" = ANY(v_primaries) ORDER BY c."id" FOR UPDATE;
  END IF;
  SELECT g."blocklistVersion" INTO v_version FROM "IdentityGovernance" AS g;

  FOR i IN 1 .. cardinality(p_emails) LOOP
    IF p_blocklist_versions[i] IS NOT NULL AND v_version IS DISTINCT FROM p_blocklist_versions[i] THEN
      RETURN QUERY SELECT i, false, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text, v_version;
      CONTINUE;
    END IF;
    v_expected_ids := p_expected_ids[i]::int[];
    v_lock_ids := p_lock_ids[i]::int[];
    IF cardinality(v_expected_ids) = 0 AND cardinality(v_lock_ids) = 0 THEN
      -- Decided on no rows: still none if no live row holds either value (identity_apply_plan's probe).
      v_current := NOT EXISTS (
        SELECT 1 FROM "Contact" AS c WHERE c."deletedAt" IS NULL AND c."email" = p_emails[i]
        UNION ALL
        SELECT 1 FROM "Contact" AS c WHERE c."deletedAt" IS NULL AND c."phoneNumber" = p_phones[i]);
      v_emails := '{}';
      v_phones := '{}';
    ELSE
      SELECT COALESCE(array_agg(r."id" ORDER BY r."createdAt", r."id"), '{}') = v_expected_ids
             AND COALESCE(array_agg(COALESCE(r."linkedId", 0) ORDER BY r."createdAt", r."id"), '{}') = p_expected_links[i]::int[],
             COALESCE(array_agg(r."email") FILTER (WHERE r."email" IS NOT NULL), '{}'),
             COALESCE(array_agg(r."phoneNumber") FILTER (WHERE r."phoneNumber" IS NOT NULL), '{}')
        INTO v_current, v_emails, v_phones
        FROM identity_customer_rows(p_emails[i], p_phones[i]) AS r;
    END IF;
    IF NOT v_current THEN
      RETURN QUERY SELECT i, false, r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence", NULL::bigint
                     FROM identity_customer_rows(p_emails[i], p_phones[i]) AS r;
      CONTINUE;
    END IF;
    RETURN QUERY
      SELECT i, w."applied", w."id", w."email", w."phoneNumber", w."linkedId", w."linkPrecedence", w."blocklistVersion"
        FROM identity_write_plan(p_emails[i], p_phones[i], v_lock_ids, p_survivors[i], p_promotes[i], p_relinks[i]::int[],
                                 p_inserts[i], p_request_ids[i], p_log, v_emails, v_phones) AS w;
  END LOOP;
END
$$;
