-- `identity-service import` (docs/import.md): one row per file imported, the checkpoint that makes
-- a run resumable. `digest` is the SHA-256 of the file's text (after gunzip) and the chunk size: the
-- same file cut the same way has the same chunks, in the same order, so a rerun skips the first
-- `chunksDone`. Each chunk's transaction writes its rows, its events and this row together: a crash
-- loses at most the chunk that was running, and replaying it again is a no-op for what it wrote.
-- A dry run writes no row here.
CREATE TABLE IF NOT EXISTS "ImportRun" (
  "digest"      VARCHAR(80) PRIMARY KEY,
  "chunks"      INTEGER NOT NULL,
  "chunksDone"  INTEGER NOT NULL DEFAULT 0,
  -- Ids reserved for the file's rows, one per checkout: the checkout k-th in (createdAt, line)
  -- order gets "idBase" + k if it creates a row, so ties in createdAt are in line order, across chunks.
  "idBase"      BIGINT NOT NULL,
  -- What the committed chunks did: inserted, joined, relinked, redundant, merges, quarantined…
  "counts"      JSONB NOT NULL DEFAULT '{}',
  "startedAt"   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  "updatedAt"   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  "finishedAt"  TIMESTAMPTZ
);
