-- The event log's GIN indexes without a pending list (migrations/0004 made them with one).
--
-- An event's arrays hold one to a few ids, cheap to index at once; with fastupdate on, whichever
-- write overflows the pending list pays for flushing it, which puts that write's latency in the
-- p99 of /identify. Entries already pending are flushed by the next VACUUM, as usual.
ALTER INDEX IF EXISTS "ContactEvent_customerIds_idx" SET (fastupdate = off);
ALTER INDEX IF EXISTS "ContactEvent_contactIds_idx" SET (fastupdate = off);
