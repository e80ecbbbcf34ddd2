/**
 * One small interface over the two stores we run on: PostgreSQL and the embedded PGlite, both
 * through `pg`'s pool. Everything above this file speaks plain PostgreSQL SQL through it.
 */
import pg from 'pg';
import { PoolBusyError } from './errors.js';

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
      /** How long a query may wait for a connection (new or free) before it fails; 5 s when absent. */
      poolWaitMs?: number;
      /**
       * The URL reaches PostgreSQL through a transaction-mode pooler (PgBouncer, …): consecutive
       * transactions may run on different server sessions, so nothing is kept per session — no
       * named prepared statements, no session settings.
       */
      transactionPooler?: boolean;
    }
  | { kind: 'pglite'; dataDir: string | null };

/**
 * Settings of every session the service opens, as startup options (which outrank the server's,
 * the database's and the role's defaults):
 * - READ COMMITTED, whatever `default_transaction_isolation` says: the locking protocol needs it;
 * - generic plans for prepared statements: every statement is an index lookup whatever its
 *   values, but a customer of thousands of rows skews the statistics enough that PostgreSQL
 *   would otherwise plan the lookup anew on every call (a third of the lookup rate, measured).
 */
const SESSION_SETTINGS = { default_transaction_isolation: 'read committed', plan_cache_mode: 'force_generic_plan' };
/** The settings as a connection's startup options (`options`, or PGOPTIONS for libpq tools such as the bench's pgbench). */
export const STARTUP_OPTIONS = Object.entries(SESSION_SETTINGS)
  .map(([name, value]) => `-c ${name}=${value.replace(/ /g, '\\ ')}`)
  .join(' ');

const DEFAULT_POOL_WAIT_MS = 5000;

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.kind === 'postgres') {
    const pooled = target.transactionPooler ?? false;
    const poolWaitMs = target.poolWaitMs ?? DEFAULT_POOL_WAIT_MS;
    const pool = new pg.Pool({
      connectionString: target.connectionString,
      max: target.poolSize,
      // A bounded wait — for a new connection or a free one — turns a hung or unreachable server,
      // or a pool busy for too long, into a prompt 503, not a hang.
      connectionTimeoutMillis: poolWaitMs,
      // Poolers refuse or drop startup options; there every write runs in a transaction of its own.
      ...(pooled ? {} : { options: STARTUP_OPTIONS }),
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
  // PGlite is one session for good, so session settings hold for every statement.
  for (const [name, value] of Object.entries(SESSION_SETTINGS)) await pool.query('SELECT set_config($1, $2, false)', [name, value]);
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

interface CheckedOut {
  client: pg.PoolClient;
  state: { broken: boolean; onError: () => void };
}

/**
 * A client of the pool, listened to for 'error' from the moment it is handed over. A connection
 * that ends while checked out (the server restarts, pg_terminate_backend) emits 'error' on its
 * client, the pool listens only while it is idle, and an unheard 'error' ends the process. The
 * promise form of `pool.connect()` leaves a gap of a few microtasks in which the rest of the
 * socket's chunk — the FATAL message after the last ReadyForQuery — is parsed and emitted, so the
 * listener goes on in the callback, synchronously. The query in flight fails on its own; a broken
 * client is not reused.
 */
function checkOut(pool: pg.Pool): Promise<CheckedOut> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error || client === undefined) return reject(error ?? new Error('the pool gave no client'));
      const state = {
        broken: false,
        onError: () => {
          state.broken = true;
        },
      };
      client.on('error', state.onError);
      resolve({ client, state });
    });
  });
}

/**
 * pg-pool reports a wait that ran out the same way whether the server did not answer a new
 * connection or every connection stayed in use; only the second means "busy", not "down".
 */
function explainPoolTimeout(pool: pg.Pool) {
  return (error: unknown): never => {
    const timedOut = error instanceof Error && error.message.startsWith('timeout exceeded when trying to connect');
    if (timedOut && pool.totalCount >= (pool.options.max ?? Infinity)) throw new PoolBusyError(pool.options.connectionTimeoutMillis ?? 0);
    throw error;
  };
}

function poolDatabase(kind: Database['kind'], pool: pg.Pool, traits: SessionTraits, closeStore: () => Promise<void>): Database {
  // An idle client losing its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const statement = traits.namedStatements ? prepared : unnamed;
  const poolTimeout = explainPoolTimeout(pool);
  const database: Database = {
    kind,
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(statement(sql, params)).catch(poolTimeout);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await pool.query(sql).catch(poolTimeout);
    },
    get readCommitted(): Queryable {
      return readCommitted;
    },
    async transaction<T>(work: (tx: Queryable) => Promise<T>) {
      const { client, state } = await checkOut(pool).catch(poolTimeout);
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
          state.broken = true;
        });
        throw error;
      } finally {
        client.removeListener('error', state.onError);
        client.release(state.broken);
      }
    },
    async close() {
      await pool.end();
      await closeStore();
    },
  };
  // Behind a transaction-mode pooler the session guarantees nothing: a transaction per statement.
  const readCommitted: Queryable = traits.sessionIsReadCommitted
    ? database
    : {
        query: (sql, params) => database.transaction((tx) => tx.query(sql, params)),
        exec: (sql) => database.transaction((tx) => tx.exec(sql)),
      };
  return database;
}
