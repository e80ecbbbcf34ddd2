-- Writes arriving together, written together (issue 17; docs/concurrency.md, "Writes arriving
-- together"). identity_apply_plans (0013) checked and wrote its plans one by one, two or three
-- statements and a nested function call each. Plans that share no identifier and no customer
-- cannot see each other's writes, so they are now checked in one statement and written in one
-- (pgbench by hand, one client, ten extensions a call with their read: about 250-300 calls/s
-- before, 310-380 after; docs/concurrency.md).
--
-- identity_apply_plans, version 2: same arguments, locks and answers as version 1 (0013). After
-- the locks, its plans are cut, in their order, into runs ("segments") in which no plan shares an
-- identifier or a customer (its lock ids and the primaries of the rows it was decided on) with an
-- earlier plan of the same run. Each segment goes to identity_apply_segment; a plan that shares
-- one with an earlier plan starts the next segment, so it sees that plan's writes, as in version 1.
-- Requests sent together for different customers make one segment; a shopper's concurrent
-- checkouts make one each.
--
-- identity_apply_segment: one segment's plans at once. Why that is one-at-a-time's outcome: a plan
-- found current was decided on every customer owning its values, all among its own customers;
-- another plan of the segment writes only rows of its own customers and one new row with its own
-- values, so it changes nothing a current plan read, nor writes a row that plan writes. (Another's
-- writes could turn a stale plan current; answered stale, it is decided again, which is always
-- safe.) In three statements:
--   1. the check: each plan decided with another block list version than the table's is outdated
--      (its answer is the version); each other one is current when its customers read again are
--      the rows it was decided on (for a plan decided on no rows: no live row holds either value),
--      else stale. One join reads every plan's customers again (identity_customer_rows' rows), not
--      one call each: about 2-12% more calls/s by hand. Its customers are locked
--      (identity_apply_plans' steps 2 and 3), so what it finds holds until the commit;
--   2. the writes of the current plans, identity_write_plan's for each, in one statement: their
--      rows promoted, relinked and inserted, and their events in plan order (a plan's merge or
--      relink before its new row's, as identity_write_plan logs them);
--   3. the stale plans' customers, read after the writes, as their answers.
-- Answer rows: identity_apply_plans' (`request`, then identity_apply_plan's columns).

CREATE OR REPLACE FUNCTION identity_apply_segment(
  p_emails text[], p_phones text[],
  p_expected_ids text[], p_expected_links text[],
  p_lock_ids text[], p_survivors int[], p_promotes boolean[], p_relinks text[], p_inserts boolean[],
  p_blocklist_versions bigint[], p_request_ids text[], p_log boolean,
  p_first int, p_last int, p_version bigint)
RETURNS TABLE ("request" int, "applied" boolean, "id" int, "email" text, "phoneNumber" text, "linkedId" int,
               "linkPrecedence" text, "blocklistVersion" bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_outdated int[];
  v_current int[];
  v_new_fields jsonb[];
  v_stale int[];
  v_now timestamptz;
BEGIN
  WITH plan AS (
    SELECT u.i::int AS i, u.e, u.p, u.ids::int[] AS ids, u.links::int[] AS links,
           u.version IS NOT NULL AND u.version IS DISTINCT FROM p_version AS outdated,
           -- Decided on no rows (no row and no lock id): a probe, not a re-read.
           cardinality(u.ids::int[]) = 0 AND cardinality(u.locks::int[]) = 0 AS on_no_rows
      FROM unnest(p_emails, p_phones, p_expected_ids, p_expected_links, p_lock_ids, p_blocklist_versions)
           WITH ORDINALITY AS u(e, p, ids, links, locks, version, i)
     WHERE u.i BETWEEN p_first AND p_last
  ), checked AS (
    SELECT plan.i, plan.outdated, false AS current, NULL::jsonb AS new_fields FROM plan WHERE plan.outdated
    UNION ALL
    -- Decided on no rows (identity_apply_plan's probe).
    SELECT plan.i, false,
           NOT EXISTS (SELECT 1 FROM "Contact" AS c WHERE c."deletedAt" IS NULL AND c."email" = plan.e
                       UNION ALL
                       SELECT 1 FROM "Contact" AS c WHERE c."deletedAt" IS NULL AND c."phoneNumber" = plan.p),
           NULL
      FROM plan WHERE NOT plan.outdated AND plan.on_no_rows
    UNION ALL
    -- Decided on rows: their customers read again, all plans' in one join (identity_customer_rows'
    -- rows: the customers owning a live row with either value, and every live row of theirs).
    SELECT plan.i, false,
           COALESCE(found.ids, '{}') = plan.ids AND COALESCE(found.links, '{}') = plan.links,
           -- A new row's `customer.updated` names the fields its customer lacked.
           to_jsonb(array_remove(ARRAY[
             CASE WHEN plan.e IS NOT NULL AND NOT plan.e = ANY(COALESCE(found.emails, '{}')) THEN 'email' END,
             CASE WHEN plan.p IS NOT NULL AND NOT plan.p = ANY(COALESCE(found.phones, '{}')) THEN 'phoneNumber' END], NULL))
      FROM plan
      LEFT JOIN (
        SELECT member.i,
               array_agg(member."id" ORDER BY member."createdAt", member."id") AS ids,
               array_agg(COALESCE(member."linkedId", 0) ORDER BY member."createdAt", member."id") AS links,
               array_agg(member."email") FILTER (WHERE member."email" IS NOT NULL) AS emails,
               array_agg(member."phoneNumber") FILTER (WHERE member."phoneNumber" IS NOT NULL) AS phones
          FROM (
            SELECT owner.i, c."id", c."email", c."phoneNumber", c."linkedId", c."createdAt"
              FROM (SELECT plan.i, COALESCE(c."linkedId", c."id") AS primary_id
                      FROM plan JOIN "Contact" AS c ON c."deletedAt" IS NULL AND c."email" = plan.e
                     WHERE NOT plan.outdated AND NOT plan.on_no_rows
                    UNION
                    SELECT plan.i, COALESCE(c."linkedId", c."id")
                      FROM plan JOIN "Contact" AS c ON c."deletedAt" IS NULL AND c."phoneNumber" = plan.p
                     WHERE NOT plan.outdated AND NOT plan.on_no_rows) AS owner
              JOIN "Contact" AS c ON c."deletedAt" IS NULL AND (c."id" = owner.primary_id OR c."linkedId" = owner.primary_id)
          ) AS member
         GROUP BY member.i
      ) AS found ON found.i = plan.i
     WHERE NOT plan.outdated AND NOT plan.on_no_rows
  )
  SELECT COALESCE(array_agg(k.i ORDER BY k.i) FILTER (WHERE k.outdated), '{}'),
         COALESCE(array_agg(k.i ORDER BY k.i) FILTER (WHERE k.current), '{}'),
         COALESCE(array_agg(k.new_fields ORDER BY k.i) FILTER (WHERE k.current), '{}'),
         COALESCE(array_agg(k.i ORDER BY k.i) FILTER (WHERE NOT k.outdated AND NOT k.current), '{}')
    INTO v_outdated, v_current, v_new_fields, v_stale
    FROM checked AS k;

  IF cardinality(v_outdated) > 0 THEN
    RETURN QUERY SELECT o.i, false, NULL::int, NULL::text, NULL::text, NULL::int, NULL::text, p_version
                   FROM unnest(v_outdated) AS o(i);
  END IF;

  IF cardinality(v_current) > 0 THEN
    v_now := clock_timestamp();
    RETURN QUERY
      WITH plan AS (
        SELECT u.i::int AS i, u.e, u.p, u.locks::int[] AS locks, u.survivor, u.promote, u.relink::int[] AS relink,
               u.ins, u.request_id, current.new_fields
          FROM unnest(p_emails, p_phones, p_lock_ids, p_survivors, p_promotes, p_relinks, p_inserts, p_request_ids)
               WITH ORDINALITY AS u(e, p, locks, survivor, promote, relink, ins, request_id, i)
          JOIN unnest(v_current, v_new_fields) AS current(i, new_fields) ON current.i = u.i
      ), promoted AS (
        UPDATE "Contact" AS c SET "linkedId" = NULL, "linkPrecedence" = 'primary', "updatedAt" = v_now
          FROM plan WHERE plan.promote AND c."id" = plan.survivor
      ), relinked AS (
        UPDATE "Contact" AS c SET "linkedId" = plan.survivor, "linkPrecedence" = 'secondary', "updatedAt" = v_now
          FROM plan WHERE cardinality(plan.relink) > 0 AND c."id" = ANY(plan.relink)
      ), relinked_deleted AS (
        UPDATE "Contact" AS c SET "linkedId" = plan.survivor, "linkPrecedence" = 'secondary', "updatedAt" = v_now
          FROM plan
         WHERE cardinality(plan.relink) > 0 AND c."deletedAt" IS NOT NULL
           AND c."linkedId" = ANY(plan.locks) AND c."linkedId" <> plan.survivor
      ), created AS (
        INSERT INTO "Contact" AS c ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
        SELECT plan.e, plan.p, plan.survivor, CASE WHEN plan.survivor IS NULL THEN 'primary' ELSE 'secondary' END, v_now, v_now
          FROM plan WHERE plan.ins ORDER BY plan.i
        RETURNING c."id", c."email", c."phoneNumber", c."linkedId", c."linkPrecedence"
      ), made AS (
        -- A segment's plans share no identifier, so a new row's values name its plan.
        SELECT plan.i, created.*
          FROM created JOIN plan ON plan.ins AND plan.e IS NOT DISTINCT FROM created."email"
                                              AND plan.p IS NOT DISTINCT FROM created."phoneNumber"
      ), logged AS (
        INSERT INTO "ContactEvent" ("at", "requestId", "type", "customerIds", "contactIds", "email", "phoneNumber", "detail")
        SELECT v_now, event.request_id, event.type, event.customer_ids, event.contact_ids, event.e, event.p, event.detail
          FROM (
            SELECT plan.i, 1 AS step, plan.request_id,
                   CASE WHEN cardinality(plan.locks) > 1 THEN 'customer.merged' ELSE 'customer.relinked' END AS type,
                   ARRAY[plan.survivor] || array_remove(plan.locks, plan.survivor) AS customer_ids, plan.relink AS contact_ids,
                   CASE WHEN cardinality(plan.locks) > 1 THEN plan.e END AS e,
                   CASE WHEN cardinality(plan.locks) > 1 THEN plan.p END AS p,
                   CASE WHEN cardinality(plan.locks) > 1
                        THEN jsonb_build_object('survivor', plan.survivor, 'absorbed', array_remove(plan.locks, plan.survivor))
                        ELSE jsonb_build_object('promoted', plan.promote) END AS detail
              FROM plan
             WHERE plan.survivor IS NOT NULL AND (cardinality(plan.locks) > 1 OR plan.promote OR cardinality(plan.relink) > 0)
            UNION ALL
            SELECT made.i, 2, plan.request_id,
                   CASE WHEN plan.survivor IS NULL THEN 'customer.created' ELSE 'customer.updated' END,
                   ARRAY[COALESCE(plan.survivor, made."id")], ARRAY[made."id"], NULL, NULL,
                   CASE WHEN plan.survivor IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('new', plan.new_fields) END
              FROM made JOIN plan ON plan.i = made.i
          ) AS event
         WHERE p_log
         ORDER BY event.i, event.step
      )
      SELECT plan.i, true, made."id", made."email"::text, made."phoneNumber"::text, made."linkedId",
             made."linkPrecedence"::text, NULL::bigint
        FROM plan LEFT JOIN made ON made.i = plan.i;
  END IF;

  IF cardinality(v_stale) > 0 THEN
    RETURN QUERY SELECT s.i, false, r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence", NULL::bigint
                   FROM unnest(v_stale) AS s(i)
                   CROSS JOIN LATERAL identity_customer_rows(p_emails[s.i], p_phones[s.i]) AS r
                  ORDER BY s.i, r."createdAt", r."id";
  END IF;
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
  v_keys bigint[];
  v_identifiers int;
  v_primaries int[];
  v_customers int;
  v_shares_with int[];
  v_first int := 1;
  v_count int := cardinality(p_emails);
BEGIN
  PERFORM identity_require_read_committed('identity_apply_plans');

  -- The locks, as version 1 takes them (0013). On the way, how many identifiers and customers the
  -- plans have in all: when they are as many as the distinct ones, no two plans share one.
  IF EXISTS (SELECT 1 FROM unnest(p_blocklist_versions) AS v WHERE v IS NOT NULL) THEN
    PERFORM pg_advisory_xact_lock_shared(727143002);
  END IF;
  SELECT COALESCE(array_agg(DISTINCT hashtextextended(identifier, 0)), '{}'), count(*)
    INTO v_keys, v_identifiers
    FROM unnest(ARRAY(SELECT 'email:' || e FROM unnest(p_emails) AS e WHERE e IS NOT NULL)
                || ARRAY(SELECT 'phone:' || p FROM unnest(p_phones) AS p WHERE p IS NOT NULL)) AS identifier;
  PERFORM pg_advisory_xact_lock(key) FROM unnest(v_keys) AS key ORDER BY key;
  -- A plan's customers: its lock ids and the primaries of the rows it was decided on (a primary's
  -- link travels as 0).
  SELECT COALESCE(array_agg(DISTINCT customer.id), '{}'), count(*)
    INTO v_primaries, v_customers
    FROM (SELECT u.i, x AS id FROM unnest(p_lock_ids) WITH ORDINALITY AS u(locks, i), unnest(u.locks::int[]) AS x
          UNION
          SELECT u.i, CASE WHEN decided.link = 0 THEN decided.row_id ELSE decided.link END
            FROM unnest(p_expected_ids, p_expected_links) WITH ORDINALITY AS u(ids, links, i),
                 unnest(u.ids::int[], u.links::int[]) AS decided(row_id, link)) AS customer;
  IF cardinality(v_primaries) > 0 THEN
    PERFORM 1 FROM "Contact" AS c WHERE c."id" = ANY(v_primaries) ORDER BY c."id" FOR UPDATE;
  END IF;
  SELECT g."blocklistVersion" INTO v_version FROM "IdentityGovernance" AS g;

  IF cardinality(v_keys) = v_identifiers AND cardinality(v_primaries) = v_customers THEN
    v_shares_with := array_fill(0, ARRAY[v_count]);
  ELSE
    -- For each plan, the last earlier plan it shares an identifier or a customer with (0: none).
    v_shares_with := ARRAY(
      WITH plan_key AS (
        SELECT u.i, 'email:' || u.e AS key FROM unnest(p_emails) WITH ORDINALITY AS u(e, i) WHERE u.e IS NOT NULL
        UNION ALL
        SELECT u.i, 'phone:' || u.p FROM unnest(p_phones) WITH ORDINALITY AS u(p, i) WHERE u.p IS NOT NULL
        UNION ALL
        SELECT u.i, 'customer:' || x FROM unnest(p_lock_ids) WITH ORDINALITY AS u(locks, i), unnest(u.locks::int[]) AS x
        UNION ALL
        SELECT u.i, 'customer:' || CASE WHEN decided.link = 0 THEN decided.row_id ELSE decided.link END
          FROM unnest(p_expected_ids, p_expected_links) WITH ORDINALITY AS u(ids, links, i),
               unnest(u.ids::int[], u.links::int[]) AS decided(row_id, link)
      )
      SELECT COALESCE(max(earlier.i), 0)
        FROM generate_series(1, v_count) AS plan(i)
        LEFT JOIN plan_key AS own ON own.i = plan.i
        LEFT JOIN plan_key AS earlier ON earlier.key = own.key AND earlier.i < plan.i
       GROUP BY plan.i ORDER BY plan.i);
  END IF;

  FOR i IN 2 .. v_count + 1 LOOP
    IF i > v_count OR v_shares_with[i] >= v_first THEN
      RETURN QUERY SELECT * FROM identity_apply_segment(
        p_emails, p_phones, p_expected_ids, p_expected_links, p_lock_ids, p_survivors, p_promotes, p_relinks,
        p_inserts, p_blocklist_versions, p_request_ids, p_log, v_first, i - 1, v_version);
      v_first := i;
    END IF;
  END LOOP;
END
$$;
