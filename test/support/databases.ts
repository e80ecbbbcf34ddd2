/**
 * The databases every integration suite runs against: embedded PGlite always, and PostgreSQL
 * when TEST_DATABASE_URL (or DATABASE_URL) is set, as `npm test` (test/run.ts) always does. Each
 * suite gets its own scratch database.
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';

export const postgresUrl: string | undefined = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

export interface ScratchDatabase {
  db: Database;
  /** Connection string of the scratch database (PostgreSQL only), for child processes. */
  url: string | null;
  /** Empties `Contact` and restarts its ids at 1, as the worked examples assume. */
  reset(): Promise<void>;
  dispose(): Promise<void>;
}

export async function openScratchPglite(): Promise<ScratchDatabase> {
  const db = await openDatabase({ kind: 'pglite', dataDir: null });
  await migrate(db);
  return { db, url: null, reset: () => resetContacts(db), dispose: () => db.close() };
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';
const isolationLevels: readonly IsolationLevel[] = ['read committed', 'repeatable read', 'serializable'];

export interface ScratchOptions {
  /**
   * The database's default_transaction_isolation (`ALTER DATABASE … SET`), which every session
   * on it starts with: what a server configured with a stricter default gives the service.
   * Left alone when not given (the server's default, normally read committed).
   */
  defaultIsolation?: IsolationLevel;
  /** Leave the migrations to the test. */
  migrate?: boolean;
}

export async function openScratchPostgres(adminUrl: string, options: ScratchOptions = {}): Promise<ScratchDatabase> {
  const name = `identity_test_${randomBytes(6).toString('hex')}`;
  const { defaultIsolation } = options;
  if (defaultIsolation !== undefined && !isolationLevels.includes(defaultIsolation)) {
    throw new Error(`unknown isolation level: ${String(defaultIsolation)}`);
  }
  await withAdmin(adminUrl, async (admin) => {
    await admin.query(`CREATE DATABASE ${name}`);
    if (defaultIsolation !== undefined) {
      await admin.query(`ALTER DATABASE ${name} SET default_transaction_isolation = '${defaultIsolation}'`);
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ kind: 'postgres', connectionString: url.toString(), poolSize: 20 });
  if (options.migrate ?? true) await migrate(db);
  return {
    db,
    url: url.toString(),
    reset: () => resetContacts(db),
    async dispose() {
      await db.close();
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** Runs `work` on a short-lived connection to the server's maintenance database. */
export async function withAdmin(adminUrl: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}

/**
 * An empty table, event log and block list, recorded as written by the seed's rules. The block
 * list's version moves on rather than back, so that a service's copy of the list (kept across
 * tests) sees the change.
 */
async function resetContacts(db: Database): Promise<void> {
  await db.query('TRUNCATE "Contact", "ContactEvent", "BlockedIdentifier", "Separation" RESTART IDENTITY');
  await db.query(
    `UPDATE "IdentityGovernance" SET "blocklistVersion" = "blocklistVersion" + 1,
            "phoneRegion" = NULL, "emailCanonicalForm" = 'none', "renormalizingTo" = NULL`,
  );
}

export interface DatabaseTarget {
  name: string;
  open(): Promise<ScratchDatabase>;
}

export function databaseTargets(): DatabaseTarget[] {
  const targets: DatabaseTarget[] = [{ name: 'PGlite', open: openScratchPglite }];
  if (postgresUrl) targets.push({ name: 'PostgreSQL', open: () => openScratchPostgres(postgresUrl as string) });
  return targets;
}

/**
 * Declares `suite` once per database target. `scratch()` gives the suite's open database inside
 * its tests (hooks run first).
 */
export function describeOnEachDatabase(title: string, suite: (scratch: () => ScratchDatabase) => void): void {
  for (const target of databaseTargets()) {
    describe(`${title} [${target.name}]`, () => {
      let current: ScratchDatabase | undefined;
      before(async () => {
        current = await target.open();
      });
      after(async () => {
        await current?.dispose();
      });
      suite(() => {
        if (!current) throw new Error('scratch database is not open yet');
        return current;
      });
    });
  }
}
