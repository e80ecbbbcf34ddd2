-- The Contact table of the original task. IF NOT EXISTS so that a shop's existing table of this
-- shape is adopted as it is: this migration only adds what is missing.
CREATE TABLE IF NOT EXISTS "Contact" (
  "id"             SERIAL PRIMARY KEY,
  "phoneNumber"    VARCHAR(255),
  "email"          VARCHAR(255),
  "linkedId"       INTEGER REFERENCES "Contact" ("id"),
  "linkPrecedence" VARCHAR(16) NOT NULL CHECK ("linkPrecedence" IN ('primary', 'secondary')),
  "createdAt"      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  "updatedAt"      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  "deletedAt"      TIMESTAMPTZ
);

-- Every query of the service is an index lookup on live rows: by email, by phone, by primary.
CREATE INDEX IF NOT EXISTS "Contact_email_live_idx"
  ON "Contact" ("email") WHERE "deletedAt" IS NULL;
CREATE INDEX IF NOT EXISTS "Contact_phoneNumber_live_idx"
  ON "Contact" ("phoneNumber") WHERE "deletedAt" IS NULL;
CREATE INDEX IF NOT EXISTS "Contact_linkedId_live_idx"
  ON "Contact" ("linkedId") WHERE "deletedAt" IS NULL;
