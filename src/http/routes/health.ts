/** Liveness (the process answers) and readiness (the database answers). */
import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../../db/database.js';
import { AppError } from '../errors.js';

export function healthRoutes(db: Queryable) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/health', async () => ({ status: 'ok' }));
    app.get('/ready', async () => {
      try {
        await db.query('SELECT 1');
      } catch {
        throw new AppError(503, 'DATABASE_UNAVAILABLE', 'The database is not reachable.');
      }
      return { status: 'ready' };
    });
  };
}
