/**
 * What a failure of the database means for the caller — the one place that reads SQLSTATEs,
 * driver codes and pool errors. Retries, HTTP status codes and metrics all ask this module.
 */
import { LockOrderConflict } from '../identity/store.js';

export type DatabaseFailure =
  /** PostgreSQL broke a lock cycle (40P01): run the work again. */
  | 'deadlock'
  /** A serializable transaction could not be ordered (40001): run the work again. */
  | 'serialization'
  /** The locks needed could only be taken out of order and were held: read again and retry. */
  | 'lock_order'
  /** The server is not there: refused, reset, shut down, starting, out of connections. */
  | 'unavailable'
  /** The server is there, but every pool connection stayed busy for the whole wait. */
  | 'busy'
  /** Anything else: a bug, or a table or function that is not what the service expects. */
  | 'other';

/** The pool waited its whole `connectionTimeoutMillis` while every connection was in use. */
export class PoolBusyError extends Error {
  override name = 'PoolBusyError';
  constructor(readonly waitedMs: number) {
    super(`every database connection stayed busy for ${waitedMs} ms`);
  }
}

const UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown (also pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/**
 * Messages of `pg` and `pg-pool` errors that carry no code: a connection that ended under a
 * query, and a connect that timed out (when the pool was not full, so the server is slow or gone).
 */
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

export function classifyDatabaseError(error: unknown): DatabaseFailure {
  if (error instanceof PoolBusyError) return 'busy';
  if (error instanceof LockOrderConflict) return 'lock_order';
  if (typeof error !== 'object' || error === null) return 'other';
  const code = String((error as { code?: unknown }).code ?? '');
  if (code === '40P01') return 'deadlock';
  if (code === '40001') return 'serialization';
  if (code.startsWith('08') || UNAVAILABLE_CODES.has(code)) return 'unavailable';
  if (code === '' && UNAVAILABLE_MESSAGES.test(String((error as { message?: unknown }).message ?? ''))) return 'unavailable';
  return 'other';
}

/** Work that failed this way may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const failure = classifyDatabaseError(error);
  return failure === 'deadlock' || failure === 'serialization' || failure === 'lock_order';
}
