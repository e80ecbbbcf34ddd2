-- The two statements of POST /identify, as functions so that each is one round trip.
-- Columns are cast so that an adopted table with other column types (text, timestamp) works too.

-- Every live row of every customer owning the email or the phone, in row order. A STABLE SQL
-- function is inlined into the calling query, so it is planned (and index-scanned) like plain SQL.
CREATE OR REPLACE FUNCTION identity_customer_rows(p_email text, p_phone text)
RETURNS TABLE ("id" int, "email" text, "phoneNumber" text, "linkedId" int, "linkPrecedence" text,
               "createdAt" timestamptz, "updatedAt" timestamptz)
LANGUAGE sql STABLE AS $$
  WITH owners AS (
    SELECT COALESCE("linkedId", "id") AS "primaryId" FROM "Contact"
     WHERE "deletedAt" IS NULL AND "email" = p_email
    UNION
    SELECT COALESCE("linkedId", "id") FROM "Contact"
     WHERE "deletedAt" IS NULL AND "phoneNumber" = p_phone
  ), live AS (
    SELECT * FROM "Contact" WHERE "deletedAt" IS NULL AND "id" IN (SELECT "primaryId" FROM owners)
    UNION ALL
    SELECT * FROM "Contact" WHERE "deletedAt" IS NULL AND "linkedId" IN (SELECT "primaryId" FROM owners)
  )
  SELECT "id"::int, "email"::text, "phoneNumber"::text, "linkedId"::int, "linkPrecedence"::text,
         "createdAt"::timestamptz, "updatedAt"::timestamptz
    FROM live ORDER BY "createdAt", "id"
$$;

-- Carries out a reconciliation plan, decided by the service on `p_expected_*` (the ids and
-- linkedIds of the rows it read, in row order), if and only if that is still what the customers
-- look like once locked. Locks, in this order: the request's identifiers (advisory, so that two
-- first orders of one new customer serialise although no row exists yet), then the primary of
-- every customer involved (FOR UPDATE; every write to a customer holds its primary's lock).
-- A merge elsewhere can demote a primary between read and lock, so it re-reads until the read
-- shows only primaries it holds. Each statement of a VOLATILE function sees a fresh snapshot.
--
-- Applied: one row, `applied = true`, holding the inserted row (all NULLs when the plan inserted
-- nothing); the service knows the rest, it decided it. Not applied: `applied = false` and the
-- customers' rows as they are now (none if they are gone), for the service to decide again. Inside a transaction the locks are kept
-- until commit, so a second call decided on a `false` answer is sure to apply.
CREATE OR REPLACE FUNCTION identity_apply_plan(
  p_email text, p_phone text,
  p_expected_ids int[], p_expected_links int[],
  p_survivor int, p_demoted int[], p_insert boolean)
RETURNS TABLE ("applied" boolean, "id" int, "email" text, "phoneNumber" text, "linkedId" int)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_locked int[] := '{}';
  v_to_lock int[] := array_remove(p_demoted || p_survivor, NULL);
  v_ids int[];
  v_links int[];
  v_now timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(key) FROM (
    SELECT DISTINCT hashtextextended(identifier, 0) AS key
      FROM unnest(ARRAY['email:' || p_email, 'phone:' || p_phone]) AS identifier
     WHERE identifier IS NOT NULL ORDER BY key
  ) AS ordered;

  LOOP
    IF cardinality(v_to_lock) > 0 THEN
      PERFORM 1 FROM "Contact" AS c WHERE c."id" = ANY(v_to_lock) ORDER BY c."id" FOR UPDATE;
      v_locked := v_locked || v_to_lock;
    END IF;
    SELECT COALESCE(array_agg(r."id" ORDER BY r."createdAt", r."id"), '{}'),
           COALESCE(array_agg(COALESCE(r."linkedId", 0) ORDER BY r."createdAt", r."id"), '{}'),
           COALESCE(array_agg(DISTINCT COALESCE(r."linkedId", r."id"))
                      FILTER (WHERE NOT COALESCE(r."linkedId", r."id") = ANY(v_locked)), '{}')
      INTO v_ids, v_links, v_to_lock
      FROM identity_customer_rows(p_email, p_phone) AS r;
    EXIT WHEN cardinality(v_to_lock) = 0;
  END LOOP;

  IF v_ids IS DISTINCT FROM p_expected_ids OR v_links IS DISTINCT FROM p_expected_links THEN
    RETURN QUERY SELECT false, r."id", r."email", r."phoneNumber", r."linkedId"
                   FROM identity_customer_rows(p_email, p_phone) AS r;
    RETURN;
  END IF;

  v_now := clock_timestamp();
  IF cardinality(p_demoted) > 0 THEN
    UPDATE "Contact" AS c SET "linkedId" = p_survivor, "linkPrecedence" = 'secondary', "updatedAt" = v_now
     WHERE c."deletedAt" IS NULL AND (c."id" = ANY(p_demoted) OR c."linkedId" = ANY(p_demoted));
  END IF;
  IF NOT p_insert THEN
    RETURN QUERY SELECT true, NULL::int, NULL::text, NULL::text, NULL::int;
    RETURN;
  END IF;
  RETURN QUERY
    INSERT INTO "Contact" AS c ("email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt")
    VALUES (p_email, p_phone, p_survivor, CASE WHEN p_survivor IS NULL THEN 'primary' ELSE 'secondary' END, v_now, v_now)
    RETURNING true, c."id"::int, c."email"::text, c."phoneNumber"::text, c."linkedId"::int;
END
$$;
