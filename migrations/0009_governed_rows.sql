-- Rows say which block list version last regrouped their customer, so that a lookup knows its
-- block list is current for the customers it read without reading the version itself.
--
-- * "Contact"."governedAt": the block list's version ("IdentityGovernance"."blocklistVersion") of
--   the last change to the list or the separations that concerned the row's customer (a block, an
--   unblock, a quarantine, an erasure's rule removal, an unmerge, a separation removed). Every
--   such change stamps every live row of every customer it concerns, in its own transaction.
-- * identity_governed_rows: identity_customer_rows with it as a last column; identity_customer_rows
--   becomes a view of it (same signature, so 0002 run again still applies), one body for both. A lookup (a request that writes nothing)
--   whose rows all carry a version its process's list has seen answers from that list: no change
--   it has not seen concerns these customers or their values (a value a new rule matches is held
--   by rows that rule's change stamped; one no row holds makes the request a write, and every write
--   checks the version under the governance lock). Reading the version in every lookup instead
--   cost about 7% of the database's lookup throughput (docs/governance.md).
-- * 0 for rows no change has concerned: every version is at least 1.

ALTER TABLE "Contact" ADD COLUMN IF NOT EXISTS "governedAt" INTEGER NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION identity_governed_rows(p_email text, p_phone text)
RETURNS TABLE ("id" int, "email" text, "phoneNumber" text, "linkedId" int, "linkPrecedence" text,
               "createdAt" timestamptz, "updatedAt" timestamptz, "governedAt" int)
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
         "createdAt"::timestamptz, "updatedAt"::timestamptz, "governedAt"
    FROM live ORDER BY "createdAt", "id"
$$;

-- Both are inlined into the calling query (STABLE SQL functions of one SELECT), so the view costs nothing.
CREATE OR REPLACE FUNCTION identity_customer_rows(p_email text, p_phone text)
RETURNS TABLE ("id" int, "email" text, "phoneNumber" text, "linkedId" int, "linkPrecedence" text,
               "createdAt" timestamptz, "updatedAt" timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT "id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt"
    FROM identity_governed_rows(p_email, p_phone) ORDER BY "createdAt", "id"
$$;
