/**
 * Where the benchmark runs the service: a scratch PostgreSQL database, or an embedded PGlite
 * data directory. Both are migrated and seeded before the service process starts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database, type DatabaseTarget } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { withAdmin } from '../test/support/databases.js';
import { startService, type ServiceProcess } from '../test/support/serviceProcess.js';

export interface BenchTarget {
  kind: 'postgres' | 'embedded';
  database: DatabaseTarget;
  /** Connection string of the scratch database, for pgbench (PostgreSQL only). */
  url: string | null;
  dispose(): Promise<void>;
}

/**
 * The service as production runs it, for the comparison with the bare handler (bench/run.ts,
 * bench/profile.ts): API keys required (every request carries one), rate limiting on (far above
 * what the machine can send, so it counts without refusing), and the recommended block list
 * screening every request.
 */
export const BENCH_API_KEY = 'bench-key-0123456789abcdef';
export const PRODUCTION_ENV = { API_KEYS: BENCH_API_KEY, RATE_LIMIT_MAX: '100000000', BLOCKLIST_PRESET: 'recommended' };

export async function scratchPostgres(adminUrl: string, name: string): Promise<BenchTarget> {
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    database: { kind: 'postgres', connectionString: url.toString(), poolSize: 2 },
    url: url.toString(),
    dispose: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export async function scratchEmbedded(): Promise<BenchTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'identity-bench-pglite-'));
  return {
    kind: 'embedded',
    database: { kind: 'pglite', dataDir },
    url: null,
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** Opens the target's database, migrated, runs `work` and closes it (PGlite allows one process). */
export async function withDatabase<T>(target: BenchTarget, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(target.database);
  try {
    await migrate(db);
    return await work(db);
  } finally {
    await db.close();
  }
}

/**
 * The built service with production settings on the target, and `env` over them (GOVERNANCE, …);
 * `workers` > 1 needs PostgreSQL. Its log lines go to /dev/null: written as in production, but not
 * read by the load generator's process. `nodeFlags`: node's own options before dist/cli.js.
 */
export function serve(
  target: BenchTarget,
  workers: number,
  logLevel: string,
  env: Record<string, string> = {},
  nodeFlags: string[] = [],
): Promise<ServiceProcess> {
  const database: Record<string, string | undefined> =
    target.database.kind === 'postgres'
      ? { DATABASE_URL: target.database.connectionString, DB_POOL_SIZE: '20' }
      : {
          DATABASE_URL: undefined,
          DB_HOST: undefined,
          DB_USER: undefined,
          DB_NAME: undefined,
          DB_PASSWORD: undefined,
          DATA_DIR: target.database.dataDir ?? undefined,
        };
  return startService(
    { ...database, NODE_ENV: 'production', LOG_LEVEL: logLevel, WEB_CONCURRENCY: String(workers), ...env },
    { built: true, discardLogs: true, readyTimeoutMs: 120_000, nodeFlags },
  );
}

/** How node runs the bench's bare handler (bench/bareHandler.ts): from its sources. */
export const BARE_HANDLER_ENTRY = ['--import', 'tsx', 'bench/bareHandler.ts'];

/** The bare handler on a PostgreSQL target, as its own process like the service. */
export function serveBare(target: BenchTarget): Promise<ServiceProcess> {
  if (target.url === null) throw new Error('the bare handler runs on PostgreSQL only');
  return startService({ DATABASE_URL: target.url }, { entry: BARE_HANDLER_ENTRY, discardLogs: true });
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  await withAdmin(adminUrl, (admin) => admin.query(sql));
}
