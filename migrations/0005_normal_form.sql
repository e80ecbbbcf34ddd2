-- The rules the table's emails and phones are normalised by (docs/normal-forms.md).
--
-- Which written values are one identifier depends on the rules (`+91 98765 43210` and
-- `9876543210` are one phone with DEFAULT_PHONE_REGION=IN, two without), so the table records the
-- rules its values were written by. A process set to other rules refuses to start; one already
-- running notices through the block list's version, which every change of the rules bumps too.
-- * "phoneRegion", "emailCanonicalForm": the rules in force. Tables written before this migration
--   were written by the seed's rules: no region, no canonical form.
-- * "renormalizingTo": the rules `repair --renormalize` is moving the table to, while it runs (or
--   was interrupted: running it again resumes).

ALTER TABLE "IdentityGovernance" ADD COLUMN IF NOT EXISTS "phoneRegion" VARCHAR(2);
ALTER TABLE "IdentityGovernance" ADD COLUMN IF NOT EXISTS "emailCanonicalForm" VARCHAR(20) NOT NULL DEFAULT 'none';
ALTER TABLE "IdentityGovernance" ADD COLUMN IF NOT EXISTS "renormalizingTo" JSONB;
