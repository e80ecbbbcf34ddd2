-- identity_create_customers: several new customers in one statement (issue 17; docs/concurrency.md,
-- "Write path"). Request i (from 1) brings `p_emails[i]` and `p_phones[i]` and was decided on no
-- rows: a new customer, decided with block list version `p_blocklist_versions[i]` (null: governance
-- off), logged with request id `p_request_ids[i]`. The batch takes the governance lock (shared) and then every identifier's
-- lock of every request, ascending by key and once each: the order every writer takes them in, so
-- a batch and any other writer never wait on each other in a cycle. Then each request in turn is
-- identity_apply_plan's new-customer path (0011), whose own locks are already held: if no live row
-- holds either of its values yet (the rows of the requests before it included), its row and its
-- `customer.created` event are inserted; otherwise nothing is written for it and the rows of its
-- customers now are its answer; a block list changed since the decision is reported, as by
-- identity_apply_plan. Answer rows: `request`, then identity_apply_plan's columns.

CREATE OR REPLACE FUNCTION identity_create_customers(
  p_emails text[], p_phones text[], p_blocklist_versions bigint[], p_request_ids text[], p_log boolean)
RETURNS TABLE ("request" int, "applied" boolean, "id" int, "email" text, "phoneNumber" text, "linkedId" int,
               "linkPrecedence" text, "blocklistVersion" bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(p_blocklist_versions) AS v WHERE v IS NOT NULL) THEN
    PERFORM pg_advisory_xact_lock_shared(727143002);
  END IF;
  PERFORM pg_advisory_xact_lock(key) FROM (
    SELECT DISTINCT hashtextextended(identifier, 0) AS key
      FROM unnest(ARRAY(SELECT 'email:' || e FROM unnest(p_emails) AS e WHERE e IS NOT NULL)
                  || ARRAY(SELECT 'phone:' || p FROM unnest(p_phones) AS p WHERE p IS NOT NULL)) AS identifier
     ORDER BY key
  ) AS ordered;

  FOR i IN 1 .. cardinality(p_emails) LOOP
    -- Its own statement each, so that it sees the rows the requests before it inserted.
    RETURN QUERY
      SELECT i, r."applied", r."id", r."email", r."phoneNumber", r."linkedId", r."linkPrecedence", r."blocklistVersion"
        FROM identity_apply_plan(p_emails[i], p_phones[i], '{}', '{}', '{}', NULL, false, '{}', true,
                                 p_blocklist_versions[i], p_request_ids[i], p_log) AS r;
  END LOOP;
END
$$;
