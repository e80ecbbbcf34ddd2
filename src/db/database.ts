/**
 * One small interface over the two stores we run on: PostgreSQL through `pg`'s pool, and the
 * embedded PGlite. Everything above this file speaks plain PostgreSQL SQL through it.
 */
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';

export interface Queryable {
  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one READ COMMITTED transaction: committed if it resolves, rolled back if not. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type DatabaseTarget =
  | { kind: 'postgres'; connectionString: string; poolSize: number }
  | { kind: 'pglite'; dataDir: string | null };

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  return target.kind === 'postgres' ? openPostgres(target.connectionString, target.poolSize) : openPglite(target.dataDir);
}

/**
 * Parameterised statements run as named prepared statements: PostgreSQL parses and plans each
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

function openPostgres(connectionString: string, poolSize: number): Database {
  // A bounded connect timeout turns a hung or unreachable server into a prompt 503, not a hang.
  const pool = new pg.Pool({ connectionString, max: poolSize, connectionTimeoutMillis: 5000 });
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
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
    },
  };
}

async function openPglite(dataDir: string | null): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db: PGlite = await PGlite.create(dataDir ?? undefined);
  return {
    kind: 'pglite',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await db.query<Row>(sql, params as unknown[])).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
    // PGlite is one connection; its transaction() holds it exclusively until the work settles.
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      return db.transaction((tx) =>
        work({
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            return (await tx.query<Row>(sql, params as unknown[])).rows;
          },
          async exec(sql: string) {
            await tx.exec(sql);
          },
        }),
      );
    },
    async close() {
      await db.close();
    },
  };
}
