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
  /**
   * Runs `work` in one READ COMMITTED transaction — whatever the server, database or role
   * default — committed if it resolves, rolled back if not.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Statements that must run under READ COMMITTED (the locking protocol of
   * `identity_apply_plan`), each on its own. Where the connection's session guarantees the
   * isolation this is the database itself, one round trip a statement; behind a transaction-mode
   * pooler, where session settings do not stick, each runs in a transaction of its own.
   */
  readonly readCommitted: Queryable;
  close(): Promise<void>;
}

export type DatabaseTarget =
  | {
      kind: 'postgres';
      connectionString: string;
      poolSize: number;
      /**
       * The URL reaches PostgreSQL through a transaction-mode pooler (PgBouncer, …): consecutive
       * transactions may run on different server sessions, so nothing is kept per session — no
       * named prepared statements, no session settings.
       */
      transactionPooler?: boolean;
    }
  | { kind: 'pglite'; dataDir: string | null };

/**
 * Every session the service opens runs READ COMMITTED, whatever `default_transaction_isolation`
 * the server, database or role sets: a startup option outranks all of them.
 */
const READ_COMMITTED_OPTION = '-c default_transaction_isolation=read\\ committed';

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.kind === 'postgres') {
    const pooled = target.transactionPooler ?? false;
    const pool = new pg.Pool({
      connectionString: target.connectionString,
      max: target.poolSize,
      // A bounded connect timeout turns a hung or unreachable server into a prompt 503, not a hang.
      connectionTimeoutMillis: 5000,
      // Poolers refuse or drop startup options; there every write runs in a transaction of its own.
      ...(pooled ? {} : { options: READ_COMMITTED_OPTION }),
    });
    return poolDatabase('postgres', pool, { sessionIsReadCommitted: !pooled, namedStatements: !pooled }, async () => {});
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  const pglite = await PGlite.create(target.dataDir ?? undefined);
  // PGlite speaks the wire protocol to `pg` through this adapter, so both stores share one code
  // path, prepared statements included (3.7x the lookups of PGlite's own query(), which parses
  // and plans every call). PGlite is one session: a pool of one, never closed while idle.
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1, idleTimeoutMillis: 0 } as pg.PoolConfig);
  // PGlite is one session for good, so a session setting holds for every statement.
  await pool.query("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED");
  return poolDatabase('pglite', pool, { sessionIsReadCommitted: true, namedStatements: true }, () => pglite.close());
}

/**
 * Parameterised statements run as named prepared statements: the server parses and plans each
 * once per connection instead of once per request. Scripts without parameters run as they are.
 */
const statementNames = new Map<string, string>();
function prepared(sql: string, params: readonly unknown[]): pg.QueryConfig | string {
  if (params.length === 0) return sql;
  return { name: statementName(sql), text: sql, values: params as unknown[] };
}

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `identity_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** Unnamed statements: parsed and planned on every call, but fine on any server session. */
function unnamed(sql: string, params: readonly unknown[]): pg.QueryConfig | string {
  return params.length === 0 ? sql : { text: sql, values: params as unknown[] };
}

interface SessionTraits {
  /** Every statement outside a transaction runs READ COMMITTED. */
  sessionIsReadCommitted: boolean;
  /** A prepared statement stays on the session that prepared it. */
  namedStatements: boolean;
}

function poolDatabase(kind: Database['kind'], pool: pg.Pool, traits: SessionTraits, closeStore: () => Promise<void>): Database {
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const statement = traits.namedStatements ? prepared : unnamed;
  const database: Database = {
    kind,
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(statement(sql, params));
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    get readCommitted(): Queryable {
      return traits.sessionIsReadCommitted ? database : { query: (sql, params) => database.transaction((tx) => tx.query(sql, params)), exec: (sql) => database.transaction((tx) => tx.exec(sql)) };
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        const result = await work({
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            return (await client.query(statement(sql, params))).rows as Row[];
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
  return database;
}
