/** Migrations work on an empty database and adopt a shop's existing `Contact` table. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { identifyStore } from '../../src/db/identifyStore.js';
import { checksumOf, migrate, MigrationChangedError, verifyMigrations } from '../../src/db/migrate.js';
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

  it("adopt an existing Contact table of another ORM's types (TEXT, TIMESTAMP(3)), keep its rows and only add indexes and functions", async () => {
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

    assert.deepEqual(await migrate(db), {
      applied: [
        '0001_contact.sql',
        '0002_identify_functions.sql',
        '0003_deleted_rows_and_isolation.sql',
        '0004_governance.sql',
        '0005_normal_form.sql',
        '0006_separations.sql',
        '0007_delivery.sql',
        '0008_event_index_fastupdate.sql',
        '0009_governed_rows.sql',
        '0010_import.sql',
        '0011_apply_plan_fast_paths.sql',
        '0012_create_customers.sql',
        '0013_apply_plans.sql',
        '0014_apply_plans_together.sql',
      ],
    });
    assert.deepEqual(await indexes(), LIVE_INDEXES);

    const app = await buildTestApp(db);
    try {
      const response = await postIdentify(app, { email: 'new@x.io', phoneNumber: '123456' });
      assert.deepEqual(response.json().customer, {
        id: 1,
        primaryContactId: 1,
        emails: ['old@x.io', 'new@x.io'],
        phoneNumbers: ['123456'],
        secondaryContactIds: [2],
      });
    } finally {
      await app.close();
    }
    // Two new customers in one statement (identity_apply_plans) store into these types too.
    const store = identifyStore(db);
    const created = await Promise.all(
      ['p@x.io', 'q@x.io'].map((email) =>
        store.applyPlanIfCurrent(
          { email, phoneNumber: null },
          [],
          { kind: 'createPrimary', insert: { email, phoneNumber: null } },
          {
            blocklistVersion: null,
            requestId: null,
          },
        ),
      ),
    );
    assert.deepEqual(
      created.map((attempt) => (attempt.kind === 'applied' ? attempt.inserted?.email : attempt.kind)),
      ['p@x.io', 'q@x.io'],
    );
  });

  it("keep the event log's GIN indexes without a pending list (0008 changes what 0004 made)", async () => {
    const indexes = await scratch().db.query<{ name: string; options: string[] | null }>(
      `SELECT relname AS name, reloptions AS options FROM pg_class WHERE relname IN ('ContactEvent_customerIds_idx', 'ContactEvent_contactIds_idx') ORDER BY relname`,
    );
    assert.deepEqual(indexes, [
      { name: 'ContactEvent_contactIds_idx', options: ['fastupdate=off'] },
      { name: 'ContactEvent_customerIds_idx', options: ['fastupdate=off'] },
    ]);
  });

  it('record a SHA-256 checksum of every applied file', async () => {
    const rows = await scratch().db.query<{ name: string; checksum: string }>(
      'SELECT name, checksum FROM identity_migrations ORDER BY name',
    );
    assert.ok(rows.length >= 3);
    for (const row of rows) assert.match(row.checksum, /^[0-9a-f]{64}$/, row.name);
  });

  it('refuse to run, naming the file, when an applied file has changed since (the database would keep the old SQL)', async () => {
    const db = scratch().db;
    await db.query(`UPDATE identity_migrations SET checksum = $1 WHERE name = '0002_identify_functions.sql'`, [
      checksumOf('-- another version'),
    ]);
    try {
      await assert.rejects(
        migrate(db),
        (error: Error) =>
          error instanceof MigrationChangedError && /0002_identify_functions\.sql was changed after it was applied/.test(error.message),
      );
      await assert.rejects(verifyMigrations(db), MigrationChangedError);
    } finally {
      await db.query(`UPDATE identity_migrations SET checksum = NULL WHERE name = '0002_identify_functions.sql'`);
    }
  });

  it('accept both texts of 0004 that shipped (before and after its GIN indexes lost their pending list, which 0008 gives every database), and no other', async () => {
    const db = scratch().db;
    const [current] = await db.query<{ checksum: string }>(`SELECT checksum FROM identity_migrations WHERE name = '0004_governance.sql'`);
    const setChecksum = (checksum: string) =>
      db.query(`UPDATE identity_migrations SET checksum = $1 WHERE name = '0004_governance.sql'`, [checksum]);
    try {
      // The file's own text, then the edited one (GIN fastupdate off) that shipped for a while.
      assert.equal(current?.checksum, checksumOf(await readFile(new URL('../../migrations/0004_governance.sql', import.meta.url), 'utf8')));
      await setChecksum('1113565bafd84783551431992769bab875d7b07809f4aed3ff37e5229b789cea');
      assert.deepEqual(await migrate(db), { applied: [] });
      await verifyMigrations(db);
      await setChecksum(checksumOf('-- a text that never shipped'));
      await assert.rejects(migrate(db), MigrationChangedError);
    } finally {
      await setChecksum(current?.checksum as string);
    }
  });

  it('take the files as they are for migrations recorded before checksums existed', async () => {
    const db = scratch().db;
    await db.exec('ALTER TABLE identity_migrations DROP COLUMN checksum');
    assert.deepEqual(await migrate(db), { applied: [] });
    const unrecorded = await db.query('SELECT name FROM identity_migrations WHERE checksum IS NULL');
    assert.deepEqual(unrecorded, []);
  });

  it('count a file checked out with CRLF line endings as the same file', () => {
    assert.equal(checksumOf('SELECT 1;\r\nSELECT 2;\r\n'), checksumOf('SELECT 1;\nSELECT 2;\n'));
  });
});
