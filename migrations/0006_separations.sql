-- Unmerge and separations (docs/governance.md, "Unmerge and separations").
--
-- * "Separation": two contacts whose customers an operator took apart (an unmerge) and that no
--   /identify request may join again: a request carrying identifiers of both is answered with
--   one of them and does not link the other identifier. Held in memory by every process with the
--   block list, and like the block list every change bumps "IdentityGovernance"."blocklistVersion"
--   in the same transaction, so a decision made with stale separations is never acted on.
--   `mergeEventId`: the logged merge the unmerge undid (null for none).
-- * An undone merge stays in the event log; the `customer.unmerged` event that undid it (detail
--   `mergeEventId`) takes it out of the link graph for good (regroups, explain). The index finds
--   that event by the merge's id.

CREATE TABLE IF NOT EXISTS "Separation" (
  "id"           SERIAL PRIMARY KEY,
  "contactA"     INTEGER NOT NULL,
  "contactB"     INTEGER NOT NULL,
  "mergeEventId" BIGINT,
  "addedBy"      VARCHAR(100) NOT NULL,
  "createdAt"    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  CHECK ("contactA" < "contactB")
);

CREATE INDEX IF NOT EXISTS "ContactEvent_unmerged_idx" ON "ContactEvent" ((("detail"->>'mergeEventId')::bigint))
  WHERE "type" = 'customer.unmerged';
