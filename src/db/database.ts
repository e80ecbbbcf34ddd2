/**
 * One small interface over the two stores we run on: PostgreSQL and the embedded PGlite, both
 * through `pg`'s pool. Everything above this file speaks plain PostgreSQL SQL through it.
 */
import pg from 'pg';

export interface Queryable {
  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface PoolStats {
  /** Connections open, idle among them, and queries waiting for one. */
  total: number;
  idle: number;
  waiting: number;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  stats(): PoolStats;
  /** Runs `work` in one READ COMMITTED transaction: committed if it resolves, rolled back if not. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type DatabaseTarget =
  | { kind: 'postgres'; connectionString: string; poolSize: number }
  | { kind: 'pglite'; dataDir: string | null };

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.kind === 'postgres') {
    // A bounded connect timeout turns a hung or unreachable server into a prompt 503, not a hang.
    const pool = new pg.Pool({ connectionString: target.connectionString, max: target.poolSize, connectionTimeoutMillis: 5000 });
    return poolDatabase('postgres', pool, async () => {});
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  const pglite = await PGlite.create(target.dataDir ?? undefined);
  // PGlite speaks the wire protocol to `pg` through this adapter, so both stores share one code
  // path, prepared statements included (3.7x the lookups of PGlite's own query(), which parses
  // and plans every call). PGlite is one session: a pool of one, never closed while idle.
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1, idleTimeoutMillis: 0 } as pg.PoolConfig);
  return poolDatabase('pglite', pool, () => pglite.close());
}

/**
 * Parameterised statements run as named prepared statements: the server parses and plans each
 * once per connection instead of once per request. Scripts without parameters run as they are.
 */
const statementNames = new Map<string, string>();
function prepared(sql: string, params: readonly unknown[]): pg.QueryConfig | string {
  if (params.length === 0) return sql;
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `identity_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return { name, text: sql, values: params as unknown[] };
}

function poolDatabase(kind: Database['kind'], pool: pg.Pool, closeStore: () => Promise<void>): Database {
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return {
    kind,
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(prepared(sql, params));
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work({
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            return (await client.query(prepared(sql, params))).rows as Row[];
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
      await closeStore();
    },
  };
}
