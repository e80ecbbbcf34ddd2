/** Migrations work on an empty database and adopt a shop's existing `Contact` table. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { migrate } from '../../src/db/migrate.js';
import { buildTestApp, postIdentify } from '../support/app.js';
import { describeOnEachDatabase } from '../support/databases.js';

const LIVE_INDEXES = ['Contact_email_live_idx', 'Contact_linkedId_live_idx', 'Contact_phoneNumber_live_idx'];

describeOnEachDatabase('migrations', (scratch) => {
  const indexes = async () =>
    (await scratch().db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'Contact' ORDER BY indexname`))
      .map((row) => row.indexname)
      .filter((name) => LIVE_INDEXES.includes(name));

  it('on an empty database create the table and its lookup indexes', async () => {
    assert.deepEqual(await indexes(), LIVE_INDEXES);
  });

  it('run again apply nothing', async () => {
    assert.deepEqual(await migrate(scratch().db), { applied: [] });
  });

  it('adopt an existing Contact table of another ORM\'s types (TEXT, TIMESTAMP(3)), keep its rows and only add indexes and functions', async () => {
    const db = scratch().db;
    await db.exec(`
      DROP TABLE "Contact";
      DELETE FROM identity_migrations;
      CREATE TABLE "Contact" (
        "id" SERIAL PRIMARY KEY, "phoneNumber" TEXT, "email" TEXT,
        "linkedId" INTEGER REFERENCES "Contact" ("id"), "linkPrecedence" TEXT NOT NULL,
        "createdAt" TIMESTAMP(3) NOT NULL DEFAULT now(), "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT now(),
        "deletedAt" TIMESTAMP(3));
      INSERT INTO "Contact" ("email", "phoneNumber", "linkPrecedence", "createdAt")
        VALUES ('old@x.io', '123456', 'primary', '2020-01-01');`);
    assert.deepEqual(await indexes(), []);

    assert.deepEqual(await migrate(db), { applied: ['0001_contact.sql', '0002_identify_functions.sql', '0003_deleted_rows_and_isolation.sql'] });
    assert.deepEqual(await indexes(), LIVE_INDEXES);

    const app = await buildTestApp(db);
    try {
      const response = await postIdentify(app, { email: 'new@x.io', phoneNumber: '123456' });
      assert.deepEqual(response.json().customer, {
        id: 1, primaryContactId: 1, emails: ['old@x.io', 'new@x.io'], phoneNumbers: ['123456'], secondaryContactIds: [2],
      });
    } finally {
      await app.close();
    }
  });
});
