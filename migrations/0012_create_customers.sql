-- identity_create_customers: several new customers in one statement (issue 17; docs/concurrency.md,
-- "Write path"). Request i (from 1) brings `p_emails[i]` and `p_phones[i]` and was decided on no
-- rows: a new customer. Under the governance lock (shared) and every identifier's lock (ascending
-- key, once each: the order every writer takes them in, so batches and single writes cannot wait
-- on each other in a cycle), with the block list's version checked once, each request in turn is
-- the new-customer path of identity_apply_plan (0011): if no live row holds either of its values
-- yet, its row and its `customer.created` event are inserted; otherwise nothing is written for it
-- and the rows of its customers now (an earlier request of the batch's included) are its answer.
-- Answer rows: `request`, then identity_apply_plan's columns; on a version mismatch, one row per
-- request with `applied = false`, no id and the current version.

CREATE OR REPLACE FUNCTION identity_create_customers(
  p_emails text[], p_phones text[], p_blocklist_version bigint, p_request_ids text[], p_log boolean)
RETURNS TABLE ("request" int, "applied" boolean, "id" int, "email" text, "phoneNumber" text, "linkedId" int,
               "linkPrecedence" text, "blocklistVersion" bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_version bigint;
  v_now timestamptz;
  v_row record;
  v_index int;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'identity_create_customers must run under READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'IS001',
            HINT = 'Run it in a transaction started with BEGIN ISOLATION LEVEL READ COMMITTED.';
  END IF;
  IF p_blocklist_version IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock_shared(727143002);
  END IF;
  PERFORM pg_advisory_xact_lock(key) FROM (
    SELECT DISTINCT hashtextextended(identifier, 0) AS key
      FROM unnest(ARRAY(SELECT 'email:' || e FROM unnest(p_emails) AS e WHERE e IS NOT NULL)
                  || ARRAY(SELECT 'phone:' || p FROM unnest(p_phones) AS p WHERE p IS NOT NULL)) AS identifier
     ORDER BY key
  ) AS ordered;

  SELECT g."blocklistVersion" INTO v_version FROM "IdentityGovernance" AS g;
  IF p_blocklist_version IS NOT NULL AND v_version IS DISTINCT FROM p_blocklist_version THEN
    RETURN QUERY SELECT i::int, false, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text, v_version
                   FROM generate_subscripts(p_emails, 1) AS i;
    RETURN;
  END IF;

  FOR v_index IN 1 .. cardinality(p_emails) LOOP
    -- Each request's check is its own statement, so it sees the rows the requests before it inserted.
    IF EXISTS (SELECT 1 FROM "Contact" AS c WHERE c."deletedAt" IS NULL AND c."email" = p_emails[v_index]
               UNION ALL
               SELECT 1 FROM "Contact" AS c WHERE c."deletedAt" IS NULL AND c."phoneNumber" = p_phones[v_index]) THEN
      RETURN QUERY SELECT v_index, false, r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence", NULL::bigint
                     FROM identity_customer_rows(p_emails[v_index], p_phones[v_index]) AS r;
      CONTINUE;
    END IF;
    v_now := clock_timestamp();
    WITH created AS (
      INSERT INTO "Contact" AS c ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
      VALUES (p_emails[v_index], p_phones[v_index], NULL, 'primary', v_now, v_now)
      RETURNING c."id", c."email", c."phoneNumber", c."linkedId", c."linkPrecedence"
    ), logged AS (
      INSERT INTO "ContactEvent" ("at", "requestId", "type", "customerIds", "contactIds")
      SELECT v_now, p_request_ids[v_index], 'customer.created', ARRAY[created."id"], ARRAY[created."id"]
        FROM created WHERE p_log
    )
    SELECT * INTO v_row FROM created;
    "request" := v_index;
    "applied" := true;
    "id" := v_row."id";
    "email" := v_row."email";
    "phoneNumber" := v_row."phoneNumber";
    "linkedId" := v_row."linkedId";
    "linkPrecedence" := v_row."linkPrecedence";
    "blocklistVersion" := NULL;
    RETURN NEXT;
  END LOOP;
END
$$;
